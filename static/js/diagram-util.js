// Small helpers shared by the diagram modules: element creation, writes that skip
// unchanged values, and scans of the frame's nested arrays.
//
// The last value written to an element is remembered in a module-private WeakMap, never
// as a property on the element, so any diagram module may call these on any element.

const SVG_NS = "http://www.w3.org/2000/svg";
const written = new WeakMap(); // element → Map(key → last value written)

export function svgEl(tag, attrs, parent) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const k in attrs) el.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(el);
  return el;
}

export function htmlEl(tag, cls, parent) {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  if (parent) parent.appendChild(el);
  return el;
}

function memo(el) {
  let m = written.get(el);
  if (!m) {
    m = new Map();
    written.set(el, m);
  }
  return m;
}

/** Set an attribute only when its value changed: most draws change few of them. */
export function setAttr(el, name, value) {
  const m = memo(el);
  if (m.get(name) !== value) {
    m.set(name, value);
    el.setAttribute(name, value);
  }
}

export function setText(el, value) {
  const m = memo(el);
  if (m.get("#text") !== value) {
    m.set("#text", value);
    el.textContent = value;
  }
}

export function setClass(el, cls, on) {
  const m = memo(el);
  const key = "." + cls;
  if (m.get(key) !== on) {
    m.set(key, on);
    el.classList.toggle(cls, on);
  }
}

export function setHidden(el, hidden) {
  if (el.hidden !== hidden) el.hidden = hidden;
}

export const isNum = (v) => typeof v === "number" && Number.isFinite(v);

/** Largest finite |v| in a nested array (acc if none). */
export function maxAbs(arr, acc = 0) {
  if (!arr) return acc;
  for (const v of arr) {
    if (Array.isArray(v)) acc = maxAbs(v, acc);
    else if (isNum(v) && Math.abs(v) > acc) acc = Math.abs(v);
  }
  return acc;
}

/** How many entries of a nested array are not finite numbers (null: NaN or ±∞ on the wire). */
export function countNonFinite(arr) {
  if (!arr) return 0;
  let n = 0;
  for (const v of arr) n += Array.isArray(v) ? countNonFinite(v) : isNum(v) ? 0 : 1;
  return n;
}

// A layer sent as all-null means "not computed yet" (the page shows the weights
// instead); a single null among numbers is a real non-finite value (shown as NaN).
export function hasFinite(arr) {
  if (!arr) return false;
  for (const v of arr) {
    if (Array.isArray(v) ? hasFinite(v) : isNum(v)) return true;
  }
  return false;
}

export function argmax(arr) {
  let best = -1;
  let bv = -Infinity;
  arr?.forEach((v, k) => {
    if (isNum(v) && v > bv) { bv = v; best = k; }
  });
  return best;
}

export const r1 = (v) => Math.round(v * 10) / 10;
