// 5. "Why must the initial weights be random?". First the experiment: the server
// trains two copies of this network — every weight starting at one constant, and
// random — in two sessions of their own (POST /api/sessions, /step), and the panel
// shows what the server measured: the units' spread, train accuracy and the decision
// boundary of each (a straight line from the constant start). Then the live symmetry
// indicator: frame.symmetry holds, per hidden layer, the largest difference between
// two units' incoming weights and bias (0 = every unit of the layer computes the same
// thing). With zeros or constant init it stays 0 however long you train.

import { fmt, fmtInt, WEIGHT_SCALE, courseLayer } from "../format.js";
import { el, setText, isNum, maxAbs, Series, drawSeries, PLOT_FONT, PLOT_CONFIG } from "./util.js";

const MAX_POINTS = 1500;
const CHART_MS = 500;
const IDENTICAL = 1e-12;
const DEMO_EPOCHS = 200;     // training of each copy in the experiment (bounded in time by the server)

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

  // --- the experiment: constant start vs random start, measured by the server ----------
  const demoBtn = $("sy-demo");
  const demoStatus = $("sy-demo-status");
  const demoTable = $("sy-demo-table");
  const demoSay = $("sy-demo-say");
  let demoRan = false;

  /** The first frame of another session (its stream opens with a snapshot). */
  function firstFrame(id) {
    return new Promise((resolve, reject) => {
      const es = new EventSource(`/api/sessions/${id}/events`);
      const timer = setTimeout(() => { es.close(); reject(new Error("no frame")); }, 10000);
      es.addEventListener("frame", (e) => { clearTimeout(timer); es.close(); resolve(JSON.parse(e.data)); });
    });
  }

  async function call(path, method = "GET", body = undefined) {
    const r = await fetch(`/api/sessions${path}`, {
      method, headers: { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = r.status === 204 ? {} : await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data?.error?.message || `HTTP ${r.status}`);
    return data;
  }

  /** Train a copy of `config` with init `init` on the server; its summary and last frame. */
  async function trainCopy(config, init) {
    const made = await call("", "POST", { ...config, init, speed: "max" });
    try {
      const stepped = await call(`/${made.id}/step`, "POST", { unit: "epoch", count: DEMO_EPOCHS });
      return { summary: stepped, frame: await firstFrame(made.id) };
    } finally {
      call(`/${made.id}`, "DELETE").catch(() => {});
    }
  }

  function boundaryCanvas(b) {
    const c = el("canvas", { class: "pn-pixel pn-demo-boundary", width: b.res, height: b.res, role: "img" });
    const bytes = Uint8Array.from(atob(b.data), (ch) => ch.charCodeAt(0));
    const g = c.getContext("2d");
    const img = g.createImageData(b.res, b.res);
    for (let r = 0; r < b.res; r++) {
      for (let q = 0; q < b.res; q++) {
        const k = bytes[r * b.res + q];   // row 0 = lowest x₂: the canvas's last row
        img.data.set(WEIGHT_SCALE.rgba.subarray(k * 4, k * 4 + 4), ((b.res - 1 - r) * b.res + q) * 4);
      }
    }
    g.putImageData(img, 0, 0);
    return c;
  }

  function demoRow(name, run) {
    const f = run.frame;
    const acc = f.accuracy ? `${fmt(100 * f.accuracy.train)} %` : `J = ${fmt(f.loss.train)}`;
    const spread = f.symmetry.map((d, k) => (f.sizes[k + 1] > 1 && d <= IDENTICAL ? `layer ${k + 2}: all ${f.sizes[k + 1]} identical`
      : `layer ${k + 2}: differ by up to ${fmt(d)}`)).join("; ");
    const pic = f.boundary ? boundaryCanvas(f.boundary) : el("span", { class: "pn-muted", text: "– (no 2-D plane to draw)" });
    if (f.boundary) pic.setAttribute("aria-label", `Decision boundary after training from the ${name} start`);
    return el("tr", { dataset: { init: run.init } }, el("th", { scope: "row", text: name }),
      el("td", { text: spread || "no hidden layer" }), el("td", { class: "pn-demo-acc", text: acc }),
      el("td", { text: fmtInt(f.step) }), el("td", {}, pic));
  }

  async function runDemo() {
    demoRan = true;
    demoBtn.disabled = true;
    setText(demoStatus, "The server is training two copies of this network…");
    setText(demoSay, "");
    try {
      const r = await ctx.api("");   // this session's settings, once, to copy them
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      const { config } = await r.json();
      if (config.dataset === "csv") throw new Error("the experiment copies a built-in data set; your CSV stays in your session only");
      const random = config.init === "zeros" || config.init === "constant" ? "uniform" : config.init;
      const [constant, rand] = await Promise.all([trainCopy(config, "constant"), trainCopy(config, random)]);
      constant.init = "constant";
      rand.init = random;
      demoTable.tBodies[0].replaceChildren(demoRow("constant (every weight the same)", constant), demoRow(`random (${random})`, rand));
      demoTable.hidden = false;
      const f = constant.frame;
      const twoD = !!f.boundary && f.feature_names.length === 2;
      setText(demoSay, `After ${fmtInt(f.step)} updates the constant start reached ${f.accuracy ? fmt(100 * f.accuracy.train) + " %" : "J = " + fmt(f.loss.train)} ` +
        `on the training set, the random start ${rand.frame.accuracy ? fmt(100 * rand.frame.accuracy.train) + " %" : "J = " + fmt(rand.frame.loss.train)}. ` +
        "From the constant start every hidden unit of a layer got the same δ and the same update at every step, so they are still identical: " +
        "the layer is worth one unit" + (twoD ? ", and with inputs x₁, x₂ the boundary can only be a straight line." : "."));
      setText(demoStatus, "");
    } catch (e) {
      setText(demoStatus, "The experiment could not run: " + e.message);
    }
    demoBtn.disabled = false;
  }
  demoBtn.addEventListener("click", runDemo);

  $("sy-constant").addEventListener("click", () => app.setControls({ init: "constant" }));
  $("sy-zeros").addEventListener("click", () => app.setControls({ init: "zeros" }));
  $("sy-random").addEventListener("click", () => app.setControls({ init: "uniform" }));
  $("sy-train").addEventListener("click", async () => {
    const f = app.frame();
    if (f?.status === "running") return;
    await ctx.step("epoch");
  });

  const identical = (f, k) => f.sizes[k + 1] > 1 && isNum(f.symmetry?.[k]) && f.symmetry[k] <= IDENTICAL;

  function collect(f) {
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
    const init = f.init;
    const sym = f.symmetry;
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
    update: draw,
    shown() { if (!demoRan) runDemo(); },
    structure(f) {
      start = f.symmetry.slice();
      hist.clear();
      lastStep = null;
      list._sig = null;
    },
  };
}

