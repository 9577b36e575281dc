// Plotly charts for the right column: the loss curve and the decision boundary.
// Plotly is big, so it is loaded off the critical path (loadPlotly) and each chart
// waits for it; frames arriving before then are kept and drawn once it is there.
// Updates are throttled: the loss curve at most ~5×/s (extendTraces), the boundary at
// most ~10×/s (restyle of the heatmap trace only). Never newPlot per frame.

import { WEIGHT_SCALE } from "./format.js";

const CONFIG = {
  displaylogo: false,
  responsive: true,
  modeBarButtons: [["toImage"]], // only the PNG download, no zoom/pan clutter
};
const FONT = { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 11, color: "#333" };
const LOSS_FLUSH_MS = 200;
const BOUNDARY_MS = 100;
const MAX_POINTS = 5000;

const isNum = (v) => typeof v === "number" && Number.isFinite(v);
const num = (v) => (isNum(v) ? v : null); // Plotly leaves a gap at null

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

  /** Add the frame's losses if its step advanced; drawn in batches at most ~5×/s. */
  push(frame) {
    if (!frame || !isNum(frame.step)) return;
    if (frame.step < this.lastStep) this.reset(null); // training was reset
    if (frame.step <= this.lastStep) return;
    this.lastStep = frame.step;
    const acc = frame.accuracy || {};
    this._append(this.pend, frame.step, frame.loss?.train, frame.loss?.test, acc.train, acc.test);
    if (!this.timer) this.timer = setTimeout(() => this._flush(), LOSS_FLUSH_MS);
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
    const layout = {
      font: FONT,
      margin: { l: 46, r: this.hasAcc ? 40 : 12, t: 26, b: 34 },
      showlegend: true,
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 10.5 } },
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

/** Decision boundary (or regression surface) over the plane, with the data points. */
export class BoundaryChart {
  constructor(el, plotlyPromise) {
    this.el = el;
    ({ gd: this.gd, msg: this.msg } = makeHost(el));
    this.P = null;
    this.data = null;
    this.boundary = null;
    this.opts = { showTest: true, discretize: false };
    this.timer = 0;
    this.lastDraw = 0;
    this.drawn = null; // what the heatmap currently shows
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

  /** Show frame.boundary; throttled to ~10 updates a second. */
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
    if (!this.P || !this.data) return;
    this.P.restyle(this.gd, { visible: this.opts.showTest }, [2]);
    this.drawn = null;
    this._drawBoundary();
  }

  destroy() {
    clearTimeout(this.timer);
    this.timer = 0;
    this.P?.purge(this.gd);
  }

  _extent() {
    return this.data?.extent || this.boundary?.extent || [-6, 6, -6, 6];
  }

  _classification() {
    return (this.data?.problem || "classification") === "classification";
  }

