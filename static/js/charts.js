// Plotly charts for the right column: the loss curve and the decision boundary.
// Plotly is big, so it is loaded off the critical path (loadPlotly) and each chart
// waits for it; frames arriving before then are kept and drawn once it is there.
// Updates are throttled: the loss curve at most once a second while training streams
// (~5×/s otherwise; extendTraces), the boundary surface ~10×/s on a canvas under the
// plot (Plotly itself is not touched per frame). Never newPlot per frame.

import { WEIGHT_SCALE } from "./format.js";

const CONFIG = {
  displaylogo: false,
  responsive: true,
  modeBarButtons: [["toImage"]], // only the PNG download, no zoom/pan clutter
};
const FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
// The page's type scale (app.css: 14 px text, 18 px on a projector): chart text follows it.
const typeScale = () => (parseFloat(getComputedStyle(document.documentElement).fontSize) || 14) / 14;
const font = (z) => ({ family: FAMILY, size: Math.round(11 * z * 10) / 10, color: "#333" });
const LOSS_FLUSH_MS = 200;          // paused / stepping
const LOSS_FLUSH_RUNNING_MS = 1000; // while training streams frames
const LOSS_QUIET_MS = 200;          // …unless no new step came for this long
const BOUNDARY_MS = 100;
const MAX_POINTS = 5000;

const isNum = (v) => typeof v === "number" && Number.isFinite(v);
const num = (v) => (isNum(v) ? v : null); // Plotly leaves a gap at null

// Classes of a 2-D problem: two take the ends of the orange–blue scale, as the surface
// does; with more, the first and last stay orange and blue and the middle ones get
// distinct dark or saturated colours (never the scale's white middle: white on white).
// Greens and purples are left out: they mean δ and gradients.
const MIDDLE_CLASSES = ["#4d4d4d", "#d55e00", "#56b4e9", "#c9a800", "#7a5230", "#000000", "#e69f00", "#9aa5b1"];

