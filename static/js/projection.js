// The view for data that is not 2-D (Iris, Wine, Breast cancer, digits, a CSV with more
// than two inputs), drawn in the decision-boundary chart's place, which would be empty:
// the examples projected onto the two principal components of the training inputs
// (computed by the server, GET /projection), coloured by true class and crossed where
// the network predicts another class; the test set's per-class accuracy and confusion
// matrix; and the standardisation constants. It listens to main.js's `bpl:frame` event
// and refetches at most once a second while training, at once when the problem changes.

import * as charts from "./charts.js";
import { fmt, WEIGHT_SCALE } from "./format.js";
import { el, PLOT_CONFIG, PLOT_FONT } from "./panels/util.js";

const REFRESH_MS = 1000;
const WRONG = "#212121";   // the cross over a misclassified point: ink, not a data colour

const $ = (id) => document.getElementById(id);
let view = null;        // the DOM of this view, built on first use
let problemKey = null;  // structure/generation of the frame last fetched for
let lastStep = null;
let timer = 0;
let fetchedAt = 0;
let inFlight = false;
let plotted = { scatter: false, confusion: false };

document.addEventListener("bpl:frame", (e) => onFrame(e.detail));
// The first frame can come before the page knows its session id: fetch once it does.
// Fetched for the newest frame's problem: its own frames then ask for nothing more.
document.addEventListener("bpl:session", () => { problemKey = latestKey; refresh(); });
let latestKey = null;

function onFrame(frame) {
  const key = `${frame.structure}/${frame.generation}`;
  latestKey = key;
  if (key !== problemKey) {
    problemKey = key;
    lastStep = frame.step;
    plotted = { scatter: false, confusion: false };
    clearTimeout(timer);
    timer = 0;
    refresh();
  } else if (frame.step !== lastStep && view && !view.root.hidden) {
    lastStep = frame.step;
    schedule();
  }
}

function schedule() {
  if (timer) return;
  timer = setTimeout(() => { timer = 0; refresh(); },
    Math.max(0, REFRESH_MS - (performance.now() - fetchedAt)));
}

async function refresh() {
  const id = $("session-id")?.value;
  if (!id) { problemKey = null; return; }
  if (inFlight) { schedule(); return; }
  inFlight = true;
  fetchedAt = performance.now();
  let reply;
  try {
    const r = await fetch(`/api/sessions/${id}/projection`);
    if (!r.ok) { problemKey = null; return; }
    reply = await r.json();
  } catch {
    problemKey = null;   // the server is away: the next frame after reconnecting tries again
    return;
  } finally {
    inFlight = false;
  }
  show(!reply.plane);
  if (!reply.plane) await draw(reply);
}

/** Swap this view and the boundary chart (with its options) in and out. */
function show(on) {
  const boundary = $("boundary-chart");
  if (!boundary) return;
  if (on && !view) view = build(boundary);
  if (!view) return;
  view.root.hidden = !on;
  boundary.hidden = on;
  const options = boundary.parentElement.querySelector(".chart-options");
  if (options) options.style.display = on ? "none" : "";
}

function build(boundary) {
  const chart = el("div", { id: "projection-chart", class: "chart", style: "height:15rem", role: "figure",
    "aria-label": "2-D projection (PCA) of the inputs with true and predicted classes" });
  const caption = el("p", { id: "projection-caption", class: "projection-caption",
    style: "margin:0.2rem 0;font-size:0.786rem;color:#555" });
  const confusion = el("div", { id: "projection-confusion", class: "projection-confusion", role: "img",
    "aria-label": "Confusion matrix on the test set: true class against predicted class",
    style: "flex:1 1 55%;min-width:0;height:8.5rem" });
  const classes = el("table", { id: "projection-classes", class: "projection-classes",
    style: "flex:1 1 45%;font-size:0.786rem;border-collapse:collapse;align-self:flex-start" });
  const stats = el("div", { class: "projection-stats", style: "display:flex;gap:0.5rem;align-items:flex-start" },
    confusion, classes);
  const scale = el("details", { id: "projection-scale", class: "projection-scale", style: "font-size:0.786rem" });
  const root = el("section", { id: "projection", class: "projection", "aria-label": "Data with more than two inputs" },
    chart, caption, stats, scale);
  boundary.insertAdjacentElement("afterend", root);
  return { root, chart, caption, confusion, classes, scale, stats };
}

