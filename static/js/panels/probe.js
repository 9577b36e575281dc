// 3. "What is δ?": the δ probe. Pick a unit, nudge its z by ±h on the current batch
// (POST /probe) and compare the slope of J with the unit's δ from backprop — the batch
// average, and the focus example's own (the one the maths panel shows). A small chart
// shows J as z is pushed further (a few more probes), with the tangent of slope δ:
// δ is the slope of the cost with respect to z.

import { fmt, courseLayer, sub, GRAD_SCALE } from "../format.js";
import { over } from "./maths.js";
import { el, setText, updateNum, isNum, unitName, missing, PLOT_FONT, PLOT_CONFIG } from "./util.js";

const CURVE_H = [0.1, 0.2, 0.35, 0.5, 0.75, 1];   // the route accepts h up to 1

/** Both costs with just enough digits to see where they differ (+2), at least 3. */
function distinct(a, b) {
  if (!isNum(a) || !isNum(b)) return [fmt(a), fmt(b)];
  for (let p = 3; p <= 14; p++) {
    const sa = a.toPrecision(p);
    const sb = b.toPrecision(p);
    if (sa !== sb) {
      const q = Math.min(p + 1, 15);
      return [a.toPrecision(q), b.toPrecision(q)].map((s) => s.replace("-", "−"));
    }
  }
  return [a.toPrecision(14), b.toPrecision(14)];
}

