// The timeline: a slider over the session's history snapshots. Dragging it shows the
// network and the boundary as they were (the server builds that moment's frame; live
// frames are held back meanwhile); "Resume from here" makes that moment the present.
//
// Live, the thumb sits at the far right (the present). The history is fetched when the
// slider is touched; a click that lands before it arrives is kept as a fraction of the
// track and applied once the history is known, so the first click is never lost.

import { throttle } from "./throttle.js";

// While training streams frames, the live label ("live · step N") follows ~20×/s.
const LABEL_RUNNING_MS = 50;

export class Timeline {
  constructor({ slider, label, resume, live, api, show, onViewing }) {
    Object.assign(this, { slider, label, resume, live, api, show, onViewing });
    this.steps = [];
    this.viewing = false;
    this.pending = null;
    this.loading = null;  // the /timeline request in flight
    this.grab = null;     // where a pointer pressed the track (0…1) before the history came
    this.present = null;  // the session now (the /pause reply) while the past is shown
    this._atPresent(1);
    slider.addEventListener("focus", () => this.refresh());
    slider.addEventListener("pointerdown", (ev) => this._press(ev));
    slider.addEventListener("input", () => this._moved());
    resume.addEventListener("click", () => this.restore());
    live.addEventListener("click", () => this.leave());
  }

  // The slider's end is the present; max ≥ 1 so that "the end" is the far right.
  _atPresent(max) {
    this.slider.max = String(Math.max(1, max));
    this.slider.value = this.slider.max;
  }

  refresh() {
    if (this.loading) return this.loading;
    this.loading = (async () => {
      try {
        const body = await (await this.api("/timeline")).json();
        this.steps = body.steps || [];
        if (this.viewing) this.slider.max = String(Math.max(1, this.steps.length - 1));
        else this._atPresent(this.steps.length - 1);
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  _press(ev) {
    const r = this.slider.getBoundingClientRect();
    this.grab = r.width > 0 ? Math.max(0, Math.min(1, (ev.clientX - r.left) / r.width)) : null;
    // A press that did not move the value (no "input": e.g. the track had one position
    // yet) still goes where it pointed once the history is known.
    this.refresh().then(() => { if (this.grab !== null) this._moved(); }, () => {});
  }

  async _moved() {
    const grab = this.grab;
    this.grab = null;
    if (this.loading || !this.steps.length) {
      try { await this.refresh(); } catch { return; }
    }
    const last = this.steps.length - 1;
    if (last < 0) return;
    let index = Number(this.slider.value);
    // A press before the history was known: the same place on the track, now.
    if (grab !== null && !this.viewing) index = Math.round(grab * last);
    index = Math.max(0, Math.min(last, index));
    if (String(index) !== this.slider.value) this.slider.value = String(index);
    this.view(index);
  }

  async view(index) {
    if (!this.viewing) {
      this.setViewing(true);
      this.present = null;
      const paused = await this.api("/pause", { method: "POST" });
      if (paused.ok) this.present = await paused.json().catch(() => null);
    }
    this._label(`step ${(this.steps[index] ?? "?").toLocaleString("en-US")}`);
    // Only the newest request matters while dragging.
    const token = (this.pending = {});
    const response = await this.api(`/timeline/${index}`);
    if (token !== this.pending || !this.viewing || !response.ok) return;
    const frame = await response.json();
    // A past moment's frame carries the status it had then ("running" if it was taken
    // while training); the Play button and the page's status are the present's, which
    // the server's /pause reply gave (paused, or diverged with its message).
    if (this.present?.status) Object.assign(frame, { status: this.present.status, message: this.present.message });
    this.show(frame);
  }

  async restore() {
    const index = Number(this.slider.value);
    const r = await this.api(`/timeline/${index}/restore`, { method: "POST" });
    if (r.ok) this.leave();
  }

  leave() {
    this.setViewing(false);
    this._label("live");
    this._atPresent(this.steps.length - 1);
    this.refresh().catch(() => {});
  }

  setViewing(on) {
    this.viewing = on;
    this.resume.disabled = !on;
    this.live.disabled = !on;
    this.onViewing(on);
  }

  _label(text) {
    if (this.label.textContent !== text) {
      this.label.textContent = text;
      this.slider.setAttribute("aria-valuetext", text);
    }
  }

  // Live frames: the label follows the step and the thumb stays at the present, cheaply.
  follow(frame) {
    if (this.viewing) {
      // The present goes on (e.g. Play pressed while the past is shown): keep its status.
      this.present = { status: frame.status, message: frame.message };
      return;
    }
    this.newest = frame;
    this.showLive();
  }

  // The live label and thumb, for the newest frame (unless the past is shown by then).
  showLive = throttle(LABEL_RUNNING_MS, () => {
    if (this.viewing) return;
    this._label(`live · step ${this.newest.step.toLocaleString("en-US")}`);
    if (this.slider.value !== this.slider.max) this.slider.value = this.slider.max;
  }, () => this.newest.status === "running");
}