/** One CSS colour per class 0…k−1. */
export function classColours(k) {
  if (k <= 2) return [WEIGHT_SCALE.neg, WEIGHT_SCALE.pos];
  const middle = Array.from({ length: k - 2 }, (_, c) => MIDDLE_CLASSES[c % MIDDLE_CLASSES.length]);
  return [WEIGHT_SCALE.neg, ...middle, WEIGHT_SCALE.pos];
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

// Each chart owns a plot div and a message div inside the element it is given,
// so a message never fights with Plotly over the element's children.
function makeHost(el) {
  el.classList.add("chart-host");
  const gd = document.createElement("div");
  gd.className = "chart-plot";
  const msg = document.createElement("div");
  msg.className = "chart-message";
  msg.setAttribute("role", "status");
  msg.hidden = true;
  el.replaceChildren(gd, msg);
  return { gd, msg };
}

function showMessage(msg, text) {
  msg.textContent = text || "";
  msg.hidden = !text;
}

// ---------------------------------------------------------------------------

/** Train/test loss (and accuracy on a second y axis when there is one) against step. */
export class LossChart {
  constructor(el, plotlyPromise) {
    this.el = el;
    ({ gd: this.gd, msg: this.msg } = makeHost(el));
    this.P = null;
    this.log = false;
    this.timer = 0;
    this.due = 0;
    this.lastFlush = -Infinity;
    this.lastPush = 0;
    this.running = false;
    this.viewStep = null;   // the step shown from the past (timeline), or null
    this.generation = undefined;
    this._clear();
    showMessage(this.msg, "Loading chart…");
    this.ready = Promise.resolve(plotlyPromise).then((P) => {
      this.P = P;
      showMessage(this.msg, "");
      this._plot();
      return this;
    }, (err) => {
      showMessage(this.msg, "The chart library could not be loaded.");
      throw err;
    });
  }

  _clear() {
    this.d = { step: [], train: [], test: [], accTrain: [], accTest: [] };
    this.pend = { step: [], train: [], test: [], accTrain: [], accTest: [] };
    this.lastStep = -Infinity;
    this.hasAcc = false;
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
    if (this.P) this._plot();
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
    if (this.P) this.P.relayout(this.gd, { shapes: this._viewShapes() });
  }

  _viewShapes() {
    if (!isNum(this.viewStep)) return [];
    return [{
      type: "line", xref: "x", yref: "paper", x0: this.viewStep, x1: this.viewStep, y0: 0, y1: 1,
      line: { color: "#183b56", width: 1.5, dash: "dot" },
    }];
  }

  /** Log-scale y axis for the loss (nice for long runs). */
  setLogScale(on) {
    this.log = !!on;
    if (this.P) this.P.relayout(this.gd, { "yaxis.type": this.log ? "log" : "linear", "yaxis.autorange": true });
  }

  destroy() {
    clearTimeout(this.timer);
    this.timer = 0;
    this.P?.purge(this.gd);
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
    const newAcc = !this.hasAcc && (p.accTrain.some(isNum) || p.accTest.some(isNum));
    for (const k in p) this.d[k].push(...p[k]);
    const batch = p;
    this.pend = { step: [], train: [], test: [], accTrain: [], accTest: [] };
    if (!this.P) return; // drawn by _plot once Plotly is there
    if (newAcc || this._downsample()) {
      this._plot(); // rare: the axes or the whole (thinned) data changed
      return;
    }
    const x = batch.step;
    this.P.extendTraces(this.gd, {
      x: [x, x, x, x],
      y: [batch.train, batch.test, batch.accTrain, batch.accTest],
    }, [0, 1, 2, 3]);
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

  _plot() {
    const d = this.d;
    this.hasAcc = d.accTrain.some(isNum) || d.accTest.some(isNum);
    const line = (name, y, dash, color, yaxis = "y", width = 2) => ({
      type: "scatter", mode: "lines", name, x: d.step.slice(), y: y.slice(), yaxis,
      line: { color, width, dash }, connectgaps: false,
      hovertemplate: `${name}: %{y:.3g}<extra>step %{x}</extra>`,
    });
    const traces = [
      line("train J", d.train, "solid", "#222"),
      line("test J", d.test, "dash", "#222"),
      line("train acc.", d.accTrain, "solid", "#999", "y2", 1.5),
      line("test acc.", d.accTest, "dash", "#999", "y2", 1.5),
    ];
    traces[2].showlegend = traces[3].showlegend = this.hasAcc;
    const z = typeScale();
    const layout = {
      font: font(z),
      margin: { l: 46 * z, r: this.hasAcc ? 40 * z : 12, t: 26 * z, b: 34 * z },
      showlegend: true,
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 10.5 * z } },
      shapes: this._viewShapes(),
      xaxis: { title: { text: "step", standoff: 4 }, zeroline: false, rangemode: "tozero" },
      yaxis: { title: { text: "cost J", standoff: 4 }, type: this.log ? "log" : "linear", zeroline: false, rangemode: "tozero" },
      yaxis2: {
        overlaying: "y", side: "right", range: [0, 1], showgrid: false, visible: this.hasAcc,
        title: { text: "accuracy", standoff: 2 }, tickformat: ".0%",
      },
      plot_bgcolor: "#fff",
      paper_bgcolor: "rgba(0,0,0,0)",
      uirevision: "loss",
    };
    this.P.react(this.gd, traces, layout, { ...CONFIG, toImageButtonOptions: { filename: "loss" } });
  }
}

// ---------------------------------------------------------------------------

