// At most one call every `ms` while `limited()` says so (a run that is training): a call
// that comes sooner is made once, when the time is up, and reads what is current then.

export function throttle(ms, run, limited = () => true) {
  let at = -Infinity;
  let timer = 0;
  const call = () => {
    const wait = limited() ? ms - (performance.now() - at) : 0;
    if (wait > 0) {
      timer ||= setTimeout(() => { timer = 0; call(); }, wait);
      return;
    }
    at = performance.now();
    run();
  };
  return call;
}
