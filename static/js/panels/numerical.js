// 4. "Why not use the numerical gradient?": run gradient checking on this network
// (POST /gradcheck) — backprop against central differences per parameter on the
// y = x line, the relative difference against the server's threshold (the reply's
// `threshold`), the time and the passes of each — and a sweep of
// widths (POST /gradcheck/sweep) as a log-log chart, so O(W) against O(W²) is visible.
// A result that lands below the fold says so in the status line.

import { fmt, fmtInt, GRAD_SCALE } from "../format.js";
import { el, setText, fmtTime, isNum, PLOT_FONT, PLOT_CONFIG } from "./util.js";

export function initNumerical(app) {
  const { $ } = app;
  const panel = $("panel-numerical");
  const runBtn = $("nm-run");
  const sweepBtn = $("nm-sweep");
  const status = $("nm-status");
  const result = $("nm-result");
  const verdict = $("nm-verdict");
  const sampled = $("nm-sampled");
  const scatterEl = $("nm-scatter");
  const growthEl = $("nm-growth");
  const growthSay = $("nm-growth-say");
  let P = null;

  const plotly = async () => (P = P || await app.ctx.getPlotly());

  /** "Done" in the status line — and, when the result is below the window, where it is. */
  function announce(target, what) {
    const r = target.getBoundingClientRect();
    const below = r.top > window.innerHeight - 40;
    status._t = null;   // setText's memo: the text is replaced here
    status.replaceChildren();
    if (!below) return;
    const go = el("button", { type: "button", class: "pn-link", text: `${what} is below ↓ (scroll to it)` });
    go.addEventListener("click", () => target.scrollIntoView({ block: "center" }));
    status.append(go);
  }

  async function run() {
    runBtn.disabled = true;
    setText(status, "Running both methods…");
    try {
      const g = await app.post("/gradcheck", {});
      show(g);
      await scatter(g);
      announce(result, "The result");
    } catch (e) {
      setText(status, "Gradient checking failed: " + e.message);
    }
    runBtn.disabled = false;
  }

  function show(g) {
    result.hidden = false;
    const r = g.relative_difference;
    verdict.replaceChildren();
    const ok = isNum(r) && r < g.threshold;
    verdict.append(
      "Relative difference ‖n − b‖ / ‖n + b‖ = ",
      el("strong", { class: "pn-reldiff", text: fmt(r) }),
      el("span", {
        class: ok ? "pn-good" : "pn-bad",
        text: ok ? ` — below the threshold ${fmt(g.threshold)} ✓ backprop is right.`
          : ` — above the threshold ${fmt(g.threshold)} ✗ backprop and the numerical gradient disagree` +
            (app.frame().maths.activation === "relu" ? " (ReLU's kink at z = 0 can cause this)." : "."),
      }),
    );
    const bp = g.forward_passes.backprop;
    const nm = g.forward_passes.numerical;
    setText($("nm-threshold"), fmt(g.threshold));
    setText($("nm-bp-time"), fmtTime(g.backprop_seconds));
    setText($("nm-bp-passes"), `${fmtInt(bp)} (1 forward + 1 backward)`);
    setText($("nm-bp-params"), `all ${fmtInt(g.parameters)}`);
    setText($("nm-num-time"), fmtTime(g.numerical_seconds) + (g.sampled ? ` (≈ ${fmtTime(g.numerical_seconds * g.parameters / g.checked)} for all)` : ""));
    setText($("nm-num-passes"), `${fmtInt(nm)} (2 × ${fmtInt(g.checked)})`);
    setText($("nm-num-params"), g.sampled ? `${fmtInt(g.checked)} of ${fmtInt(g.parameters)} (sampled)` : `all ${fmtInt(g.parameters)}`);
    const ratio = g.numerical_seconds / Math.max(g.backprop_seconds, 1e-9) * (g.sampled ? g.parameters / g.checked : 1);
    sampled.hidden = false;
    sampled.textContent = (g.sampled
      ? `This network has ${fmtInt(g.parameters)} parameters: to keep the server responsive only a random sample of ${fmtInt(g.checked)} was checked numerically. `
      : "") +
      `On the same ${g.m} examples the numerical gradient ${g.sampled ? "would take" : "took"} about ${fmtInt(ratio)}× as long as backprop — ` +
      "and training needs a gradient at every one of thousands of steps.";
  }

  async function scatter(g) {
    scatterEl.hidden = false;
    const Pl = await plotly();
    const b = g.backprop;
    const n = g.numerical;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of [...b, ...n]) if (isNum(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    if (!isFinite(lo)) { lo = -1; hi = 1; }
    const pad = (hi - lo) * 0.06 || 0.01;
    const m = Math.max(Math.abs(lo), Math.abs(hi), 1e-12);
    Pl.react(scatterEl, [
      {
        type: "scatter", mode: "lines", name: "y = x (perfect agreement)", x: [lo - pad, hi + pad], y: [lo - pad, hi + pad],
        line: { color: "#999", width: 1.5, dash: "dot" }, hoverinfo: "skip",
      },
      {
        type: "scatter", mode: "markers", name: "one parameter", x: b, y: n,
        marker: { size: 8, color: b, cmin: -m, cmax: m, colorscale: GRAD_SCALE.plotly, line: { color: "#444", width: 0.6 } },
        hovertemplate: "backprop %{x:.6g}<br>numerical %{y:.6g}<extra></extra>",
      },
    ], {
      font: PLOT_FONT, margin: { l: 60, r: 10, t: 30, b: 42 },
      title: { text: `∂J/∂θ for ${fmtInt(b.length)} parameters`, font: { size: 12 }, x: 0.02, y: 0.98 },
      legend: { orientation: "h", x: 0, y: -0.22 },
      xaxis: { title: { text: "backprop", standoff: 4 }, zeroline: false, tickformat: ".2~g", range: [lo - pad, hi + pad] },
      yaxis: { title: { text: "numerical (central differences)", standoff: 4 }, zeroline: false, tickformat: ".2~g", range: [lo - pad, hi + pad] },
      plot_bgcolor: "#fff", paper_bgcolor: "rgba(0,0,0,0)",
    }, { ...PLOT_CONFIG, toImageButtonOptions: { filename: "gradient-check" } });
  }

  async function sweep() {
    sweepBtn.disabled = true;
    setText(status, "Timing both methods on wider networks…");
    try {
      const s = await app.post("/gradcheck/sweep", {});
      await growth(s);
      announce(growthEl, "The timing chart");
    } catch (e) {
      setText(status, "The sweep failed: " + e.message);
    }
    sweepBtn.disabled = false;
  }

  async function growth(s) {
    growthEl.hidden = false;
    const Pl = await plotly();
    const rows = s.rows;
    const x = rows.map((r) => r.parameters);
    const hover = (key) => rows.map((r) => `width ${r.width}: ${fmtInt(r.parameters)} parameters<br>${fmtTime(r[key])}, ` +
      `${fmtInt(r.forward_passes[key === "backprop_seconds" ? "backprop" : "numerical"])} passes`);
    Pl.react(growthEl, [
      {
        type: "scatter", mode: "lines+markers", name: "numerical (2·W passes)", x, y: rows.map((r) => r.numerical_seconds),
        line: { color: "#222", width: 2, dash: "dash" }, marker: { size: 7, symbol: "square" },
        text: hover("numerical_seconds"), hovertemplate: "%{text}<extra>numerical</extra>",
      },
      {
        type: "scatter", mode: "lines+markers", name: "backprop (2 passes)", x, y: rows.map((r) => r.backprop_seconds),
        line: { color: "#222", width: 2 }, marker: { size: 7 },
        text: hover("backprop_seconds"), hovertemplate: "%{text}<extra>backprop</extra>",
      },
    ], {
      font: PLOT_FONT, margin: { l: 60, r: 10, t: 30, b: 42 },
      title: { text: `Time for one gradient, ${s.hidden_layers} hidden layer${s.hidden_layers === 1 ? "" : "s"} of width ${rows.map((r) => r.width).join(", ")}`, font: { size: 12 }, x: 0.02, y: 0.98 },
      legend: { orientation: "h", x: 0, y: -0.22 },
      xaxis: { type: "log", title: { text: "parameters W (log)", standoff: 4 }, tickvals: x, ticktext: x.map(fmtInt) },
      yaxis: { type: "log", title: { text: "seconds (log)", standoff: 4 }, exponentformat: "power" },
      plot_bgcolor: "#fff", paper_bgcolor: "rgba(0,0,0,0)",
    }, { ...PLOT_CONFIG, toImageButtonOptions: { filename: "gradient-cost-growth" } });
    const a = rows[0];
    const z = rows[rows.length - 1];
    const ratio = z.parameters / a.parameters;
    const grow = (k) => z[k] / Math.max(a[k], 1e-12);
    const bp = grow("backprop_seconds");
    setText(growthSay, s.hidden_layers === 0
      ? "No hidden layers here: the sweep has nothing to widen. Add a hidden layer to see how the costs grow."
      : `From ${fmtInt(a.parameters)} to ${fmtInt(z.parameters)} parameters (×${fmt(ratio)}): the numerical gradient took ` +
        `×${fmt(grow("numerical_seconds"))} as long — it needs 2·W forward passes, so its time grows with W. ` +
        (bp < 2 ? `Backprop's time stayed about the same (×${fmt(bp)}): still one forward and one backward pass. `
          : `Backprop's grew only ×${fmt(bp)}: still one forward and one backward pass. `) +
        "On networks this small every pass costs about the same (fixed overhead); on big networks each pass also costs ∝ W, " +
        "so the numerical gradient is O(W²) and backprop O(W)." +
        (rows.some((r) => r.sampled) ? " (To keep the server responsive, the numerical times of the bigger networks were measured on a sample of parameters and scaled up.)" : ""));
  }

  runBtn.addEventListener("click", run);
  sweepBtn.addEventListener("click", sweep);

  return {
    name: "numerical",
    el: panel,
    structure() {
      // The results were for the old network.
      result.hidden = true;
      scatterEl.hidden = true;
      growthEl.hidden = true;
      setText(growthSay, "");
      setText(status, "");
    },
  };
}