/**
 * Decision boundary (or regression surface) over the plane, with the data points.
 *
 * The coloured surface is NOT a Plotly trace that is restyled per frame (a restyle
 * recalculates and redraws the whole chart: it took ~20 % of the main thread). It is a
 * small <canvas> under Plotly's transparent plot area: the res × res bytes go through a
 * 256-entry lookup table into putImageData (values interpolated UPSAMPLE× in JS, then
 * scaled up by CSS with smoothing: the old heatmap's zsmooth "best" look, its colours
 * at 62 % on white). Plotly only draws the axes and the points, which do not change
 * while training. The canvas box is read from Plotly's axes after every (re)layout.
 *
 * Trace 0 is still a heatmap, but invisible (opacity 0): it answers hover ("output") and
 * says what is shown; its z is synced rarely (see _scheduleSync), never per frame. The
 * PNG button composes Plotly's image over the canvas (downloadPng).
 */
const SYNC_RUNNING_MS = 2000; // hover values while training may lag this much
const SYNC_PAUSED_MS = 250;   // …and settle this soon after the last change otherwise
const SURFACE_OPACITY = 0.62; // lighter than the points, so class-coloured points stay visible
const UPSAMPLE = 4;           // canvas pixels per grid cell (values interpolated in between)
// Colour index → the old heatmap's colour: WEIGHT_SCALE at 62 % opacity on white.
const SURFACE_LUT = (() => {
  const lut = new Uint8ClampedArray(1024);
  const src = WEIGHT_SCALE.rgba;
  for (let k = 0; k < 1024; k++) lut[k] = (k & 3) === 3 ? 255 : Math.round(255 + SURFACE_OPACITY * (src[k] - 255));
  return lut;
})();

export class BoundaryChart {
  constructor(el, plotlyPromise) {
    this.el = el;
    ({ gd: this.gd, msg: this.msg } = makeHost(el));
    // The surface: a clip box exactly over Plotly's plot area, the canvas inside it.
    this.clip = document.createElement("div");
    this.clip.className = "chart-surface";
    this.clip.setAttribute("aria-hidden", "true");
    this.clip.hidden = true;
    this.canvas = document.createElement("canvas");
    this.canvas.width = this.canvas.height = 1;
    this.clip.appendChild(this.canvas);
    el.insertBefore(this.clip, this.gd);
    this.ctx = this.canvas.getContext("2d");
    this.hovering = false;
    this.syncWanted = false; // trace 0 is behind the surface, to be synced when it matters
    el.addEventListener("pointerenter", () => this._hover(true));
    el.addEventListener("pointerleave", () => this._hover(false));
    this.P = null;
    this.data = null;
    this.boundary = null;
    this.status = null;
    this.opts = { showTest: true, discretize: false };
    this.timer = 0;
    this.lastDraw = 0;
    this.drawn = null;       // what the canvas currently shows
    this.painted = null;     // the boundary object painted on the canvas (null: none)
    this.traceShown = null;  // what trace 0 (hover) holds: a key, "hidden", or null (unknown)
    this.syncTimer = 0;
    this.lastSync = -Infinity;
    this.pointRange = null;
    this.box = null;         // plot area and extent placement, px
    this.onPointClick = null; // (index) => …: a training point was clicked (index into data.train)
    this.ready = Promise.resolve(plotlyPromise).then((P) => {
      this.P = P;
      if (this.data) this._plot();
      return this;
    }, (err) => {
      showMessage(this.msg, "The chart library could not be loaded.");
      throw err;
    });
  }

  /** The /data response: train (filled) and test (outlined) points, the extent. */
  setData(data) {
    this.data = data;
    this.drawn = null;
    if (this.P) this._plot();
  }

  /** Show frame.boundary; throttled to ~10 updates a second (a canvas paint each). */
  update(frame) {
    if (!frame) return;
    this.boundary = frame.boundary === undefined ? this.boundary : frame.boundary;
    const stopped = this.status === "running" && frame.status !== "running";
    this.status = frame.status;
    if (stopped && this.syncWanted) this._scheduleSync();
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
    if (!this.P || !this.data) return;
    if (this.gd.data?.[2] && this.gd.data[2].visible !== this.opts.showTest) {
      this.P.restyle(this.gd, { visible: this.opts.showTest }, [2]);
    }
    this.drawn = null;
    this._drawBoundary();
  }

