// The right column's charts: the loss (and accuracy) curves and the decision boundary
// with the data points. They are drawn by the page itself, SVG for the axes, curves and
// points and a canvas for the boundary's surface, so the first load carries no chart
// library (Plotly, loaded by loadPlotly, serves only the panels that need it).
// Updates are throttled: the loss curve at most once a second while training streams
// (~5×/s otherwise), the boundary surface ~10×/s; the points are drawn once per data set.

import { fmt, fmtInt, WEIGHT_SCALE } from "./format.js";
import { PlotFrame, svg } from "./plot.js";

const LOSS_FLUSH_MS = 200;          // paused / stepping
const LOSS_FLUSH_RUNNING_MS = 1000; // while training streams frames
const LOSS_QUIET_MS = 200;          // …unless no new step came for this long
const BOUNDARY_MS = 100;
const RECOLOUR_RUNNING_MS = 2000;   // regression points follow the surface's range this often
const MAX_POINTS = 5000;

const isNum = (v) => typeof v === "number" && Number.isFinite(v);
const num = (v) => (isNum(v) ? v : null); // a gap in the curve

// Classes of a 2-D problem: two take the ends of the orange–blue scale, as the surface
// does; with more, the first and last stay orange and blue and the middle ones get
// distinct dark or saturated colours (never the scale's white middle: white on white).
// Greens and purples are left out: they mean δ and gradients.
const MIDDLE_CLASSES = ["#4d4d4d", "#d55e00", "#56b4e9", "#c9a800", "#7a5230", "#000000", "#e69f00", "#9aa5b1"];
const NO_COLOUR = "#9aa5b1";

/** One CSS colour per class 0…k−1. */
export function classColours(k) {
  if (k <= 2) return [WEIGHT_SCALE.neg, WEIGHT_SCALE.pos];
  const middle = Array.from({ length: k - 2 }, (_, c) => MIDDLE_CLASSES[c % MIDDLE_CLASSES.length]);
  return [WEIGHT_SCALE.neg, ...middle, WEIGHT_SCALE.pos];
}

/** v on the orange–blue scale over lo…hi. */
function scaleColour(v, lo, hi) {
  if (!isNum(v)) return NO_COLOUR;
  const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
  return WEIGHT_SCALE.css[Math.max(0, Math.min(255, Math.round(t * 255)))];
}

const rgbOf = (hex) => [1, 3, 5].map((o) => parseInt(hex.slice(o, o + 2), 16));

let plotlyPromise = null;

/** Load the vendored Plotly once (a <script src>, no inline script); resolves to Plotly. */
export function loadPlotly(src = "/static/vendor/plotly-cartesian-3.0.1.min.js") {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (plotlyPromise) return plotlyPromise;
  plotlyPromise = new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = src;
    s.async = true;
    s.addEventListener("load", () => {
      if (window.Plotly) resolve(window.Plotly);
      else reject(new Error("Plotly did not load from " + src));
    });
    s.addEventListener("error", () => {
      plotlyPromise = null; // allow a retry
      reject(new Error("Could not load " + src));
    });
    document.head.appendChild(s);
  });
  return plotlyPromise;
}

/** An SVG path through (x, y) pairs; a null y starts a new piece (a gap). */
function linePath(xs, ys, px, py) {
  let d = "";
  let pen = false;
  for (let k = 0; k < xs.length; k++) {
    const y = ys[k];
    if (y === null) { pen = false; continue; }
    d += (pen ? "L" : "M") + px(xs[k]).toFixed(1) + "," + py(y).toFixed(1);
    pen = true;
  }
  return d;
}

const percent = (x) => `${(100 * x).toFixed(1)} %`;

// ---------------------------------------------------------------------------

const SERIES = [
  // key, name, dash, colour, axis, width
  ["train", "train J", null, "#222", "y", 2],
  ["test", "test J", "6 4", "#222", "y", 2],
  ["accTrain", "train acc.", null, "#999", "y2", 1.5],
  ["accTest", "test acc.", "6 4", "#999", "y2", 1.5],
];