// Class k of K in the boundary chart's colours (orange, blue and, for more classes,
// distinct colours between them; never the scale's white middle).
function classColour(k, K) {
  if (charts.classColours) return charts.classColours(K)[k];
  const t = K > 1 ? (2 * k) / (K - 1) - 1 : 0;
  return WEIGHT_SCALE.css[Math.round((t + 1) * 127.5)];
}

async function draw(p) {
  const P = await charts.loadPlotly(document.body.dataset.plotly).catch(() => null);
  if (!P) return;
  drawScatter(P, p);
  drawCaption(p);
  drawClasses(p);
  drawScale(p);
  view.stats.style.display = p.confusion ? "flex" : "none";
  if (p.confusion) {
    stack(p.confusion.labels.length > STACK_ABOVE);
    drawConfusion(P, p.confusion);
  }
}

// Beyond this many classes Plotly's legend would take most of the chart's height (digits:
// ten rows squashed the points into a strip): the per-class table, with its colour
// swatches, is then the key, and the caption says so.
const LEGEND_MAX_CLASSES = 4;

function keyedByTable(p) {
  return p.problem === "classification" && p.class_names.length > LEGEND_MAX_CLASSES && !!p.per_class;
}

function drawScatter(P, p) {
  const axis = (i) => ({
    title: { text: `PC${i + 1} (${Math.round(100 * p.explained[i])} % of the variance)`, standoff: 2 },
    zeroline: false, fixedrange: true, automargin: true,
  });
  const layout = {
    font: PLOT_FONT, margin: { l: 40, r: 6, t: 6, b: 34 }, showlegend: !keyedByTable(p),
    legend: { orientation: "h", y: 1.0, yanchor: "bottom", x: 0, font: { size: 10 } },
    xaxis: axis(0), yaxis: axis(1), plot_bgcolor: "#fff", paper_bgcolor: "rgba(0,0,0,0)",
    uirevision: "projection", hovermode: "closest",
  };
  const config = { ...PLOT_CONFIG, toImageButtonOptions: { filename: "projection" } };
  P.react(view.chart, p.problem === "classification" ? classTraces(p) : regressionTraces(p), layout, config);
  plotted.scatter = true;
}

function classTraces(p) {
  const K = p.class_names.length;
  const traces = [];
  const wrong = { x: [], y: [], text: [] };
  p.class_names.forEach((name, k) => {
    const t = { x: [], y: [], text: [], symbol: [] };
    for (const [set, part] of [["train", p.train], ["test", p.test]]) {
      part.y.forEach((y, i) => {
        if (y !== k) return;
        const [x1, x2] = part.x[i];
        const guess = part.predicted[i];
        const said = guess === null ? "not a number" : p.class_names[guess];
        t.x.push(x1); t.y.push(x2);
        t.symbol.push(set === "test" ? "diamond" : "circle");
        t.text.push(`${set}: true ${name}, predicted ${said}`);
        if (guess !== y) { wrong.x.push(x1); wrong.y.push(x2); wrong.text.push(`${set}: true ${name}, predicted ${said}`); }
      });
    }
    traces.push({
      type: "scatter", mode: "markers", name, x: t.x, y: t.y, text: t.text,
      hovertemplate: "%{text}<extra></extra>",
      marker: { color: classColour(k, K), size: 7, symbol: t.symbol, line: { color: "#555", width: 0.6 } },
    });
  });
  traces.push({
    type: "scatter", mode: "markers", name: "predicted wrongly", x: wrong.x, y: wrong.y, text: wrong.text,
    hovertemplate: "%{text}<extra></extra>",
    marker: { symbol: "x-thin", size: 9, line: { color: WRONG, width: 1.6 }, color: WRONG },
  });
  return traces;
}

function regressionTraces(p) {
  const all = [...p.train.y, ...p.test.y];
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const part = (set, d) => ({
    type: "scatter", mode: "markers", name: set, x: d.x.map((v) => v[0]), y: d.x.map((v) => v[1]),
    text: d.y.map((y, i) => `${set}: target ${fmt(y)}, predicted ${d.predicted[i] === null ? "not a number" : fmt(d.predicted[i])}`),
    hovertemplate: "%{text}<extra></extra>",
    marker: { color: d.y, cmin: lo, cmax: hi, colorscale: WEIGHT_SCALE.plotly, size: 7,
      symbol: set === "test" ? "diamond" : "circle", line: { color: "#555", width: 0.6 } },
  });
  return [part("train", p.train), part("test", p.test)];
}

