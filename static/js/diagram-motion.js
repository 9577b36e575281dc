// Motion that explains order, in phase (slow) mode: the forward signal travels along
// the edges left→right (a dark packet as wide as |w·a|, what each edge adds to z), δ
// travels back right→left (as wide as |w·δ|), the cost pulses the output, and
// the update flashes every edge as wide as its ΔW on a scale held across updates (so a
// 10× learning rate flashes 10× wider). prefers-reduced-motion: none of it.
//
// The waves last about as long as a phase is on screen: the time between the last two
// phase changes (a "slower" speed gets slow waves), within [MIN_WAVE_MS, MAX_WAVE_MS];
// the flash lasts as long, or FLASH_MS if that is longer.
//
// The flash scale is held for the network (its structure), across resets and changes of
// α, so that the width of a flash compares updates; a resize or a redraw keeps it. Full
// width is HEADROOM × the first update's largest |ΔW|: a bigger update has room to look
// bigger before it reaches full width.

import { isNum, maxAbs, r1 } from "./diagram-util.js";

const MIN_WAVE_MS = 380;
const MAX_WAVE_MS = 1800;
const STEP_WAVE_MS = 600; // a single step (no rhythm to follow)
const FLASH_MS = 650;
const HEADROOM = 2;
const SIGNAL_FLOOR = 0.3; // the weakest signal still shows
const r2 = (v) => Math.round(v * 100) / 100; // flash widths: fine enough to compare two updates

export class Motion {
  constructor(root) {
    this.root = root;
    this.flip = false;
    this.lastKey = null;
    this.lastAt = -Infinity;
    this.waveMs = 0;
    this.flash = null; // {scale (|ΔW| drawn full width), since, structure}: the held ΔW scale
    this.shown = null; // what the current phase draws: {kind: fwd|bwd|pulse|flash, layer}
  }

  /** The elements were rebuilt: the current phase animates again on them. */
  reset() {
    this.lastKey = null;
    this.shown = null;
  }

  // Alternate between two identical keyframe sets so that re-adding the class restarts
  // the animation without forcing a layout.
  _cls(name) {
    this.flip = !this.flip;
    return name + (this.flip ? "-a" : "-b");
  }

  /** The cursor moved (or not): start the animation of the new phase. d: the diagram's parts. */
  onFrame(f, d, animate) {
    const cur = f.cursor || {};
    const key = `${cur.phase}:${cur.layer}:${f.step}`;
    if (key === this.lastKey) {
      if (!animate) this.shown = null;
      return;
    }
    this.lastKey = key;
    if (cur.phase === "update") this._holdScale(f);
    this.shown = null;
    if (!animate) return;
    const now = performance.now();
    this._pace(now - this.lastAt);
    this.lastAt = now;
    const L = f.sizes.length;
    const l = cur.layer;
    if (cur.phase === "forward" && l >= 1) this._wave(f, d, l - 1, "fwd");
    else if (cur.phase === "backward" && l >= 0 && l < L - 1) this._wave(f, d, l, "bwd");
    else if (cur.phase === "backward" && l === L - 1) this._pulse(d, L - 1);
    else if (cur.phase === "cost") this._pulse(d, L - 1);
    else if (cur.phase === "update") this._flash(f, d);
  }

  _pace(sinceLast) {
    const ms = sinceLast > 4000 ? STEP_WAVE_MS
      : Math.round(Math.max(MIN_WAVE_MS, Math.min(MAX_WAVE_MS, 0.85 * sinceLast)) / 50) * 50;
    if (ms !== this.waveMs) {
      this.waveMs = ms;
      this.root.style.setProperty("--nd-wave", ms + "ms");
      this.root.style.setProperty("--nd-flash", Math.max(FLASH_MS, ms) + "ms");
    }
  }

  _holdScale(f) {
    const max = maxAbs(f.update?.W);
    const stale = !this.flash || f.structure !== this.flash.structure;
    if (stale && max > 0) this.flash = { scale: HEADROOM * max, headroom: HEADROOM, since: f.step ?? 0, structure: f.structure };
  }

  // Weight layer l's edges carry a signal: forward w_ij·a_j (into z of layer l+1),
  // backward w_ij·δ_i (back to layer l), each edge coloured by its share of the largest.
  _wave(f, d, l, dir) {
    const e = d.edges[l];
    const g = d.fxGroups[l];
    if (!e || !g) return;
    this.shown = { kind: dir, layer: l };
    const W = f.weights?.[l];
    const src = dir === "fwd" ? f.focus?.a?.[l] : f.focus?.delta?.[l + 1];
    const sig = (i, j) => (e.bundle || !W?.[i] ? null : W[i][j] * (dir === "fwd" ? src?.[j] : src?.[i]));
    let max = 0;
    for (let i = 0; i < e.nTo; i++) {
      for (let j = 0; j < e.nFrom; j++) {
        const v = sig(i, j);
        if (isNum(v)) max = Math.max(max, Math.abs(v));
      }
    }
    e.fx.forEach((el, idx) => {
      const v = sig(Math.floor(idx / e.nFrom), idx % e.nFrom);
      const t = isNum(v) && max > 0 ? SIGNAL_FLOOR + (1 - SIGNAL_FLOOR) * Math.abs(v) / max : SIGNAL_FLOOR;
      el.removeAttribute("stroke");
      el.setAttribute("stroke-width", r1(2 + 5 * t));
    });
    g.setAttribute("class", "nd-fx " + this._cls(dir));
  }

  _pulse(d, l) {
    this.shown = { kind: "pulse", layer: l };
    const cls = this._cls("pulse");
    d.cols[l].classList.remove("pulse-a", "pulse-b");
    d.cols[l].classList.add(cls);
    for (const n of d.nodes[l]) {
      n.canvas.cv.classList.remove("pulse-a", "pulse-b");
      n.canvas.cv.classList.add(cls);
    }
  }

  // Update: each edge flashes, as wide as the change ΔW it just received, on the held scale.
  _flash(f, d) {
    const U = f.update?.W;
    const scale = this.flash?.scale || Math.max(maxAbs(U), 1e-12);
    const cls = this._cls("flash");
    this.shown = { kind: "flash", layer: null };
    d.edges.forEach((e, l) => {
      const M = U?.[l];
      if (!M) return;
      e.fx.forEach((el, idx) => {
        const row = e.bundle ? M[idx] : M[Math.floor(idx / e.nFrom)];
        const v = e.bundle ? maxAbs(row) : row?.[idx % e.nFrom];
        el.removeAttribute("stroke");
        el.setAttribute("stroke-width", isNum(v) ? r2(1 + 6 * Math.min(1, Math.abs(v) / scale)) : 0);
      });
      d.fxGroups[l].setAttribute("class", "nd-fx " + cls);
    });
  }
}