/** Train/test loss (and accuracy on a second y axis when there is one) against step. */
export class LossChart {
  constructor(el) {
    this.el = el;
    this.frame = new PlotFrame(el, { label: "Loss curve", onResize: () => this._draw(), onPng: () => this.downloadPng() });
    const s = this.frame.svg;
    this.gAxes = svg("g", {}, s);
    this.gLines = svg("g", {}, s);
    this.paths = SERIES.map(([key, name, dash, colour, , width]) => svg("path", {
      class: `loss-line loss-${key}`, fill: "none", stroke: colour, "stroke-width": width,
      "stroke-dasharray": dash, "stroke-linejoin": "round", "data-name": name,
    }, this.gLines));
    this.viewLine = svg("line", { class: "loss-view", stroke: "#183b56", "stroke-width": 1.5, "stroke-dasharray": "2 3" }, s);
    this.viewLine.style.display = "none";
    this.gLegend = svg("g", { class: "chart-legend" }, s);
    this.hair = svg("line", { class: "chart-hover", stroke: "#888", "stroke-width": 1 }, s);
    this.hair.style.display = "none";
    s.addEventListener("pointermove", (ev) => this._hover(ev));
    s.addEventListener("pointerleave", () => this._hover(null));
    this.timer = 0;
    this.due = 0;
    this.lastFlush = -Infinity;
    this.lastPush = 0;
    this.running = false;
    this.viewStep = null;   // the step shown from the past (timeline), or null
    this.generation = undefined;
    this.scales = null;
    this._clear();
    this.ready = Promise.resolve(this);
  }

  _clear() {
    this.d = { step: [], train: [], test: [], accTrain: [], accTest: [] };
    this.pend = { step: [], train: [], test: [], accTrain: [], accTest: [] };
    this.lastStep = -Infinity;
  }

  /** Replace everything with a /history response (or nothing). */
  reset(history) {
    this._clear();
    const h = history || {};
    const steps = h.step || [];
    steps.forEach((s, k) => {
      this._append(this.d, s, h.train?.[k], h.test?.[k], h.accuracy_train?.[k], h.accuracy_test?.[k]);
    });
    if (steps.length) this.lastStep = steps[steps.length - 1];
    this._downsample();
    this._draw();
  }

  /**
   * Add the frame's losses if its step advanced. Drawn in batches: while the status is
   * "running", at most once a second (or as soon as no new step came for 200 ms, e.g.
   * the stream stopped); otherwise within 200 ms.
   */
  push(frame) {
    if (!frame) return;
    const running = frame.status === "running";
    if (running !== this.running) {
      this.running = running;
      if (this.pend.step.length) this._schedule();
    }
    if (!isNum(frame.step)) return;
    if (frame.step < this.lastStep) {
      // The same run at an earlier step is a moment of the past (the timeline): keep the
      // curve and mark the step. Another generation: training was reset.
      if (frame.generation !== undefined && frame.generation === this.generation) {
        this._markStep(frame.step);
        return;
      }
      this.reset(null);
    }
    this.generation = frame.generation;
    this._markStep(null);
    if (frame.step <= this.lastStep) return;
    this.lastStep = frame.step;
    this.lastPush = performance.now();
    const acc = frame.accuracy || {};
    this._append(this.pend, frame.step, frame.loss?.train, frame.loss?.test, acc.train, acc.test);
    if (!this.timer) this._schedule();
  }

  // The next flush: the earliest of "enough time since the last flush" and, while
  // running, "quiet for LOSS_QUIET_MS". A timer that fires early just re-arms.
  _schedule() {
    const now = performance.now();
    const due = this.running
      ? Math.min(this.lastFlush + LOSS_FLUSH_RUNNING_MS, this.lastPush + LOSS_QUIET_MS)
      : this.lastFlush + LOSS_FLUSH_MS;
    if (this.timer) {
      if (due >= this.due) return;
      clearTimeout(this.timer);
    }
    this.due = Math.max(now, due);
    this.timer = setTimeout(() => {
      this.timer = 0;
      if (this.running && performance.now() + 1 < Math.min(this.lastFlush + LOSS_FLUSH_RUNNING_MS, this.lastPush + LOSS_QUIET_MS)) {
        this._schedule(); // more frames came: wait for the quiet or the second
        return;
      }
      this._flush();
    }, this.due - now);
  }

