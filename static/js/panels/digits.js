// 7. Digits (the course's kind of problem): the focus example as an 8×8 image with the
// network's outputs and its guess, each first-layer hidden unit's 64 incoming weights
// as an 8×8 image (the course's display of Θ⁽¹⁾), and the test set's confusion matrix
// (Plotly, restyled at most twice a second).

import { fmt, WEIGHT_SCALE } from "../format.js";
import { el, setText, isNum, maxAbs, chipColour, PLOT_FONT, PLOT_CONFIG } from "./util.js";

const CONFUSION_MS = 500;
const SIDE = 8;

function paint(canvas, values, scale) {
  // values/scale in [−1, 1] → WEIGHT_SCALE (ink 0…1 runs from white to blue).
  const n = SIDE * SIDE;
  if (canvas.width !== SIDE) { canvas.width = SIDE; canvas.height = SIDE; }
  const g = canvas.getContext("2d");
  const img = g.createImageData(SIDE, SIDE);
  for (let p = 0; p < n; p++) {
    const v = values?.[p];
    if (!isNum(v)) { img.data.set([200, 200, 200, 255], p * 4); continue; }
    const k = Math.max(0, Math.min(255, Math.round((v / scale + 1) * 127.5)));
    img.data.set(WEIGHT_SCALE.rgba.subarray(k * 4, k * 4 + 4), p * 4);
  }
  g.putImageData(img, 0, 0);
}

