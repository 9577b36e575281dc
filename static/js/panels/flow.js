// 6. Gradient flow: each weight layer's ‖∂J/∂W‖ (frame.grad_norms) over training on a
// log scale, so vanishing gradients in a deep sigmoid network are visible. The history
// is collected on every (coalesced) frame even while the tab is closed — a few numbers —
// and drawn only when the chart is on screen, at most ~3 times a second.

import { fmt, courseLayer } from "../format.js";
import { setText, isNum, Series, drawSeries, PLOT_FONT, PLOT_CONFIG } from "./util.js";

const MAX_POINTS = 2000;
const CHART_MS = 330;
// Gradients live on the green side of the δ/gradient scale: one shade per layer.
const SHADES = ["#00441b", "#1b7837", "#3f9a50", "#5aae61", "#7fbf7b", "#a6dba0", "#c7e9c0"];
const DASH = ["solid", "dash", "dot", "dashdot", "longdash", "solid", "dash"];

export function initFlow(app) {
  const { $, ctx } = app;
  const panel = $("panel-flow");
  const chartEl = $("gf-chart");
  const say = $("gf-say");
  const hist = new Series(MAX_POINTS);
  let lastStep = null;
  let P = null;
  let timer = 0;
  let drawnAt = 0;
  let layers = 0;

  $("gf-deep").addEventListener("click", () => app.setControls({ layers: [8, 8, 8, 8, 8], activation: "sigmoid" }));
  $("gf-clear").addEventListener("click", () => { hist.clear(); schedule(); });

  function collect(f) {
    const g = f.grad_norms;
    if (!g || !g.length) return;
    if (lastStep !== null && f.step < lastStep) hist.clear();
    if (f.step === lastStep || f.cursor?.phase === "backward") return;
    lastStep = f.step;
    hist.push(f.step, g.slice());
  }

  function schedule() {
    if (timer) return;
    timer = setTimeout(() => { timer = 0; drawnAt = performance.now(); plot(); },
      Math.max(0, CHART_MS - (performance.now() - drawnAt)));
  }

  function explain(f) {
    const g = f.grad_norms || [];
    if (!g.length) { setText(say, "No gradient yet: press ▶ (or Step) to train."); return; }
    const first = g[0];
    const lastG = g[g.length - 1];
    let s = `Now: ‖∂J/∂W${courseLayer(0)}‖ = ${fmt(first)} for the first layer's weights`;
    if (g.length > 1) s += `, ‖∂J/∂W${courseLayer(g.length - 1)}‖ = ${fmt(lastG)} for the last`;
    s += ". ";
    if (g.length === 1) s += "One layer of weights (logistic regression): nothing to vanish through.";
    else if (isNum(first) && isNum(lastG) && first > 0 && lastG / first >= 3) {
      // One batch's gradient is noisy, so a factor between 3 and 10 is still called a
      // shrinking gradient, not a similar one.
      const why = f.activation === "sigmoid" ? " (sigmoid's g′ ≤ 0.25 at every layer)." : ".";
      s += `The first layer gets ${fmt(lastG / first)}× less gradient than the last: ` +
        (lastG / first >= 10 ? "it is vanishing on its way back" : "it shrinks on its way back") + why;
    } else if (isNum(first) && first === 0) {
      s += "The first layer gets no gradient at all.";
    } else s += "The gradient reaches every layer with a similar size.";
    setText(say, s);
  }

  async function plot() {
    const f = app.frame();
    if (!f || panel.hidden) return;
    P = P || await ctx.getPlotly().catch(() => null);
    if (!P) return;
    const n = Math.max(layers, hist.rows.length ? hist.rows[hist.rows.length - 1].length : 0);
    const traces = (count) => Array.from({ length: count }, (_, l) => ({
      type: "scatter", mode: "lines", name: `∂J/∂W${courseLayer(l)} (layer ${l + 1}→${l + 2})`,
      line: { color: SHADES[l % SHADES.length], width: 2, dash: DASH[l % DASH.length] },
      hovertemplate: `‖∂J/∂W${courseLayer(l)}‖ %{y:.3g}<extra>step %{x}</extra>`,
    }));
    drawSeries(P, chartEl, hist, n, traces, {
      font: PLOT_FONT, margin: { l: 60, r: 10, t: 10, b: 38 },
      legend: { orientation: "v", x: 1.01, y: 1, xanchor: "left" },
      xaxis: { title: { text: "step", standoff: 2 }, rangemode: "tozero" },
      yaxis: { type: "log", title: { text: "‖∂J/∂W‖ (log)", standoff: 2 }, exponentformat: "power" },
      plot_bgcolor: "#fff", paper_bgcolor: "rgba(0,0,0,0)", uirevision: "flow",
    }, { ...PLOT_CONFIG, toImageButtonOptions: { filename: "gradient-flow" } },
    (v) => (isNum(v) && v > 0 ? v : null));
  }

  return {
    name: "flow",
    el: panel,
    collect,
    update(f) {
      if (!f) return;
      explain(f);
      schedule();
    },
    structure(f) {
      hist.clear();
      lastStep = null;
      layers = f.sizes.length - 1;
    },
  };
}