  // A dotted line at the step the page shows from the past (null: none, live).
  _markStep(step) {
    if (step === this.viewStep) return;
    this.viewStep = step;
    this._drawView();
  }

  destroy() {
    clearTimeout(this.timer);
    this.timer = 0;
  }

  _append(t, step, tr, te, at, ae) {
    t.step.push(step);
    t.train.push(num(tr));
    t.test.push(num(te));
    t.accTrain.push(num(at));
    t.accTest.push(num(ae));
  }

  _flush() {
    this.timer = 0;
    this.lastFlush = performance.now();
    const p = this.pend;
    if (!p.step.length) return;
    for (const k in p) this.d[k].push(...p[k]);
    this.pend = { step: [], train: [], test: [], accTrain: [], accTest: [] };
    this._downsample();
    this._draw();
  }

  // Keep ≤ MAX_POINTS: thin the older half to every other point. Returns true if thinned.
  _downsample() {
    const n = this.d.step.length;
    if (n <= MAX_POINTS) return false;
    const keep = MAX_POINTS / 2;
    const cut = n - keep;
    for (const k in this.d) {
      const a = this.d[k];
      this.d[k] = a.slice(0, cut).filter((_, i) => i % 2 === 0).concat(a.slice(cut));
    }
    return this._downsample() || true;
  }

  _draw() {
    const fr = this.frame;
    if (!fr.ready) return;
    const d = this.d;
    const hasAcc = d.accTrain.some(isNum) || d.accTest.some(isNum);
    const z = fr.z;
    const box = { l: 46 * z, t: 26 * z, r: hasAcc ? 40 * z : 12, b: 34 * z };
    box.w = Math.max(10, fr.w - box.l - box.r);
    box.h = Math.max(10, fr.h - box.t - box.b);
    const steps = d.step;
    const x = { lo: Math.min(0, steps[0] ?? 0), hi: Math.max(1, steps[steps.length - 1] ?? 1), title: "step" };
    let hi = -Infinity;
    let lo = 0;
    for (const k of ["train", "test"]) for (const v of d[k]) if (v !== null) { hi = Math.max(hi, v); lo = Math.min(lo, v); }
    if (!(hi > lo)) hi = lo + 1;
    const y = { lo, hi: hi + 0.05 * (hi - lo), title: "cost J" };
    const y2 = hasAcc ? { lo: 0, hi: 1, title: "accuracy", format: (v) => `${Math.round(100 * v)}%` } : null;
    this.scales = fr.axes(this.gAxes, box, x, y, y2);
    this.box = box;
    const { px, py, py2 } = this.scales;
    SERIES.forEach(([key, , , , axis], k) => {
      const p = this.paths[k];
      const shown = axis === "y" || hasAcc;
      p.setAttribute("d", shown ? linePath(steps, d[key], px, axis === "y" ? py : py2) : "");
      p.dataset.points = shown ? String(d[key].filter((v) => v !== null).length) : "0";
    });
    this._drawLegend(hasAcc);
    this._drawView();
  }

  _drawLegend(hasAcc) {
    const g = this.gLegend;
    g.replaceChildren();
    const fs = this.frame.font(10.5 / 11);
    let x = 4;
    const y = Math.max(fs, 26 * this.frame.z - fs);
    for (const [, name, dash, colour, axis, width] of SERIES) {
      if (axis === "y2" && !hasAcc) continue;
      svg("line", { x1: x, x2: x + 22, y1: y - fs * 0.35, y2: y - fs * 0.35, stroke: colour, "stroke-width": width, "stroke-dasharray": dash }, g);
      const t = svg("text", { x: x + 26, y, "font-size": fs, fill: "#333" }, g);
      t.textContent = name;
      x += 34 + name.length * fs * 0.55;
    }
  }