export function initDigits(app) {
  const { $, ctx } = app;
  const panel = $("panel-digits");
  const off = $("dg-off");
  const on = $("dg-on");
  const input = $("dg-input");
  const pred = $("dg-pred");
  const bars = $("dg-bars");
  const unitsEl = $("dg-units");
  const confEl = $("dg-confusion");
  let units = [];
  let P = null;
  let confTimer = 0;
  let confAt = 0;
  let confKey = null;
  let confPlotted = false;

  $("dg-switch").addEventListener("click", () => app.setControls({ dataset: "digits", layers: [16] }));
  $("dg-train").addEventListener("click", async () => {
    const f = app.frame();
    if (f?.status !== "running") await ctx.step("epoch");
  });
  $("dg-prev").addEventListener("click", () => app.moveFocus(-1));
  $("dg-next").addEventListener("click", () => app.moveFocus(1));

  function buildUnits(f) {
    const n = f.sizes.length > 2 ? f.sizes[1] : 0;
    units = [];
    const items = [];
    for (let i = 0; i < n; i++) {
      const c = el("canvas", { class: "pn-pixel pn-digit-unit", width: SIDE, height: SIDE, "aria-hidden": "true" });
      const b = el("button", { type: "button", class: "pn-unit", "aria-label": `Hidden unit ${i + 1}: its incoming weights as an image; show its maths` },
        c, el("span", { class: "pn-unit-label", text: `unit ${i + 1}` }));
      b.addEventListener("click", () => app.select({ kind: "node", l: 1, i }, "digits"));
      units.push(c);
      items.push(b);
    }
    unitsEl.replaceChildren(...(items.length ? items
      : [el("p", { class: "pn-muted", text: "No hidden layer: the output units' weights are the images here." })]));
    if (!n && f.weights?.[0]) {
      // Logistic regression on digits: show each output unit's weights instead.
      f.weights[0].forEach((_, i) => {
        const c = el("canvas", { class: "pn-pixel pn-digit-unit", width: SIDE, height: SIDE, "aria-hidden": "true" });
        const b = el("div", { class: "pn-unit" }, c, el("span", { class: "pn-unit-label", text: `digit ${i}` }));
        units.push(c);
        unitsEl.append(b);
      });
    }
  }

  function draw(f) {
    const digits = f.dataset === "digits" && f.sizes[0] === SIDE * SIDE;
    off.hidden = digits;
    on.hidden = !digits;
    if (!digits) return;
    if (units.length === 0 || unitsEl._structure !== f.structure) {
      unitsEl._structure = f.structure;
      buildUnits(f);
    }
    // The focus example and the network's outputs for it.
    const x = f.focus?.x;
    paint(input, x, Math.max(maxAbs(x), 1e-12));
    const Lx = f.sizes.length - 1;
    const h = f.focus?.a?.[Lx] || [];
    const y = f.focus?.y || [];
    const truth = y.findIndex((v) => v === 1);
    let best = -1;
    h.forEach((v, k) => { if (isNum(v) && (best < 0 || v > h[best])) best = k; });
    pred.replaceChildren(
      "Predicted ", el("strong", { class: "pn-big", text: best < 0 ? "NaN" : String(best) }), el("br"),
      "label ", el("strong", { class: "pn-big", text: truth < 0 ? "?" : String(truth) }), " ",
      el("span", { class: best === truth ? "pn-good" : "pn-bad", text: best === truth ? "✓ right" : "✗ wrong" }), el("br"),
      el("span", { class: "pn-small pn-muted", text: "the largest of the 10 outputs wins" }),
    );
    input.setAttribute("aria-label", `Training example #${f.focus?.index}: a handwritten ${truth}`);
    const sig = h.length;
    if (bars._n !== sig) {
      bars._n = sig;
      bars.replaceChildren(...h.map((_, k) => el("div", { class: "pn-bar-row" },
        el("span", { class: "pn-bar-label", text: String(k) }),
        el("span", { class: "pn-bar-track" }, el("span", { class: "pn-bar" })),
        el("span", { class: "pn-bar-value pn-num" }))));
    }
    h.forEach((v, k) => {
      const row = bars.children[k];
      const bar = row.children[1].firstChild;
      const w = isNum(v) ? Math.max(0, Math.min(1, v)) * 100 : 0;
      bar.style.width = w.toFixed(1) + "%";
      bar.style.background = chipColour(isNum(v) ? Math.max(v, 0.25) : NaN, 1, "a") || "transparent";
      setText(row.children[2], fmt(v));
      row.classList.toggle("pn-bar-best", k === best);
      row.classList.toggle("pn-bar-truth", k === truth);
    });
    // Hidden units' incoming weights as images, one colour scale for the whole layer.
    const W = f.weights?.[0];
    if (W) {
      const scale = Math.max(maxAbs(W), 1e-12);
      units.forEach((c, i) => paint(c, W[i], scale));
    }
    const sel = app.selection;
    [...unitsEl.querySelectorAll("button.pn-unit")].forEach((b, i) => {
      const on = sel?.kind === "node" && sel.l === 1 && sel.i === i;
      b.classList.toggle("pn-unit-on", on);
      b.setAttribute("aria-pressed", String(on));
    });
    scheduleConfusion(f);
  }

  function scheduleConfusion(f) {
    if (confTimer) return;
    confTimer = setTimeout(() => { confTimer = 0; confAt = performance.now(); confusion(app.frame() || f); },
      Math.max(0, CONFUSION_MS - (performance.now() - confAt)));
  }

  async function confusion(f) {
    const c = f?.confusion;
    if (!c || panel.hidden) return;
    const key = JSON.stringify(c.matrix);
    if (key === confKey && confPlotted) return;
    confKey = key;
    P = P || await ctx.getPlotly().catch(() => null);
    if (!P) return;
    const total = c.matrix.flat().reduce((s, v) => s + v, 0);
    const right = c.matrix.reduce((s, row, k) => s + row[k], 0);
    const title = `test accuracy ${total ? (100 * right / total).toFixed(1) : "–"} % (${right} of ${total})`;
    if (confPlotted && confEl.data) {
      P.restyle(confEl, { z: [c.matrix] }, [0]);
      P.relayout(confEl, { "title.text": title });
      return;
    }
    confPlotted = true;
    P.react(confEl, [{
      type: "heatmap", z: c.matrix, x: c.labels, y: c.labels,
      // Counts are neither activations nor gradients: a neutral grey ramp.
      colorscale: [[0, "#ffffff"], [1, "#37474f"]], showscale: false,
      texttemplate: "%{z}", textfont: { size: 10 }, xgap: 1, ygap: 1,
      hovertemplate: "true %{y}, predicted %{x}: %{z}<extra></extra>",
    }], {
      font: PLOT_FONT, margin: { l: 44, r: 6, t: 26, b: 40 },
      title: { text: title, font: { size: 12 }, x: 0.02, y: 0.98 },
      xaxis: { title: { text: "predicted digit", standoff: 2 }, type: "category", side: "bottom", fixedrange: true },
      yaxis: { title: { text: "true digit", standoff: 2 }, type: "category", autorange: "reversed", fixedrange: true, scaleanchor: "x" },
      plot_bgcolor: "#fff", paper_bgcolor: "rgba(0,0,0,0)",
    }, { ...PLOT_CONFIG, toImageButtonOptions: { filename: "confusion-matrix" } });
  }

  return {
    name: "digits",
    el: panel,
    update(f) { if (f) draw(f); },
    select() {
      const f = app.frame();
      if (f && app.isShown("digits")) draw(f);
    },
    structure() {
      units = [];
      unitsEl._structure = null;
      confKey = null;
      confPlotted = false;
    },
  };
}