  destroy() {
    clearTimeout(this.timer);
    clearTimeout(this.syncTimer);
    this.timer = this.syncTimer = 0;
    this.P?.purge(this.gd);
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

  _pointMarker(points, open) {
    const [cmin, cmax] = this._pointRange(points);
    const k = this._categories();
    const colours = k ? classColours(k) : null;
    const colour = k
      ? { color: (points?.y || []).map((c) => colours[c] ?? "#9aa5b1") }
      : { color: (points?.y || []).map(num), cmin, cmax, colorscale: WEIGHT_SCALE.plotly };
    return {
      ...colour, showscale: false,
      size: open ? 6.5 : 6,
      symbol: open ? "circle-open" : "circle",
      line: open ? { width: 1.8 } : { width: 0.8, color: "#fff" },
    };
  }

  _plot() {
    const d = this.data;
    const [x0, x1, y0, y1] = this._extent();
    const pts = (p, name, open) => ({
      type: "scatter", mode: "markers", name,
      x: (p?.x || []).map((v) => v[0]), y: (p?.x || []).map((v) => v[1]),
      marker: this._pointMarker(p, open),
      customdata: p?.y || [],
      hovertemplate: `${name}<br>x₁ %{x:.3g}<br>x₂ %{y:.3g}<br>y %{customdata:.3g}<extra></extra>`,
    });
    this.pointRange = this._classification() ? null : this._pointRange(d.train);
    const traces = [
      {
        // Invisible: the canvas under the plot shows the surface. This trace answers
        // hover with the output value (synced rarely, see _scheduleSync).
        type: "heatmap", z: [[null]], x: [0], y: [0], zmin: 0, zmax: 1, zsmooth: false,
        colorscale: WEIGHT_SCALE.plotly, showscale: false, visible: false, name: "output", opacity: 0,
        hovertemplate: "x₁ %{x:.3g}<br>x₂ %{y:.3g}<br>output %{z:.3g}<extra></extra>",
        hoverlabel: { bgcolor: "#fff", bordercolor: "#888", font: { color: "#222" } }, // an invisible trace has no colour of its own
      },
      pts(d.train, "train", false),
      { ...pts(d.test, "test", true), visible: this.opts.showTest },
    ];
    // Grid lines now lie on top of the surface (they used to be under the 62 % heatmap):
    // as faint as they were then.
    const axis = { zeroline: false, fixedrange: true, constrain: "domain", gridcolor: "rgba(220,220,220,0.45)" };
    const z = typeScale();
    const layout = {
      font: font(z),
      margin: { l: 36 * z, r: 8, t: 8, b: 36 * z },
      showlegend: false,
      xaxis: { ...axis, range: [x0, x1], title: { text: "x₁", standoff: 6 } },
      yaxis: { ...axis, range: [y0, y1], title: { text: "x₂", standoff: 6 }, scaleanchor: "x" },
      plot_bgcolor: "rgba(0,0,0,0)", // the surface canvas shows through
      paper_bgcolor: "rgba(0,0,0,0)",
      hovermode: "closest",
      uirevision: "boundary",
    };
    const config = {
      ...CONFIG,
      // PNG export: Plotly's image of the axes and points over the surface canvas.
      modeBarButtons: [[{
        name: "toImage", title: "Download plot as a PNG", icon: this.P.Icons?.camera,
        click: () => { this.downloadPng().catch(() => {}); },
      }]].map((group) => group.map((b) => (b.icon ? b : "toImage"))),
    };
    this.traceShown = null;
    clearTimeout(this.syncTimer);
    this.syncTimer = 0;
    const done = this.P.react(this.gd, traces, layout, config);
    this._listen();
    this._place();
    this.drawn = null;
    this._drawBoundary();
    Promise.resolve(done).then(() => this._place(), () => {});
  }

  // Clicking a training point (trace 1) reports its index, e.g. to make it the focus
  // example; every (re)layout, e.g. a resize, moves the surface under the new plot area.
  _listen() {
    if (this.listening || !this.gd.on) return;
    this.listening = true;
    this.gd.on("plotly_click", (ev) => {
      const pt = ev?.points?.find((p) => p.curveNumber === 1);
      if (pt && this.onPointClick) this.onPointClick(pt.pointNumber);
    });
    this.gd.on("plotly_afterplot", () => this._place());
  }

  // Where the surface goes, in px of the host: the plot area (Plotly's axes offsets and
  // lengths, relative to the plot div), and inside it the rectangle of the grid's extent.
  _geometry() {
    const fl = this.gd._fullLayout;
    const xa = fl?.xaxis;
    const ya = fl?.yaxis;
    if (!xa || !ya || !isNum(xa._offset) || !isNum(ya._offset) || !(xa._length > 0) || !(ya._length > 0)) return null;
    const [ex0, ex1, ey0, ey1] = this.boundary?.extent || this._extent();
    const px = (v) => xa.l2p(v);
    const py = (v) => ya.l2p(v);
    const left = Math.min(px(ex0), px(ex1));
    const top = Math.min(py(ey0), py(ey1));
    const g = {
      l: this.gd.offsetLeft + xa._offset, t: this.gd.offsetTop + ya._offset, w: xa._length, h: ya._length,
      il: left, it: top, iw: Math.abs(px(ex1) - px(ex0)), ih: Math.abs(py(ey1) - py(ey0)),
    };
    return Object.values(g).every(isNum) ? g : null;
  }

  _place() {
    const g = this._geometry();
    if (!g) return;
    this.placedExtent = String(this.boundary?.extent || this._extent());
    const r = (v) => Math.round(v * 100) / 100 + "px";
    const key = Object.values(g).map((v) => v.toFixed(2)).join(",");
    if (key === this.box?.key) return;
    this.box = { ...g, key };
    Object.assign(this.clip.style, { left: r(g.l), top: r(g.t), width: r(g.w), height: r(g.h) });
    Object.assign(this.canvas.style, { left: r(g.il), top: r(g.it), width: r(g.iw), height: r(g.ih) });
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
    if (!this.P || !this.data) return;
    const b = this.boundary;
    const problem = this._problem(b);
    showMessage(this.msg, problem);
    if (problem || !b) {
      if (this.drawn !== "hidden") {
        this.clip.hidden = true;
        this.painted = null;
      }
      this.drawn = "hidden";
      this._scheduleSync(true);
      return;
    }
    const key = b.data + "|" + b.range + "|" + b.res + "|" + this.opts.discretize;
    if (key === this.drawn) return;
    if (!this._paint(b)) return;
    this.drawn = key;
    // Only when the grid moved: reading the layout here could force one.
    if (String(b.extent || this._extent()) !== this.placedExtent) this._place();
    this.clip.hidden = false;
    this._scheduleSync(this.traceShown === null || this.traceShown === "hidden");
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

  // Trace 0 (hover) and, for regression, the points' colour range follow the surface
  // rarely: a Plotly restyle recalculates and redraws the whole chart. While training
  // runs, the hover values are refreshed only while the pointer is over the chart (at
  // most every SYNC_RUNNING_MS) and once training stops; the regression points'
  // colours every SYNC_RUNNING_MS when the range moved.
  _scheduleSync(now = false) {
    if (now && !this.painted && this.traceShown === "hidden") return; // nothing to do
    const running = this.status === "running";
    if (!now && running && !this.hovering && !this._recolour()) {
      this.syncWanted = true;
      return;
    }
    const wait = now ? 0 : running ? Math.max(0, SYNC_RUNNING_MS - (performance.now() - this.lastSync)) : SYNC_PAUSED_MS;
    const due = performance.now() + wait;
    if (this.syncTimer) {
      if (due >= this.syncDue) return;
      clearTimeout(this.syncTimer);
    }
    this.syncDue = due;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = 0;
      this._sync();
    }, wait);
  }