  _drawView() {
    const v = this.viewStep;
    const line = this.viewLine;
    if (!isNum(v) || !this.scales) {
      line.style.display = "none";
      delete line.dataset.step;
      return;
    }
    const X = this.scales.px(v).toFixed(1);
    line.setAttribute("x1", X);
    line.setAttribute("x2", X);
    line.setAttribute("y1", this.box.t);
    line.setAttribute("y2", this.box.t + this.box.h);
    line.dataset.step = String(v);
    line.style.display = "";
  }

  // The values at the step nearest the pointer.
  _hover(ev) {
    const d = this.d;
    const fr = this.frame;
    if (!ev || !this.scales || !d.step.length) {
      this.hair.style.display = "none";
      fr.showTip(null);
      return;
    }
    const r = fr.svg.getBoundingClientRect();
    const X = ev.clientX - r.left;
    const { px } = this.scales;
    let a = 0;
    let b = d.step.length - 1;
    while (b - a > 1) {
      const m = (a + b) >> 1;
      if (px(d.step[m]) < X) a = m; else b = m;
    }
    const k = Math.abs(px(d.step[a]) - X) <= Math.abs(px(d.step[b]) - X) ? a : b;
    const lines = [`step ${fmtInt(d.step[k])}`];
    for (const [key, name, , , axis] of SERIES) {
      const v = d[key][k];
      if (v !== null) lines.push(`${name}: ${axis === "y" ? fmt(v) : percent(v)}`);
    }
    const H = px(d.step[k]).toFixed(1);
    this.hair.setAttribute("x1", H);
    this.hair.setAttribute("x2", H);
    this.hair.setAttribute("y1", this.box.t);
    this.hair.setAttribute("y2", this.box.t + this.box.h);
    this.hair.style.display = "";
    fr.showTip(lines, X, ev.clientY - r.top);
  }

  /** Download the curves as a PNG. */
  downloadPng(filename = "loss") {
    return this.frame.ready ? this.frame.download(filename) : Promise.resolve();
  }
}

// ---------------------------------------------------------------------------

/**
 * Decision boundary (or regression surface) over the plane, with the data points.
 *
 * The coloured surface is a small <canvas> under the SVG's transparent plot area: the
 * res × res bytes go through a 256-entry lookup table into putImageData (values
 * interpolated UPSAMPLE× in JS, then scaled up by CSS with smoothing; its colours at
 * 62 % on white). The SVG holds the axes and the points, which do not change while
 * training. Hover says the output under the pointer (the grid's byte, decoded to its
 * value in the frame's range) or a point's coordinates and label.
 */
const SURFACE_OPACITY = 0.62; // lighter than the points, so class-coloured points stay visible
const UPSAMPLE = 4;           // canvas pixels per grid cell (values interpolated in between)
// Colour index → the surface's colour: WEIGHT_SCALE at 62 % opacity on white.
const SURFACE_LUT = (() => {
  const lut = new Uint8ClampedArray(1024);
  const src = WEIGHT_SCALE.rgba;
  for (let k = 0; k < 1024; k++) lut[k] = (k & 3) === 3 ? 255 : Math.round(255 + SURFACE_OPACITY * (src[k] - 255));
  return lut;
})();