function drawCaption(p) {
  const what = p.problem === "classification"
    ? `Colour = true class${keyedByTable(p) ? " (key: the per-class table below)" : ""}, ✕ = the network predicts another class; ● train, ◆ test.`
    : `Colour = the target ${p.target_name} (orange low, blue high); ● train, ◆ test.`;
  view.caption.textContent = `${p.input_names.length} inputs projected onto their first two principal `
    + `components (PCA). ${what}`;
}

function drawClasses(p) {
  if (!p.per_class) { view.classes.replaceChildren(); return; }
  const head = el("tr", {}, el("th", { scope: "col", text: "class", style: "text-align:left" }),
    el("th", { scope: "col", text: "test accuracy", style: "text-align:right" }));
  const rows = p.per_class.map((c, k) => el("tr", {},
    el("th", { scope: "row", style: "text-align:left;font-weight:normal" },
      el("span", { style: `display:inline-block;width:0.7em;height:0.7em;margin-right:0.3em;border:1px solid #555;background:${classColour(k, p.per_class.length)}` }),
      c.name),
    el("td", { style: "text-align:right;font-variant-numeric:tabular-nums",
      text: c.accuracy === null ? "– (no test rows)" : `${(100 * c.accuracy).toFixed(1)} % (${c.right}/${c.count})` })));
  view.classes.replaceChildren(el("caption", { text: "Per class (test set)", style: "text-align:left;font-weight:600" }),
    el("thead", {}, head), el("tbody", {}, rows));
}

// A matrix of more classes than this gets the column's whole width and more height,
// with the per-class table under it: beside the table its counts overlapped (digits).
const STACK_ABOVE = 5;

function stack(many) {
  Object.assign(view.stats.style, { flexDirection: many ? "column" : "row", alignItems: many ? "stretch" : "flex-start" });
  Object.assign(view.confusion.style, { flex: many ? "none" : "1 1 55%", height: many ? "16rem" : "8.5rem" });
  view.classes.style.flex = many ? "none" : "1 1 45%";
}

function drawConfusion(P, c) {
  const total = c.matrix.flat().reduce((s, v) => s + v, 0);
  const right = c.matrix.reduce((s, row, k) => s + row[k], 0);
  const title = `Confusion, test: ${total ? (100 * right / total).toFixed(1) : "–"} % right`;
  if (plotted.confusion) {
    P.restyle(view.confusion, { z: [c.matrix] }, [0]);
    P.relayout(view.confusion, { "title.text": title });
    return;
  }
  plotted.confusion = true;
  P.react(view.confusion, [{
    type: "heatmap", z: c.matrix, x: c.labels, y: c.labels,
    // Counts are neither activations nor gradients: a neutral grey ramp.
    colorscale: [[0, "#ffffff"], [1, "#37474f"]], showscale: false,
    texttemplate: "%{z}", textfont: { size: 10 }, xgap: 1, ygap: 1,
    hovertemplate: "true %{y}, predicted %{x}: %{z}<extra></extra>",
  }], {
    font: PLOT_FONT, margin: { l: 64, r: 4, t: 22, b: 44 },
    title: { text: title, font: { size: 11 }, x: 0.02, y: 0.98 },
    xaxis: { title: { text: "predicted", standoff: 2 }, type: "category", dtick: 1, fixedrange: true, automargin: true },
    yaxis: { title: { text: "true", standoff: 2 }, type: "category", dtick: 1, autorange: "reversed", fixedrange: true, automargin: true },
    plot_bgcolor: "#fff", paper_bgcolor: "rgba(0,0,0,0)",
  }, { ...PLOT_CONFIG, toImageButtonOptions: { filename: "confusion-matrix" } });
}

function drawScale(p) {
  const s = p.scale;
  const summary = el("summary", { text: s
    ? "Inputs standardised: the network sees (x − mean) / std, with the training rows' constants"
    : "Inputs go into the network unscaled" });
  if (!s) { view.scale.replaceChildren(summary); return; }
  const rows = p.input_names.map((name, j) => el("tr", {}, el("th", { scope: "row", text: name, style: "text-align:left;font-weight:normal" }),
    el("td", { text: fmt(s.mean[j]), style: "text-align:right" }), el("td", { text: fmt(s.std[j]), style: "text-align:right" })));
  view.scale.replaceChildren(summary, el("table", { style: "border-collapse:collapse" },
    el("thead", {}, el("tr", {}, el("th", { text: "input" }), el("th", { text: "mean" }), el("th", { text: "std" }))),
    el("tbody", {}, rows)));
}