  // Regression: the points are coloured over the range of the surface; follow it when
  // it moved by more than 2 %.
  _recolour() {
    const r = this.painted?.range;
    const p = this.pointRange;
    if (this._classification() || !r) return false;
    if (!p) return true;
    const span = Math.max(Math.abs(r[1] - r[0]), 1e-12);
    return Math.abs(r[0] - p[0]) > 0.02 * span || Math.abs(r[1] - p[1]) > 0.02 * span;
  }

  _hover(on) {
    this.hovering = on;
    if (on && this.syncWanted) this._scheduleSync(true);
  }

  _sync() {
    if (!this.P || !this.data || !this.gd.data) return;
    this.lastSync = performance.now();
    this.syncWanted = false;
    const b = this.painted;
    if (!b) {
      if (this.traceShown !== "hidden") this.P.restyle(this.gd, { visible: false }, [0]);
      this.traceShown = "hidden";
      return;
    }
    const key = b.data + "|" + b.range;
    if (key !== this.traceShown) {
      this.traceShown = key;
      const { z, xs, ys } = this._decode(b);
      this.P.restyle(this.gd, { z: [z], x: [xs], y: [ys], zmin: b.range[0], zmax: b.range[1], visible: true }, [0]);
    }
    if (!this._classification() && String(b.range) !== String(this.pointRange)) {
      this.pointRange = b.range;
      this.P.restyle(this.gd, { "marker.cmin": b.range[0], "marker.cmax": b.range[1] }, [1, 2]);
    }
  }