export class BoundaryChart {
  constructor(el) {
    this.el = el;
    this.frame = new PlotFrame(el, { label: "Decision boundary", onResize: () => this._layout(), onPng: () => this.downloadPng() });
    // The surface: a clip box exactly over the plot area, the canvas inside it.
    this.clip = document.createElement("div");
    this.clip.className = "chart-surface";
    this.clip.setAttribute("aria-hidden", "true");
    this.clip.hidden = true;
    this.canvas = document.createElement("canvas");
    this.canvas.width = this.canvas.height = 1;
    this.clip.appendChild(this.canvas);
    this.frame.plot.insertBefore(this.clip, this.frame.svg);
    this.ctx = this.canvas.getContext("2d");
    const s = this.frame.svg;
    this.gAxes = svg("g", {}, s);
    this.gTrain = svg("g", { class: "points-train" }, s);
    this.gTest = svg("g", { class: "points-test" }, s);
    s.addEventListener("pointermove", (ev) => this._hover(ev));
    s.addEventListener("pointerleave", () => this.frame.showTip(null));
    s.addEventListener("click", (ev) => {
      const i = ev.target.closest?.("circle.pt-train")?.dataset.i;
      if (i !== undefined && this.onPointClick) this.onPointClick(Number(i));
    });
    this.data = null;
    this.boundary = null;
    this.status = null;
    this.opts = { showTest: true, discretize: false };
    this.timer = 0;
    this.lastDraw = 0;
    this.drawn = null;       // what the canvas currently shows
    this.painted = null;     // the boundary object painted on the canvas (null: none)
    this.pointRange = null;  // the value range the points are coloured over
    this.lastRecolour = -Infinity;
    this.box = null;         // the plot area, px
    this.scales = null;
    this.onPointClick = null; // (index) => …: a training point was clicked (index into data.train)
    this.ready = Promise.resolve(this);
  }

  /** The /data response: train (filled) and test (outlined) points, the extent. */
  setData(data) {
    this.data = data;
    this.drawn = null;
    this.pointRange = this._classification() ? null : this._pointRange(data?.train);
    this._layout();
    this._drawBoundary();
  }

  /** Show frame.boundary; throttled to ~10 updates a second (a canvas paint each). */
  update(frame) {
    if (!frame) return;
    this.boundary = frame.boundary === undefined ? this.boundary : frame.boundary;
    this.status = frame.status;
    if (this.timer) return;
    const wait = Math.max(0, BOUNDARY_MS - (performance.now() - this.lastDraw));
    this.timer = setTimeout(() => {
      this.timer = 0;
      this.lastDraw = performance.now();
      this._drawBoundary();
    }, wait);
  }

  /** showTest: draw the test points. discretize: threshold the output at 0.5. */
  setOptions(o = {}) {
    Object.assign(this.opts, o);
    this.gTest.style.display = this.opts.showTest ? "" : "none";
    this.drawn = null;
    this._drawBoundary();
  }

  destroy() {
    clearTimeout(this.timer);
    this.timer = 0;
  }

  _extent() {
    return this.data?.extent || this.boundary?.extent || [-6, 6, -6, 6];
  }

  _classification() {
    return (this.data?.problem || "classification") === "classification";
  }

  // Point colours on the same orange–blue scale as the surface: a class index over
  // 0…classes−1, or a regression target over the boundary's value range.
  _pointRange(points) {
    if (this._classification()) return [0, Math.max(1, (this.data?.classes || 2) - 1)];
    const r = this.boundary?.range;
    if (r && isNum(r[0]) && isNum(r[1])) return r;
    const ys = (points?.y || []).filter(isNum);
    return [Math.min(...ys, 0), Math.max(...ys, 1)];
  }

  // Three or more classes: one colour per class (classColours), surface and points alike.
  _categories() {
    const k = this.data?.classes || 0;
    return this._classification() && k > 2 ? k : 0;
  }

  _colour(y) {
    const k = this._categories();
    if (k) return classColours(k)[y] ?? NO_COLOUR;
    const [lo, hi] = this._classification() ? [0, Math.max(1, (this.data?.classes || 2) - 1)] : this.pointRange;
    return scaleColour(y, lo, hi);
  }

  // The axes (one square plot area: x₁ and x₂ at the same scale), the points, the surface's box.
  _layout() {
    const fr = this.frame;
    if (!fr.ready || !this.data) return;
    const z = fr.z;
    const [x0, x1, y0, y1] = this._extent();
    const m = { l: 36 * z, r: 8, t: 8, b: 36 * z };
    const aw = fr.w - m.l - m.r;
    const ah = fr.h - m.t - m.b;
    const unit = Math.max(1e-9, Math.min(aw / (x1 - x0), ah / (y1 - y0)));
    const box = { w: unit * (x1 - x0), h: unit * (y1 - y0) };
    box.l = m.l + (aw - box.w) / 2;
    box.t = m.t + (ah - box.h) / 2;
    this.box = box;
    this.scales = fr.axes(this.gAxes, box, { lo: x0, hi: x1, title: "x₁" }, { lo: y0, hi: y1, title: "x₂" },
      null, "rgba(220,220,220,0.45)");
    this._drawPoints();
    this._place();
  }