export function initProbe(app) {
  const { $ } = app;
  const panel = $("panel-delta");
  const unitSel = $("pr-unit");
  const hSel = $("pr-h");
  const go = $("pr-go");
  const out = {
    plus: $("pr-plus"), minus: $("pr-minus"), num: $("pr-num"), delta: $("pr-delta"), diff: $("pr-diff"),
    focusNum: $("pr-focus-num"), focusDelta: $("pr-focus-delta"),
  };
  const deltaOver = $("pr-delta-over");
  const focusGrid = $("pr-focus");
  const focusLabel = $("pr-focus-label");
  const say = $("pr-say");
  const weightSay = $("pr-weight");
  const chartEl = $("pr-chart");
  let result = null;
  let running = false;
  let P = null;

  function fillUnits(f) {
    const opts = [];
    for (let l = 1; l < f.sizes.length; l++) {
      for (let i = 0; i < f.sizes[l]; i++) {
        opts.push(el("option", { value: `${l}:${i}`, text: unitName(f, l, i) }));
      }
    }
    unitSel.replaceChildren(...opts);
    // Start on a hidden unit when there is one (δ there is the interesting one).
    unitSel.value = f.sizes.length > 2 ? "1:0" : `${f.sizes.length - 1}:0`;
  }

  function chosen() {
    const [l, i] = (unitSel.value || "1:0").split(":").map(Number);
    return { l, i };
  }

  async function run() {
    if (running) return;
    const f = app.frame();
    if (!f) return;
    running = true;
    go.disabled = true;
    const { l, i } = chosen();
    const h = Number(hSel.value);
    setText(say, "Nudging…");
    try {
      const r = await app.post("/probe", { layer: l, unit: i, h });
      // A few bigger nudges for the picture (the same route, larger h).
      const settled = await Promise.allSettled(CURVE_H.map((hh) => app.post("/probe", { layer: l, unit: i, h: hh })));
      const curve = settled.filter((x) => x.status === "fulfilled").map((x) => x.value);
      result = { ...r, curve };
      show(app.frame());
      plot();
    } catch (e) {
      setText(say, "The probe failed: " + e.message);
    }
    running = false;
    go.disabled = false;
  }
  go.addEventListener("click", run);
  unitSel.addEventListener("change", () => {
    result = null;
    clear();
    const { l, i } = chosen();
    app.select({ kind: "node", l, i }, "probe");   // the maths panel shows this unit's δ
  });

  function clear() {
    for (const k in out) setText(out[k], "–");
    focusGrid.hidden = true;
    setText(say, "");
    setText(weightSay, "");
    chartEl.hidden = true;
  }

  function show(f) {
    const r = result;
    if (!r) return;
    const [p, m] = distinct(r.cost_plus, r.cost_minus);
    setText(out.plus, p);
    setText(out.minus, m);
    const batch = `average over the batch, m = ${r.m} examples`;
    setText(deltaOver, `(${batch})`);
    updateNum(out.num, r.numerical, "d");
    updateNum(out.delta, r.delta, "d");
    updateNum(out.diff, r.difference, null);
    const hasFocus = "focus_delta" in r;
    focusGrid.hidden = !hasFocus;
    if (hasFocus) {
      setText(focusLabel, `example #${r.focus} only`);
      updateNum(out.focusNum, r.focus_numerical, "d");
      updateNum(out.focusDelta, r.focus_delta, "d");
    }
    const name = `z${courseLayer(r.layer)}${sub(r.unit + 1)}`;
    const d = r.delta;
    let s = `Raising ${name} by h = ${fmt(r.h)} on every example of the batch (m = ${r.m}) moves J from ${fmt(r.cost_minus)} to ${fmt(r.cost_plus)} ` +
      `across ±h: J's slope is ${fmt(r.numerical)} — the same as backprop's δ averaged over the batch, ${fmt(d)} (they differ by ${fmt(r.difference)}). ` +
      (hasFocus ? `On example #${r.focus} alone the slope is ${fmt(r.focus_numerical)}, its own δ ${fmt(r.focus_delta)}: that is the δ the maths panel shows. ` : "");
    if (isNum(d)) {
      s += d > 0 ? `δ > 0: a larger ${name} makes the cost worse, so gradient descent will lower this unit's z.`
        : d < 0 ? `δ < 0: a larger ${name} lowers the cost, so gradient descent will raise this unit's z.`
          : "δ = 0: this unit's z does not affect the cost at all right now.";
    }
    setText(say, s);
    const a = f.focus.a[r.layer - 1]?.[0];
    const dd = f.focus.delta[r.layer]?.[r.unit];
    const D = f.grads?.W[r.layer - 1]?.[r.unit]?.[0];
    const w = `W${courseLayer(r.layer - 1)}${sub(r.unit + 1)},${sub(1)}`;
    const from = r.layer - 1 === 0 ? "input" : "unit";
    setText(weightSay, `The weight ${w} (from ${from} 1 of layer ${r.layer} into this unit): example #${f.focus.index} contributes ` +
      (isNum(dd) && isNum(a) ? `δ${courseLayer(r.layer)}${sub(r.unit + 1)} · a${courseLayer(r.layer - 1)}${sub(1)} = ${fmt(dd)} × ${fmt(a)}`
        : `– (${missing(f, "its δ is not computed until the backward pass")})`) +
      `; D = ∂J/∂${w}, ${over(f, f.maths.averages.grads)}, is ${isNum(D) ? fmt(D) : `– (${missing(f, "not computed until the backward pass")})`}.`);
  }

  async function plot() {
    const r = result;
    if (!r || !r.curve) return;
    chartEl.hidden = false;
    P = P || await app.ctx.getPlotly().catch(() => null);
    if (!P) { chartEl.hidden = true; return; }
    const j0 = (r.cost_plus + r.cost_minus) / 2;
    const pts = [];
    for (const c of r.curve) {
      if (isNum(c.cost_minus)) pts.push([-c.h, c.cost_minus]);
      if (isNum(c.cost_plus)) pts.push([c.h, c.cost_plus]);
    }
    pts.push([0, j0]);
    pts.sort((u, v) => u[0] - v[0]);
    const span = CURVE_H[CURVE_H.length - 1];
    const colour = r.delta < 0 ? GRAD_SCALE.neg : GRAD_SCALE.pos;
    const name = `z${courseLayer(r.layer)}${sub(r.unit + 1)}`;
    P.react(chartEl, [
      {
        type: "scatter", mode: "lines+markers", name: "J(z + t)", x: pts.map((q) => q[0]), y: pts.map((q) => q[1]),
        line: { color: "#222", width: 2 }, marker: { size: 5, color: "#222" },
        hovertemplate: "nudge %{x:.3g}<br>J %{y:.4g}<extra></extra>",
      },
      {
        type: "scatter", mode: "lines", name: `tangent, slope δ = ${fmt(r.delta)}`,
        x: [-span, span], y: [j0 - span * r.delta, j0 + span * r.delta],
        line: { color: colour, width: 2, dash: "dash" }, hoverinfo: "skip",
      },
    ], {
      font: PLOT_FONT, margin: { l: 58, r: 10, t: 28, b: 38 }, showlegend: true,
      legend: { orientation: "h", x: 0, y: 1.04, yanchor: "bottom" },
      xaxis: { title: { text: `nudge t added to ${name} (every example of the batch)`, standoff: 4 }, zeroline: true },
      yaxis: { title: { text: "cost J", standoff: 4 }, tickformat: ".4~g" },
      plot_bgcolor: "#fff", paper_bgcolor: "rgba(0,0,0,0)",
    }, { ...PLOT_CONFIG, toImageButtonOptions: { filename: "delta-probe" } });
  }

  return {
    name: "delta",
    el: panel,
    update(f) {
      if (unitSel.options.length === 0 && f) fillUnits(f);
    },
    structure(f) {
      fillUnits(f);
      result = null;
      clear();
    },
    select(sel) {
      if (sel?.kind !== "node" || sel.l < 1) return;
      const v = `${sel.l}:${sel.i}`;
      if (unitSel.value !== v) {
        unitSel.value = v;
        result = null;
        clear();
      }
    },
  };
}
