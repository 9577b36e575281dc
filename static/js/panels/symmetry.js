// 5. "Why must the initial weights be random?": the symmetry indicator. frame.symmetry
// holds, per hidden layer, the largest difference between two units' incoming weights
// and bias (0 = every unit of the layer computes the same thing). With zeros or
// constant init it stays 0 however long you train; with random init the units differ
// from the start and drift further apart.

import { fmt, fmtInt, WEIGHT_SCALE, courseLayer } from "../format.js";
import { el, setText, isNum, maxAbs, Series, drawSeries, PLOT_FONT, PLOT_CONFIG } from "./util.js";

const MAX_POINTS = 1500;
const CHART_MS = 500;
const IDENTICAL = 1e-12;

export function initSymmetry(app) {
  const { $, ctx } = app;
  const panel = $("panel-symmetry");
  const flag = $("sy-flag");
  const list = $("sy-layers");
  const badge = $("pn-sym-badge");
  const rowsEl = $("sy-rows");
  const rowsTitle = $("sy-rows-title");
  const chartEl = $("sy-chart");
  let start = null;            // symmetry values when the network was built / reset
  const hist = new Series(MAX_POINTS);
  let lastStep = null;
  let P = null;
  let chartAt = 0;
  let chartTimer = 0;
  const canvas = el("canvas", { class: "pn-pixel pn-rows-canvas", role: "img" });
  const rowsNote = el("p", { class: "pn-small pn-bad", hidden: true });
  rowsEl.append(canvas, rowsNote);

  $("sy-zeros").addEventListener("click", () => app.setControls({ init: "zeros" }));
  $("sy-random").addEventListener("click", () => app.setControls({ init: "uniform" }));
  $("sy-train").addEventListener("click", async () => {
    const f = app.frame();
    if (f?.status === "running") return;
    await ctx.step("epoch");
  });

  const identical = (f, k) => f.sizes[k + 1] > 1 && isNum(f.symmetry?.[k]) && f.symmetry[k] <= IDENTICAL;

  function collect(f) {
    if (!f.symmetry) return;
    if (f.step === 0 || start === null) start = f.symmetry.slice();
    if (lastStep !== null && f.step < lastStep) hist.clear();   // reset
    if (f.step !== lastStep) {
      lastStep = f.step;
      hist.push(f.step, f.symmetry.slice());
    }
    // The tab carries a warning when any layer's units are identical: findable unasked.
    const bad = f.symmetry.some((_, k) => identical(f, k));
    if (badge.hidden === bad) {
      badge.hidden = !bad;
      badge.textContent = bad ? "⚠ identical units now" : "";
    }
  }

  function draw(f) {
    const hidden = f.sizes.length - 2;
    const init = f.init || app.config?.config?.init;
    const sym = f.symmetry || [];
    // The flag: zeros/constant init.
    let flagText = "";
    if (hidden === 0) {
      flagText = "No hidden layers (logistic regression): there are no hidden units to be identical, so even zeros work — logistic regression's cost is convex.";
    } else if (init === "zeros" || init === "constant") {
      flagText = `⚠ Initialization is “${init}”: every hidden unit of a layer starts with the same weights. ` +
        "They compute the same a, receive the same δ and the same update — train as long as you like, they stay identical.";
    }
    setText(flag, flagText);
    flag.hidden = !flagText;
    flag.classList.toggle("pn-flag-bad", init === "zeros" || init === "constant");

    // One line per hidden layer (rebuilt only when a line's text changed).
    const lines = [];
    for (let k = 0; k < hidden; k++) {
      const n = f.sizes[k + 1];
      const d = sym[k];
      const s0 = start?.[k];
      let state;
      let cls;
      if (n === 1) { state = "only 1 unit: nothing to break"; cls = "pn-muted"; }
      else if (!isNum(d)) { state = "NaN: the weights are not numbers"; cls = "pn-bad"; }
      else if (d <= IDENTICAL) {
        state = `units identical: max difference ${fmt(0)}` + (f.step > 0 ? ` — still, after ${fmtInt(f.step)} updates` : "");
        cls = "pn-bad";
      } else {
        state = `diverging: max difference ${fmt(d)} — the units differ` + (isNum(s0) && f.step > 0 ? ` (${fmt(s0)} at the start)` : "");
        cls = "pn-good";
      }
      lines.push([`Layer ${k + 2} (${n} units)`, state, cls]);
    }
    const sig = lines.map((x) => x.join("|")).join(";");
    if (list._sig !== sig) {
      list._sig = sig;
      list.replaceChildren(...lines.map(([name, state, cls]) => el("li", { class: "pn-sym-item" },
        el("span", { class: "pn-sym-layer", text: name }),
        el("strong", { class: cls + " pn-sym-state", text: state }))));
    }

    drawRows(f);
    scheduleChart(f);
  }

  // The first hidden layer's incoming weights and bias: one row per unit.
  function drawRows(f) {
    const W = f.weights?.[0];
    const b = f.biases?.[0];
    if (!W || f.sizes.length < 3) {
      rowsEl.hidden = true;
      rowsTitle.parentNode.hidden = true;
      return;
    }
    rowsEl.hidden = false;
    rowsTitle.parentNode.hidden = false;
    const rows = W.length;
    const cols = W[0].length + 1;
    const cell = cols > 20 ? 8 : 26;
    if (canvas.width !== cols || canvas.height !== rows) { canvas.width = cols; canvas.height = rows; }
    canvas.style.width = cols * cell + "px";
    canvas.style.height = rows * Math.max(cell, 12) + "px";
    canvas.setAttribute("aria-label", `Incoming weights and bias of the ${rows} units of layer 2, as a ${rows} by ${cols} grid`);
    setText(rowsTitle, `Incoming weights W${courseLayer(0)} and bias of layer 2 — one row per unit, last column the bias`);
    const top = Math.max(maxAbs(W), maxAbs(b));
    const scale = Math.max(top, 1e-12);
    setText(rowsNote, top === 0 ? "Every weight and bias is 0 (white): all rows are the same." : "");
    rowsNote.hidden = top !== 0;
    const g = canvas.getContext("2d");
    const img = g.createImageData(cols, rows);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const v = c < cols - 1 ? W[r][c] : b[r];
        const o = (r * cols + c) * 4;
        if (!isNum(v)) { img.data.set([200, 200, 200, 255], o); continue; }
        const k = Math.max(0, Math.min(255, Math.round((v / scale + 1) * 127.5)));
        img.data.set(WEIGHT_SCALE.rgba.subarray(k * 4, k * 4 + 4), o);
      }
    }
    g.putImageData(img, 0, 0);
  }

  function scheduleChart(f) {
    if (chartTimer) return;
    chartTimer = setTimeout(() => { chartTimer = 0; chartAt = performance.now(); plot(f); },
      Math.max(0, CHART_MS - (performance.now() - chartAt)));
  }

  async function plot(f) {
    const hidden = f.sizes.length - 2;
    if (hidden === 0 || !hist.length) { chartEl.hidden = true; return; }
    chartEl.hidden = false;
    P = P || await ctx.getPlotly().catch(() => null);
    if (!P) return;
    const shades = ["#0b5f99", "#3d85c6", "#6fa8dc", "#1c4587", "#9fc5e8", "#073763"];
    const dashes = ["solid", "dash", "dot", "dashdot", "longdash", "solid"];
    const traces = (n) => Array.from({ length: n }, (_, k) => ({
      type: "scatter", mode: "lines", name: `layer ${k + 2}`,
      line: { color: shades[k % shades.length], width: 2, dash: dashes[k % dashes.length] },
      hovertemplate: `layer ${k + 2}: %{y:.3g}<extra>step %{x}</extra>`,
    }));
    drawSeries(P, chartEl, hist, hidden, traces, {
      font: PLOT_FONT, margin: { l: 56, r: 10, t: 28, b: 36 }, showlegend: hidden > 1,
      title: { text: "Largest difference between two units of a layer", font: { size: 12 }, x: 0.02, y: 0.97 },
      legend: { orientation: "h", x: 0.5, y: 1.08 },
      xaxis: { title: { text: "step", standoff: 2 }, rangemode: "tozero" },
      yaxis: { title: { text: "max difference", standoff: 2 }, rangemode: "tozero" },
      plot_bgcolor: "#fff", paper_bgcolor: "rgba(0,0,0,0)", uirevision: "sym",
    }, { ...PLOT_CONFIG, toImageButtonOptions: { filename: "symmetry" } });
  }

  return {
    name: "symmetry",
    el: panel,
    collect,
    update(f) { if (f) draw(f); },
    structure(f) {
      start = f.symmetry ? f.symmetry.slice() : null;
      hist.clear();
      lastStep = null;
      list._sig = null;
    },
  };
}