  _drawPoints() {
    const { px, py } = this.scales;
    const put = (g, p, train) => {
      g.replaceChildren();
      (p?.x || []).forEach(([a, b], i) => {
        const colour = this._colour(p.y?.[i]);
        svg("circle", train
          ? { class: "pt pt-train", cx: px(a).toFixed(1), cy: py(b).toFixed(1), r: 3, fill: colour, stroke: "#fff", "stroke-width": 0.8, "data-i": i }
          : { class: "pt pt-test", cx: px(a).toFixed(1), cy: py(b).toFixed(1), r: 3.25, fill: "none", stroke: colour, "stroke-width": 1.8, "data-i": i }, g);
      });
    };
    put(this.gTrain, this.data.train, true);
    put(this.gTest, this.data.test, false);
    this.gTest.style.display = this.opts.showTest ? "" : "none";
  }

  // Regression: the points are coloured over the range of the surface; follow it when it
  // moved by more than 2 % (at most every RECOLOUR_RUNNING_MS while training runs).
  _recolour() {
    const r = this.painted?.range;
    const p = this.pointRange;
    if (this._classification() || !r || !this.scales) return;
    const span = Math.max(Math.abs(r[1] - r[0]), 1e-12);
    if (p && Math.abs(r[0] - p[0]) <= 0.02 * span && Math.abs(r[1] - p[1]) <= 0.02 * span) return;
    const now = performance.now();
    if (this.status === "running" && now - this.lastRecolour < RECOLOUR_RUNNING_MS) return;
    this.lastRecolour = now;
    this.pointRange = r;
    for (const [g, p2, attr] of [[this.gTrain, this.data.train, "fill"], [this.gTest, this.data.test, "stroke"]]) {
      [...g.children].forEach((c, i) => c.setAttribute(attr, this._colour(p2.y?.[i])));
    }
  }

  // The surface: its clip box over the plot area, the canvas over the grid's extent in it.
  _place() {
    const box = this.box;
    if (!box) return;
    const { px, py } = this.scales;
    const [ex0, ex1, ey0, ey1] = this.boundary?.extent || this._extent();
    this.placedExtent = String(this.boundary?.extent || this._extent());
    const inner = {
      l: Math.min(px(ex0), px(ex1)) - box.l, t: Math.min(py(ey0), py(ey1)) - box.t,
      w: Math.abs(px(ex1) - px(ex0)), h: Math.abs(py(ey1) - py(ey0)),
    };
    this.inner = inner;
    const r = (v) => Math.round(v * 100) / 100 + "px";
    Object.assign(this.clip.style, { left: r(box.l), top: r(box.t), width: r(box.w), height: r(box.h) });
    Object.assign(this.canvas.style, { left: r(inner.l), top: r(inner.t), width: r(inner.w), height: r(inner.h) });
  }

  // Why the boundary cannot be drawn, or "" if it can.
  // A diverged run whose output is still finite is drawn as it is (true numbers).
  _problem(b) {
    if (!b) return this.data ? "" : "No 2-D data: the decision boundary is drawn only for 2-D problems.";
    const r = b.range;
    if (!b.data || !r || !isNum(r[0]) || !isNum(r[1])) {
      return (this.status === "diverged" ? "Training diverged: the" : "The") +
        " network's output is not a finite number (NaN or ±∞) here, so the boundary is not drawn.";
    }
    return "";
  }

