// 1. The six-step stepper: the course's procedure, one step at a time and, within
// forward and backward propagation, one layer at a time. The server's phase cursor
// (step "phase") drives steps 2, 3, 4 and 6; step 5 runs the gradient check.
// While guided mode is on and the card is scrolled away, a small bar docks at the
// bottom of the window so the diagram and Next are on screen together.

import { fmt, fmtInt, courseLayer } from "../format.js";
import { el, setText, numSpan, chipColour, maxAbs, norm, fmtTime, isNum } from "./util.js";

const G_NAME = { sigmoid: "sigmoid", tanh: "tanh", relu: "ReLU", linear: "the identity", softmax: "softmax" };

export function initStepper(app) {
  const { $, ctx } = app;
  const panel = $("panel-steps");
  const title = $("st-title");
  const text = $("st-text");
  const numbers = $("st-numbers");
  const note = $("st-note");
  const next = $("st-next");
  const back = $("st-back");
  const status = $("st-status");
  const list = $("st-list");

  let guided = false;
  let busy = false;
  let busySeq = null;
  let gcKey = null;        // "step:structure" at which step 5 was entered
  let gc = null;           // the gradient-check reply shown in step 5
  let gcError = null;
  let lossBefore = null;   // J(train) before the update, for step 6
  let cardOnScreen = true;
  let last = null;         // the last {stage, layer} drawn

  // The dock: Next/Back at the bottom of the window while the card is off screen.
  const dockTitle = el("span", { class: "pn-dock-title" });
  const dockNext = el("button", { type: "button", class: "pn-btn pn-primary", text: "Next ▸" });
  const dockBack = el("button", { type: "button", class: "pn-btn", text: "⟲ Step 1", title: "Reset to step 1 (the same initial weights)" });
  const dockMore = el("button", { type: "button", class: "pn-btn", text: "Details ↓" });
  const dockExit = el("button", { type: "button", class: "pn-btn pn-tiny", text: "✕", "aria-label": "Leave guided mode" });
  const dock = el("div", { class: "pn-dock", role: "region", "aria-label": "Guided steps", hidden: true },
    el("span", { class: "pn-dock-label", text: "Guided steps" }), dockTitle, dockBack, dockNext, dockMore, dockExit);
  app.ctx.root.appendChild(dock);

  new IntersectionObserver((entries) => {
    for (const en of entries) cardOnScreen = en.isIntersecting;
    syncDock();
  }).observe($("st-card"));

  function syncDock() {
    const show = guided && !panel.hidden && !cardOnScreen;
    if (dock.hidden === show) dock.hidden = !show;
  }

  const key = (f) => `${f.step}:${f.structure}`;

  function stageOf(f) {
    const c = f.cursor || { phase: "idle" };
    if (c.phase === "forward") return { stage: 2, layer: c.layer };
    if (c.phase === "cost") return { stage: 3, layer: null };
    if (c.phase === "backward") {
      if (c.example !== undefined) return { stage: 4, layer: 1, example: c };
      if (c.layer === 1 && gcKey === key(f)) return { stage: 5, layer: null };
      return { stage: 4, layer: c.layer };
    }
    if (c.phase === "update") return { stage: 6, layer: null };
    return { stage: 1, layer: null };
  }

  function highlightFor(s, f) {
    if (!guided || panel.hidden) return null;
    if (s.stage === 2 || s.stage === 4) return s.layer;
    if (s.stage === 3) return f.sizes.length - 1;
    return null;
  }

  // --- actions ------------------------------------------------------------------------
  async function doNext() {
    const f = app.frame();
    if (!f || busy) return;
    guided = true;
    const s = stageOf(f);
    if (s.stage === 4 && s.layer === 1 && !s.example) {
      gcKey = key(f);
      gc = null;
      gcError = null;
      draw(f);
      runCheck();
      return;
    }
    if (s.stage === 3 || s.stage === 2) lossBefore = f.loss?.train;
    busy = true;
    busySeq = f.seq;
    sync();
    try {
      if (f.status === "running") await ctx.api("/pause", { method: "POST" });
      const r = await ctx.step("phase");
      if (!r.ok) {
        const body = await r.json().catch(() => ({}));
        throw new Error(body?.error?.message || `HTTP ${r.status}`);
      }
      setText(status, "");
    } catch (e) {
      busy = false;
      setText(status, e.message);
    }
    setTimeout(() => { if (busy) { busy = false; sync(); } }, 2000);
    sync();
  }

  async function runCheck() {
    setText(status, "Checking the gradient numerically…");
    try {
      gc = await app.post("/gradcheck", {});
      setText(status, "");
    } catch (e) {
      gcError = e.message;
      setText(status, "");
    }
    const f = app.frame();
    if (f) draw(f);
  }

  async function doBack() {
    guided = true;
    gcKey = null;
    gc = null;
    lossBefore = null;
    try {
      const r = await ctx.api("/reset", { method: "POST" });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      setText(status, "Reset: the same initial weights as at the start.");
    } catch (e) {
      setText(status, e.message);
    }
  }

  next.addEventListener("click", doNext);
  back.addEventListener("click", doBack);
  dockNext.addEventListener("click", doNext);
  dockBack.addEventListener("click", doBack);
  dockMore.addEventListener("click", () => panel.scrollIntoView({
    behavior: window.matchMedia?.("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth", block: "start",
  }));
  dockExit.addEventListener("click", () => {
    guided = false;
    ctx.diagram.highlight(null);
    syncDock();
  });

  // --- drawing ---------------------------------------------------------------------------
  function sync() {
    next.disabled = busy;
    dockNext.disabled = busy;
    syncDock();
  }

  function vectorTable(f, l, cols) {
    // cols: [{label, values, kind}] — one row per unit of layer l.
    const n = f.sizes[l];
    const scale = cols.map((c) => Math.max(maxAbs(c.values), 1e-12));
    const last = f.sizes.length - 1;
    const thead = el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "unit" }),
      cols.map((c) => el("th", { scope: "col", text: c.label }))));
    const rows = [];
    for (let i = 0; i < n; i++) {
      const label = l === last && f.dataset === "digits" ? `${i + 1} (digit ${i})` : String(i + 1);
      rows.push(el("tr", {}, el("th", { scope: "row", text: label }), cols.map((c, k) => {
        const v = c.values ? c.values[i] : null;
        const chip = el("span", { class: "pn-chip" });
        const bg = chipColour(v, c.fixed ?? scale[k], c.kind);
        if (bg) chip.style.background = bg; else chip.classList.add("pn-chip-nan");
        return el("td", {}, chip, c.values ? numSpan(v, c.kind) : el("span", { class: "pn-muted", text: "not yet" }));
      })));
    }
    return el("table", { class: "pn-table pn-vector" }, thead, el("tbody", {}, rows));
  }

  function kv(label, value) {
    return el("div", { class: "pn-kv" }, el("span", { class: "pn-kv-label", text: label }), value);
  }

  function outputTargets(f) {
    const L = f.sizes.length - 1;
    return vectorTable(f, L, [
      { label: "h(x) = a" + courseLayer(L), values: f.focus?.a?.[L], kind: "a", fixed: f.output === "linear" ? null : 1 },
      { label: "y (target)", values: f.focus?.y, kind: "a", fixed: f.output === "linear" ? null : 1 },
    ]);
  }

  function exampleCost(f) {
    const L = f.sizes.length - 1;
    const h = f.focus?.a?.[L];
    const y = f.focus?.y;
    if (!h || !y) return NaN;
    let c = 0;
    if (f.problem === "regression" || f.output === "linear") {
      h.forEach((v, k) => { c += 0.5 * (v - y[k]) ** 2; });
    } else if (f.output === "softmax") {
      h.forEach((v, k) => { if (y[k]) c -= y[k] * Math.log(Math.max(v, 1e-300)); });
    } else {
      h.forEach((v, k) => {
        c -= y[k] * Math.log(Math.max(v, 1e-300)) + (1 - y[k]) * Math.log(Math.max(1 - v, 1e-300));
      });
    }
    return c;
  }

  function content(f, s) {
    const L = f.sizes.length - 1;
    const cfg = app.config?.config || {};
    const g = G_NAME[f.activation] || f.activation;
    const gOut = G_NAME[f.output] || f.output;
    const logreg = L === 1;
    const out = { title: "", text: "", numbers: [], note: "", nextLabel: "Next ▸", sig: "" };
    const layerOf = (l) => `layer ${l + 1} of ${L + 1}`;
    switch (s.stage) {
      case 1: {
        out.title = "Step 1 of 6 · Random initialization";
        const init = f.init || cfg.init;
        const eps = cfg.init_epsilon;
        if (init === "zeros" || init === "constant") {
          out.text = `This network starts from ${init === "zeros" ? "all zeros" : "one constant value"}: every hidden unit of a layer is the same, ` +
            "so they will get the same updates and stay the same. Question 5 below shows why the course insists on random weights.";
        } else if (init === "uniform") {
          const e = eps === "auto" || eps === undefined ? "√6 / √(L_in + L_out) for each layer" : fmt(Number(eps)) + (Number(eps) === 0.12 ? " (the course's value)" : "");
          out.text = `Every weight starts as a small random number, uniform in [−ε, ε] with ε = ${e}. ` +
            "Random, so that the hidden units start different from each other; small, so that g(z) is not saturated.";
        } else {
          out.text = `Every weight starts as a small random number (${init} initialization), so that the hidden units start different from each other.`;
        }
        if (f.step > 0) out.note = `Training has already moved the weights (${fmtInt(f.step)} updates). “Back” resets them to the same random start.`;
        for (let l = 0; l < L; l++) {
          const W = f.weights?.[l];
          let lo = Infinity;
          let hi = -Infinity;
          for (const row of W || []) for (const v of row) { if (isNum(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } }
          out.numbers.push(kv(`W${courseLayer(l)} (${f.sizes[l + 1]}×${f.sizes[l]}): `,
            el("span", {}, "from ", numSpan(lo, "a"), " to ", numSpan(hi, "a"))));
        }
        (f.symmetry || []).forEach((d, k) => {
          out.numbers.push(kv(`hidden layer ${k + 2}: `, el("span", {}, d === 0 && f.sizes[k + 1] > 1
            ? el("strong", { class: "pn-bad", text: "all units identical" })
            : el("span", {}, "units differ by up to ", numSpan(d, "a")))));
        });
        out.nextLabel = "Start: forward propagation ▸";
        break;
      }
      case 2: {
        const l = s.layer;
        out.title = `Step 2 of 6 · Forward propagation — ${layerOf(l)}`;
        out.text = l < L
          ? `Layer ${l + 1} weighs the activations of layer ${l} and adds its bias, z${courseLayer(l)} = W${courseLayer(l - 1)}a${courseLayer(l - 1)} + b${courseLayer(l - 1)}, ` +
            `then squashes each z with g = ${g}: a${courseLayer(l)} = g(z${courseLayer(l)}). These activations are what the next layer sees.`
          : `The output layer does the same with its own g (${gOut}): a${courseLayer(l)} = h(x) is the network's prediction for this example.`;
        if (l === 1) out.text = `Layer 1 is the input, a${courseLayer(0)} = x. ` + out.text;
        out.numbers.push(el("p", { class: "pn-small pn-muted", text: `Focus example #${f.focus?.index ?? "–"}, ${layerOf(l)}:` }));
        out.numbers.push(vectorTable(f, l, [
          { label: "z" + courseLayer(l), values: f.focus?.z?.[l], kind: "a" },
          { label: "a" + courseLayer(l), values: f.focus?.a?.[l], kind: "a" },
        ]));
        out.nextLabel = l < L ? "Next layer ▸" : "Next: the cost ▸";
        break;
      }
      case 3: {
        out.title = "Step 3 of 6 · Cost J";
        const what = f.problem === "regression" ? "half the squared error" : f.output === "softmax" ? "the cross-entropy −Σ y log h"
          : "the course's cross-entropy −[y log h + (1 − y) log(1 − h)], summed over the output units";
        out.text = `The cost J says how wrong the predictions are: ${what}, averaged over the m examples` +
          (cfg.regularization === "l2" ? ", plus λ/(2m)·ΣW²." : ".") + " Training will push J down.";
        out.numbers.push(outputTargets(f));
        out.numbers.push(kv("cost of this example: ", numSpan(exampleCost(f), null)));
        out.numbers.push(kv("J over the training set: ", numSpan(f.loss?.train, null)));
        out.nextLabel = "Next: backpropagation ▸";
        break;
      }
      case 4: {
        const l = s.layer;
        out.title = `Step 4 of 6 · Backpropagation — δ of ${layerOf(l)}`;
        if (s.example) {
          out.text = `Stepping example by example (the course's for-loop): Δ += δ(a)ᵀ for example ${s.example.example} of ${s.example.of}.`;
        } else if (l === L) {
          out.text = `Start at the output: δ${courseLayer(L)} = a${courseLayer(L)} − y, how far each output is from its target. ` +
            (logreg ? "With no hidden layers this is the only δ: logistic regression." : "");
        } else {
          out.text = `Send the error back: each unit's δ is the next layer's δ, weighted by the same weights that carried its signal forward, ` +
            `times g′(z) — its share of the blame: δ${courseLayer(l)} = (W${courseLayer(l)})ᵀδ${courseLayer(l + 1)} ⊙ g′(z${courseLayer(l)}).`;
        }
        out.text += ` Now the weights into ${layerOf(l)} have their gradient: ∂J/∂W${courseLayer(l - 1)} = δ${courseLayer(l)}(a${courseLayer(l - 1)})ᵀ, averaged over the batch (Δ/m).`;
        out.numbers.push(vectorTable(f, l, [{ label: "δ" + courseLayer(l), values: f.focus?.delta?.[l], kind: "d" }]));
        out.numbers.push(kv(`‖∂J/∂W${courseLayer(l - 1)}‖ over the batch: `, numSpan(norm(f.grads?.W?.[l - 1]), "d")));
        out.nextLabel = l > 1 ? "Next layer back ▸" : "Next: gradient checking ▸";
        break;
      }
      case 5: {
        out.title = "Step 5 of 6 · Gradient checking";
        out.text = "Check backprop once: compute every derivative numerically, (J(θ + ε) − J(θ − ε)) / 2ε, and compare. " +
          "Then switch checking off — it needs two forward passes per parameter.";
        if (gcError) out.numbers.push(el("p", { class: "pn-bad", text: "The check failed: " + gcError }));
        else if (!gc) out.numbers.push(el("p", { class: "pn-muted", text: "Checking…" }));
        else {
          const ok = gc.relative_difference < 1e-7;
          out.numbers.push(kv("relative difference ‖n − b‖/‖n + b‖: ", el("span", {},
            numSpan(gc.relative_difference, null),
            el("strong", { class: ok ? "pn-good" : "pn-bad", text: ok ? "  ✓ backprop is right" : "  ✗ backprop and the numbers disagree" }))));
          out.numbers.push(kv("backprop: ", el("span", { text: `${fmtTime(gc.backprop_seconds)}, ${fmtInt(gc.forward_passes.backprop)} passes (1 forward + 1 backward)` })));
          out.numbers.push(kv("numerical: ", el("span", { text: `${fmtTime(gc.numerical_seconds)}, ${fmtInt(gc.forward_passes.numerical)} forward passes` +
            (gc.sampled ? ` (only ${fmtInt(gc.checked)} of ${fmtInt(gc.parameters)} parameters sampled)` : "") })));
          const more = el("button", { type: "button", class: "pn-link", text: "Why not always use the numerical gradient? → question 4" });
          more.addEventListener("click", () => app.showTab("numerical"));
          out.numbers.push(more);
        }
        out.nextLabel = "Next: gradient descent ▸";
        out.sig = gc ? "gc" : gcError ? "gce" : "gc-wait";
        break;
      }
      case 6: {
        out.title = "Step 6 of 6 · Gradient descent";
        const alpha = cfg.learning_rate;
        out.text = `Take one step downhill: W ← W − α·D for every weight, with the learning rate α = ${isNum(alpha) ? fmt(alpha) : "α"}. ` +
          "Then repeat steps 2–6 with the next batch, thousands of times.";
        for (let l = 0; l < L; l++) {
          out.numbers.push(kv(`‖ΔW${courseLayer(l)}‖ = `, numSpan(norm(f.update?.W?.[l]), "d")));
        }
        if (isNum(lossBefore)) {
          out.numbers.push(kv("J over the training set: ", el("span", {}, numSpan(lossBefore, null), " → ", numSpan(f.loss?.train, null))));
        } else {
          out.numbers.push(kv("J over the training set now: ", numSpan(f.loss?.train, null)));
        }
        out.nextLabel = "Next iteration: forward again ▸";
        break;
      }
      default:
    }
    return out;
  }

  function draw(f) {
    const s = stageOf(f);
    const c = content(f, s);
    setText(title, c.title);
    setText(text, c.text);
    // The numbers change while training: rebuild at this (already throttled) rate.
    numbers.replaceChildren(...c.numbers);
    setText(note, c.note);
    note.hidden = !c.note;
    setText(next, c.nextLabel);
    setText(dockNext, c.nextLabel);
    setText(dockTitle, c.title.replace(/^Step (\d) of 6 · /, "$1/6 · ").replace("Forward propagation", "Forward")
      .replace("Backpropagation", "Backprop").replace("Random initialization", "Random init"));
    dockTitle.title = c.title;
    for (const li of list.children) {
      const k = Number(li.dataset.stage);
      li.classList.toggle("current", k === s.stage);
      li.classList.toggle("done", k < s.stage);
      if (k === s.stage) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current");
    }
    const h = highlightFor(s, f);
    if (!last || last.h !== h) ctx.diagram.highlight(h);
    last = { stage: s.stage, layer: s.layer, h };
    if (busy && f.seq !== busySeq) busy = false;
    sync();
  }

  return {
    name: "steps",
    el: panel,
    // While guided mode is on the dock needs updates even when the card is off screen.
    update(f) { if (f) draw(f); },
    collect(f) { if (guided && !panel.hidden && !cardOnScreen && f) draw(f); },
    structure() {
      gcKey = null;
      gc = null;
      lossBefore = null;
      last = null;
    },
    shown() {
      const f = app.frame();
      if (f && guided) ctx.diagram.highlight(highlightFor(stageOf(f), f));
      syncDock();
    },
    hiddenNow() {
      if (last?.h !== null && last?.h !== undefined) ctx.diagram.highlight(null);
      if (last) last.h = null;
      syncDock();
    },
  };
}