  // Point colours on the same orange–blue scale as the heatmap: a class index over
  // 0…classes−1, or a regression target over the boundary's value range.
  _pointMarker(points, open) {
    const y = points?.y || [];
    let cmin = 0;
    let cmax = Math.max(1, (this.data?.classes || 2) - 1);
    if (!this._classification()) {
      const r = this.boundary?.range;
      const ys = y.filter(isNum);
      [cmin, cmax] = r && isNum(r[0]) && isNum(r[1]) ? r : [Math.min(...ys, 0), Math.max(...ys, 1)];
    }
    return {
      color: y.map(num), cmin, cmax, colorscale: WEIGHT_SCALE.plotly, showscale: false,
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
      hovertemplate: `${name}<br>x₁ %{x:.3g}<br>x₂ %{y:.3g}<br>y %{marker.color:.3g}<extra></extra>`,
    });
    const traces = [
      {
        type: "heatmap", z: [[null]], x: [0], y: [0], zmin: 0, zmax: 1, zsmooth: "best",
        colorscale: WEIGHT_SCALE.plotly, showscale: false, visible: false, name: "output",
        opacity: 0.62, // lighter than the points, so class-coloured points stay visible on it
        hovertemplate: "x₁ %{x:.3g}<br>x₂ %{y:.3g}<br>output %{z:.3g}<extra></extra>",
      },
      pts(d.train, "train", false),
      { ...pts(d.test, "test", true), visible: this.opts.showTest },
    ];
    const layout = {
      font: FONT,
      margin: { l: 36, r: 8, t: 8, b: 36 },
      showlegend: false,
      xaxis: { range: [x0, x1], title: { text: "x₁", standoff: 6 }, zeroline: false, constrain: "domain", fixedrange: true },
      yaxis: {
        range: [y0, y1], title: { text: "x₂", standoff: 6 }, zeroline: false,
        scaleanchor: "x", constrain: "domain", fixedrange: true,
      },
      plot_bgcolor: "#fff",
      paper_bgcolor: "rgba(0,0,0,0)",
      hovermode: "closest",
      uirevision: "boundary",
    };
    this.P.react(this.gd, traces, layout, { ...CONFIG, toImageButtonOptions: { filename: "decision-boundary" } });
    this._listen();
    this.drawn = null;
    this._drawBoundary();
  }

  // Clicking a training point (trace 1) reports its index, e.g. to make it the focus example.
  _listen() {
    if (this.listening || !this.gd.on) return;
    this.listening = true;
    this.gd.on("plotly_click", (ev) => {
      const pt = ev?.points?.find((p) => p.curveNumber === 1);
      if (pt && this.onPointClick) this.onPointClick(pt.pointNumber);
    });
  }

  // Why the boundary cannot be drawn, or "" if it can.
  _problem(b) {
    if (this.status === "diverged") return "Training diverged: the output is NaN, so there is no boundary to draw.";
    if (!b) return this.data ? "" : "No 2-D data: the decision boundary is drawn only for 2-D problems.";
    const r = b.range;
    if (!b.data || !r || !isNum(r[0]) || !isNum(r[1])) {
      return "The network's output is not a number (NaN) here, so the boundary is not drawn.";
    }
    return "";
  }

  _drawBoundary() {
    if (!this.P || !this.data) return;
    const b = this.boundary;
    const problem = this._problem(b);
    showMessage(this.msg, problem);
    if (problem || !b) {
      if (this.drawn !== "hidden") this.P.restyle(this.gd, { visible: false }, [0]);
      this.drawn = "hidden";
      return;
    }
    const key = b.data + "|" + b.range + "|" + this.opts.discretize;
    if (key === this.drawn) return;
    this.drawn = key;
    const { z, xs, ys } = this._decode(b);
    const [lo, hi] = b.range;
    const recolour = !this._classification() && String(b.range) !== String(this.pointRange);
    this.P.restyle(this.gd, { z: [z], x: [xs], y: [ys], zmin: lo, zmax: hi, visible: true }, [0]);
    if (recolour) {
      this.pointRange = b.range;
      this.P.restyle(this.gd, { "marker.cmin": lo, "marker.cmax": hi }, [1, 2]);
    }
  }

  // base64 uint8 (row 0 = lowest x₂) → rows of values in b.range; optionally thresholded.
  _decode(b) {
    const res = b.res;
    const [lo, hi] = b.range;
    const [x0, x1, y0, y1] = b.extent || this._extent();
    const bin = atob(b.data);
    const disc = this.opts.discretize && this._classification();
    const cut = 0.5;
    const z = new Array(res);
    for (let r = 0; r < res; r++) {
      const row = new Array(res);
      for (let c = 0; c < res; c++) {
        const v = lo + (hi - lo) * bin.charCodeAt(r * res + c) / 255;
        // Discretized: pale class colours, so the data points stay readable on top.
        row[c] = disc ? lo + (hi - lo) * (v >= cut ? 0.8 : 0.2) : v;
      }
      z[r] = row;
    }
    const centres = (a, bb) => Array.from({ length: res }, (_, k) => a + (bb - a) * (k + 0.5) / res);
    return { z, xs: centres(x0, x1), ys: centres(y0, y1) };
  }
}