  _drawBoundary() {
    if (!this.data) return;
    const b = this.boundary;
    const problem = this._problem(b);
    this.frame.message(problem);
    if (problem || !b) {
      this.clip.hidden = true;
      this.painted = null;
      this.drawn = "hidden";
      return;
    }
    const key = b.data + "|" + b.range + "|" + b.res + "|" + this.opts.discretize;
    if (key === this.drawn) return;
    if (!this._paint(b)) return;
    this.drawn = key;
    this.clip.dataset.res = String(b.res);
    if (String(b.extent || this._extent()) !== this.placedExtent) this._place();
    this.clip.hidden = false;
    this._recolour();
  }

  // byte → colour index 0…255 (a float): the byte's value in b.range on the colour
  // scale over zmin…zmax = b.range, or, discretized, the pale class colour of its side
  // of 0.5. Interpolated between cells before the colour is looked up, as the old
  // heatmap's zsmooth "best" did (so a class boundary still shows its white edge).
  _levels(lo, hi) {
    const disc = this.opts.discretize && this._classification();
    const key = `${lo}|${hi}|${disc}`;
    if (this.levels?.key === key) return this.levels.map;
    const map = new Float32Array(256);
    for (let q = 0; q < 256; q++) {
      const v = lo + (hi - lo) * q / 255;
      // Discretized: pale class colours, so the data points stay readable on top.
      map[q] = disc ? (v >= 0.5 ? 0.8 : 0.2) * 255 : q;
    }
    this.levels = { key, map };
    return map;
  }

  // For each of n·UPSAMPLE output pixels along an axis: the two grid cells around its
  // centre and the weight of the second (edges clamp, like the old heatmap's).
  _axis(n) {
    if (this.axis?.n === n) return this.axis;
    const N = n * UPSAMPLE;
    const a = { n, N, i0: new Int32Array(N), i1: new Int32Array(N), f: new Float32Array(N) };
    for (let X = 0; X < N; X++) {
      const u = Math.max(0, Math.min(n - 1, (X + 0.5) / UPSAMPLE - 0.5));
      const k = Math.max(0, Math.min(n - 2, Math.floor(u)));
      a.i0[X] = k;
      a.i1[X] = Math.min(n - 1, k + 1);
      a.f[X] = n > 1 ? u - k : 0;
    }
    this.axis = a;
    return a;
  }

  // base64 uint8, row 0 = lowest x₂ → the canvas (screen row 0 = highest x₂), through
  // _levels, bilinear interpolation and SURFACE_LUT.
  _paint(b) {
    const n = b.res;
    let bin;
    try {
      bin = atob(b.data);
    } catch {
      return false;
    }
    if (!(n > 0) || bin.length < n * n) return false;
    const { N, i0, i1, f } = this._axis(n);
    const cv = this.canvas;
    if (cv.width !== N || cv.height !== N) {
      cv.width = N;
      cv.height = N;
      this.img = null;
    }
    if (!this.img) this.img = this.ctx.createImageData(N, N);
    if (this.grid?.length !== n * n) this.grid = new Float32Array(n * n);
    const g = this.grid;
    if (this._categories()) return this._paintClasses(b, bin);
    const map = this._levels(b.range[0], b.range[1]);
    for (let r = 0; r < n; r++) {
      const src = (n - 1 - r) * n;
      for (let c = 0; c < n; c++) g[r * n + c] = map[bin.charCodeAt(src + c)];
    }
    const px = this.img.data;
    const lut = SURFACE_LUT;
    let o = 0;
    for (let Y = 0; Y < N; Y++) {
      const ra = i0[Y] * n;
      const rb = i1[Y] * n;
      const fy = f[Y];
      for (let X = 0; X < N; X++, o += 4) {
        const ca = i0[X];
        const cb = i1[X];
        const fx = f[X];
        const top = g[ra + ca] + (g[ra + cb] - g[ra + ca]) * fx;
        const bot = g[rb + ca] + (g[rb + cb] - g[rb + ca]) * fx;
        const k = ((top + (bot - top) * fy + 0.5) | 0) * 4;
        px[o] = lut[k]; px[o + 1] = lut[k + 1]; px[o + 2] = lut[k + 2]; px[o + 3] = 255;
      }
    }
    this.ctx.putImageData(this.img, 0, 0);
    this.painted = b;
    return true;
  }