  // base64 uint8 (row 0 = lowest x₂) → rows of output values in b.range (for hover).
  _decode(b) {
    const res = b.res;
    const [lo, hi] = b.range;
    const [x0, x1, y0, y1] = b.extent || this._extent();
    const bin = atob(b.data);
    const z = new Array(res);
    for (let r = 0; r < res; r++) {
      const row = new Array(res);
      for (let c = 0; c < res; c++) row[c] = lo + (hi - lo) * bin.charCodeAt(r * res + c) / 255;
      z[r] = row;
    }
    const centres = (a, bb) => Array.from({ length: res }, (_, k) => a + (bb - a) * (k + 0.5) / res);
    return { z, xs: centres(x0, x1), ys: centres(y0, y1) };
  }

  /** Download the chart as a PNG: the surface canvas under Plotly's axes and points. */
  async downloadPng(filename = "decision-boundary") {
    if (!this.P) return;
    const w = this.gd.clientWidth;
    const h = this.gd.clientHeight;
    const scale = 2;
    const url = await this.P.toImage(this.gd, { format: "png", width: w, height: h, scale });
    const img = new Image();
    await new Promise((resolve, reject) => {
      img.onload = resolve;
      img.onerror = reject;
      img.src = url;
    });
    const out = document.createElement("canvas");
    out.width = w * scale;
    out.height = h * scale;
    const c = out.getContext("2d");
    c.fillStyle = "#fff";
    c.fillRect(0, 0, out.width, out.height);
    const g = this.box;
    if (g && !this.clip.hidden) {
      const ox = g.l - this.gd.offsetLeft;
      const oy = g.t - this.gd.offsetTop;
      c.save();
      c.scale(scale, scale);
      c.beginPath();
      c.rect(ox, oy, g.w, g.h);
      c.clip();
      c.imageSmoothingEnabled = true;
      c.imageSmoothingQuality = "high";
      c.drawImage(this.canvas, ox + g.il, oy + g.it, g.iw, g.ih);
      c.restore();
    }
    c.drawImage(img, 0, 0, out.width, out.height);
    const blob = await new Promise((resolve) => out.toBlob(resolve, "image/png"));
    if (!blob) return;
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = filename + ".png";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }
}