  // Three or more classes: each cell the pale colour of its predicted class, nearest
  // cell (no blending: between classes 0 and 2 there is no class 1).
  _paintClasses(b, bin) {
    const n = b.res;
    const k = this._categories();
    const [lo, hi] = b.range;
    const lut = new Uint8ClampedArray(256 * 4);
    const colours = classColours(k).map(rgbOf);
    for (let q = 0; q < 256; q++) {
      const c = Math.max(0, Math.min(k - 1, Math.round(lo + (hi - lo) * q / 255)));
      for (let ch = 0; ch < 3; ch++) lut[q * 4 + ch] = Math.round(255 + SURFACE_OPACITY * 0.7 * (colours[c][ch] - 255));
      lut[q * 4 + 3] = 255;
    }
    const { N, i0, i1, f } = this._axis(n);
    const px = this.img.data;
    let o = 0;
    for (let Y = 0; Y < N; Y++) {
      const row = n - 1 - (f[Y] < 0.5 ? i0[Y] : i1[Y]); // grid row 0 is the lowest x₂
      for (let X = 0; X < N; X++, o += 4) {
        const q = bin.charCodeAt(row * n + (f[X] < 0.5 ? i0[X] : i1[X])) * 4;
        px[o] = lut[q]; px[o + 1] = lut[q + 1]; px[o + 2] = lut[q + 2]; px[o + 3] = 255;
      }
    }
    this.ctx.putImageData(this.img, 0, 0);
    this.painted = b;
    return true;
  }

  // Hover: a point's coordinates and label, or the output under the pointer.
  _hover(ev) {
    const fr = this.frame;
    const box = this.box;
    if (!box) return;
    const r = fr.svg.getBoundingClientRect();
    const X = ev.clientX - r.left;
    const Y = ev.clientY - r.top;
    const pt = ev.target.closest?.("circle.pt");
    if (pt) {
      const train = pt.classList.contains("pt-train");
      const set = train ? this.data.train : this.data.test;
      const i = Number(pt.dataset.i);
      const [a, b] = set.x[i];
      fr.showTip([train ? "train" : "test", `x₁ ${fmt(a)}`, `x₂ ${fmt(b)}`, `y ${fmt(set.y?.[i])}`], X, Y);
      return;
    }
    const v = this._valueAt(X, Y);
    if (v === null) {
      fr.showTip(null);
      return;
    }
    fr.showTip([`x₁ ${fmt(v.x1)}`, `x₂ ${fmt(v.x2)}`, `output ${fmt(v.out)}`], X, Y);
  }

  // The painted grid's value at (X, Y) px of the plot: its byte in the frame's range.
  _valueAt(X, Y) {
    const b = this.painted;
    const box = this.box;
    if (!b || !this.inner) return null;
    const u = (X - box.l - this.inner.l) / this.inner.w;
    const v = 1 - (Y - box.t - this.inner.t) / this.inner.h;
    if (!(u >= 0 && u < 1 && v >= 0 && v < 1)) return null;
    const n = b.res;
    const c = Math.floor(u * n);
    const row = Math.floor(v * n); // grid row 0 is the lowest x₂
    let q;
    try {
      q = atob(b.data).charCodeAt(row * n + c);
    } catch {
      return null;
    }
    const [x0, x1, y0, y1] = b.extent || this._extent();
    const [lo, hi] = b.range;
    return { x1: x0 + (x1 - x0) * (c + 0.5) / n, x2: y0 + (y1 - y0) * (row + 0.5) / n, out: lo + (hi - lo) * q / 255 };
  }

  /** Download the chart as a PNG: the surface under the axes and points. */
  downloadPng(filename = "decision-boundary") {
    if (!this.frame.ready) return Promise.resolve();
    const under = this.box && !this.clip.hidden
      ? { canvas: this.canvas, clip: this.box, box: { l: this.box.l + this.inner.l, t: this.box.t + this.inner.t, w: this.inner.w, h: this.inner.h } }
      : null;
    return this.frame.download(filename, under);
  }
}
