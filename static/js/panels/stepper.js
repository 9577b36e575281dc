// 1. The six-step stepper: the course's procedure, one step at a time and, within
// forward and backward propagation, one layer at a time. The server's phase cursor
// (step "phase") drives steps 2, 3, 4 and 6; step 5 runs the gradient check.
// While guided mode is on and the card is scrolled away, a small bar docks at the
// bottom of the window so the diagram and Next are on screen together.
// Every number is the frame's (frame.maths, frame.focus, grads, update) or the
// gradient check's reply; each says what it averages over.

import { fmt, fmtInt, courseLayer, sub } from "../format.js";
import { el, setText, numSpan, chipColour, maxAbs, fmtTime, isNum, missing } from "./util.js";
import { over } from "./maths.js";

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
  const course = $("st-course");

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
    const c = f.cursor;
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
    if (s.stage === 3 || s.stage === 2) lossBefore = f.loss.train;
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

  course.addEventListener("click", () => app.setControls({ optimizer: "gd" }));
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
    // cols: [{label, values, kind, why}] — one row per unit of layer l; `why` says in
    // words why a value is missing.
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
        return el("td", { dataset: { q: `${c.key}-${i}` } }, chip, numSpan(v, c.kind, "", missing(f, c.why || "not computed yet")));
      })));
    }
    return el("table", { class: "pn-table pn-vector" }, thead, el("tbody", {}, rows));
  }

  function kv(label, value, key = null) {
    return el("div", { class: "pn-kv", dataset: key ? { q: key } : {} }, el("span", { class: "pn-kv-label", text: label }), value);
  }

  function outputTargets(f) {
    const L = f.sizes.length - 1;
    return vectorTable(f, L, [
      { label: "h(x) = a" + courseLayer(L), values: f.focus.a[L], kind: "a", key: "h", fixed: f.output === "linear" ? null : 1 },
      { label: "y (target)", values: f.focus.y, kind: "a", key: "y", fixed: f.output === "linear" ? null : 1 },
    ]);
  }

  /** What differs from the course's setting (full-batch gradient descent), or "". */
  function settingNote(f) {
    const m = f.maths;
    if (m.optimizer === "gd" && m.m_batch === m.m_train) return "";
    const how = m.optimizer === "sgd" ? "mini-batch SGD" : `the ${m.optimizer} optimizer`;
    return `Not quite the course's setting: the course does full-batch gradient descent (every update averages over all ` +
      `m = ${m.m_train} training examples); this session uses ${how} with batches of m_batch = ${m.m_batch}, so δ, Δ and D ` +
      `below average over the batch while J averages over the training set.`;
  }

  function content(f, s) {
    const L = f.sizes.length - 1;
    const m = f.maths;
    const g = G_NAME[m.activation];
    const gOut = G_NAME[m.output];
    const logreg = L === 1;
    const ex = `example #${f.focus.index}`;
    const out = { title: "", text: "", numbers: [], note: settingNote(f), nextLabel: "Next ▸" };
    const layerOf = (l) => `layer ${l + 1} of ${L + 1}`;
    switch (s.stage) {
      case 1: {
        out.title = "Step 1 of 6 · Random initialization";
        const init = f.init;
        if (init === "zeros" || init === "constant") {
          out.text = `This network starts from ${init === "zeros" ? "all zeros" : "one constant value"}: every hidden unit of a layer is the same, ` +
            "so they will get the same updates and stay the same. Question 5 below shows why the course insists on random weights.";
        } else if (init === "uniform") {
          out.text = "Every weight starts as a small random number, uniform in [−ε, ε] (the course's ε_init = 0.12, or " +
            "√6 / √(L_in + L_out) for each layer: the setting Init ε). " +
            "Random, so that the hidden units start different from each other; small, so that g(z) is not saturated.";
        } else {
          out.text = `Every weight starts as a small random number (${init} initialization), so that the hidden units start different from each other.`;
        }
        if (f.step > 0) out.note = `Training has already moved the weights (${fmtInt(f.step)} updates). “Back” resets them to the same random start. ` + out.note;
        for (let l = 0; l < L; l++) {
          const W = f.weights[l];
          let lo = Infinity;
          let hi = -Infinity;
          for (const row of W || []) for (const v of row) { if (isNum(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } }
          out.numbers.push(kv(`W${courseLayer(l)} (${f.sizes[l + 1]}×${f.sizes[l]}): `,
            el("span", {}, "from ", numSpan(lo, "a"), " to ", numSpan(hi, "a"))));
        }
        f.symmetry.forEach((d, k) => {
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
        out.numbers.push(el("p", { class: "pn-small pn-muted", text: `Focus ${ex}, ${layerOf(l)}:` }));
        out.numbers.push(vectorTable(f, l, [
          { label: "z" + courseLayer(l), values: f.focus.z[l], kind: "a", key: "z" },
          { label: "a" + courseLayer(l), values: f.focus.a[l], kind: "a", key: "a" },
        ]));
        out.nextLabel = l < L ? "Next layer ▸" : "Next: the cost ▸";
        break;
      }
      case 3: {
        out.title = "Step 3 of 6 · Cost J";
        const what = m.loss === "mse" ? "half the squared error ½‖h − y‖² (MSE)" : m.output === "softmax" ? "the cross-entropy −Σ y log h"
          : "the course's cross-entropy −[y log h + (1 − y) log(1 − h)], summed over the output units";
        const pen = m.regularization === "l2" ? "λ/(2m_train)·ΣW²" : m.regularization === "l1" ? "(λ/m_train)·Σ|W|" : null;
        out.text = `The cost J says how wrong the predictions are: each example costs ${what}; J averages that over the ` +
          `m_train = ${m.m_train} training examples` + (pen ? `, plus the penalty ${pen} (λ = ${fmt(m.lambda)}).` : ".") +
          " Training will push J down.";
        out.numbers.push(outputTargets(f));
        out.numbers.push(kv(`cost of this example (${over(f, m.averages.focus)}): `, numSpan(f.focus.cost, null, "", missing(f, "not computed until the cost phase")), "cost"));
        if (pen) out.numbers.push(kv(`penalty ${pen}: `, numSpan(m.penalty, null), "penalty"));
        out.numbers.push(kv(`J (${over(f, m.averages.loss)}): `, numSpan(f.loss.train, null), "J"));
        out.nextLabel = "Next: backpropagation ▸";
        break;
      }
      case 4: {
        const l = s.layer;
        out.title = `Step 4 of 6 · Backpropagation — δ of ${layerOf(l)}`;
        const dL = `δ${courseLayer(L)}`;
        const aL = `a${courseLayer(L)}`;
        const cols = [{ label: `δ${courseLayer(l)} (${ex})`, values: f.focus.delta[l], kind: "d", key: "delta", why: "not computed until the backward pass reaches this layer" }];
        if (s.example) {
          out.text = `Stepping example by example (the course's for-loop): Δ += δ(a)ᵀ for example ${s.example.example} of ${s.example.of}.`;
        } else if (l === L) {
          if (m.loss === "cross_entropy" || m.output === "linear") {
            out.text = `Start at the output: ${dL} = ${aL} − y, how far each output is from its target` +
              (m.loss === "cross_entropy" ? ` (with cross-entropy the ${m.output} output's g′ cancels). ` : " (a linear output has g′ = 1). ");
          } else if (m.output === "sigmoid") {
            out.text = `Start at the output: with the squared error (MSE) on a sigmoid output, ${dL} = (${aL} − y) ⊙ g′(z${courseLayer(L)}), ` +
              "how far each output is from its target times the sigmoid's slope there (it does not cancel as it would with cross-entropy). ";
            cols.unshift({ label: `a − y (${ex})`, values: f.focus.error, kind: "d", key: "error", why: "not computed until the cost phase" },
              { label: "g′(z) = a(1 − a)", values: f.focus.g_prime[L], kind: null, key: "gprime", why: "not computed until the cost phase" });
          } else {
            out.text = `Start at the output: with the squared error (MSE) on a softmax output, ${dL} = (∂a/∂z)ᵀ(${aL} − y): ` +
              "every output's error reaches every z through the softmax (not elementwise, so there is no single g′). ";
            cols.unshift({ label: `a − y (${ex})`, values: f.focus.error, kind: "d", key: "error", why: "not computed until the cost phase" });
          }
          if (logreg) out.text += "With no hidden layers this is the only δ: logistic regression.";
        } else {
          out.text = `Send the error back: each unit's δ is the next layer's δ, weighted by the same weights that carried its signal forward, ` +
            `times g′(z) — its share of the blame: δ${courseLayer(l)} = (W${courseLayer(l)})ᵀδ${courseLayer(l + 1)} ⊙ g′(z${courseLayer(l)}).`;
          cols.push({ label: `g′(z${courseLayer(l)}) (${ex})`, values: f.focus.g_prime[l], kind: null, key: "gprime", why: "not computed until the backward pass reaches this layer" });
        }
        const reg = m.regularization === "l2" ? " + (λ/m_train)·W" : m.regularization === "l1" ? " + (λ/m_train)·sign(W)" : "";
        out.text += ` Now the weights into ${layerOf(l)} have their gradient: D${courseLayer(l - 1)} = Δ/m_batch${reg}, where Δ adds ` +
          `δ${courseLayer(l)}(a${courseLayer(l - 1)})ᵀ over the batch (m_batch = ${m.m_batch}` +
          (reg ? `; the penalty's m is m_train = ${m.m_train}, the same J as step 3).` : ").");
        out.numbers.push(vectorTable(f, l, cols));
        const D = f.grads?.W[l - 1];
        out.numbers.push(kv(`D${courseLayer(l - 1)}${sub(1)}${sub(1)} = ∂J/∂W${courseLayer(l - 1)}${sub(1)}${sub(1)} (${over(f, m.averages.grads)}): `,
          numSpan(D?.[0][0], "d", "", missing(f, "not computed until the backward pass reaches this layer")), "D"));
        out.numbers.push(kv(`‖D${courseLayer(l - 1)}‖ (${over(f, m.averages.grads)}): `,
          numSpan(D ? f.grad_norms[l - 1] : null, "d", "", missing(f, "not computed until the backward pass reaches this layer")), "Dnorm"));
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
          const ok = gc.relative_difference < gc.threshold;
          out.numbers.push(kv("relative difference ‖n − b‖/‖n + b‖: ", el("span", {},
            numSpan(gc.relative_difference, null),
            el("strong", { class: ok ? "pn-good" : "pn-bad", text: ok ? `  ✓ below ${fmt(gc.threshold)}: backprop is right`
              : `  ✗ above ${fmt(gc.threshold)}: backprop and the numerical gradient disagree` })), "reldiff"));
          out.numbers.push(kv("checked on: ", el("span", { text: `the first m = ${fmtInt(gc.m)} training examples (J averages over them` +
            (m.regularization === "none" ? ")" : `; the penalty keeps m_train = ${fmtInt(m.m_train)}, as in step 3)`) }), "gcm"));
          out.numbers.push(kv("backprop: ", el("span", { text: `${fmtTime(gc.backprop_seconds)}, ${fmtInt(gc.forward_passes.backprop)} passes (1 forward + 1 backward)` })));
          out.numbers.push(kv("numerical: ", el("span", { text: `${fmtTime(gc.numerical_seconds)}, ${fmtInt(gc.forward_passes.numerical)} forward passes` +
            (gc.sampled ? ` (only ${fmtInt(gc.checked)} of ${fmtInt(gc.parameters)} parameters sampled)` : "") })));
          const more = el("button", { type: "button", class: "pn-link", text: "Why not always use the numerical gradient? → question 4" });
          more.addEventListener("click", () => app.showTab("numerical"));
          out.numbers.push(more);
        }
        out.nextLabel = "Next: gradient descent ▸";
        break;
      }
      case 6: {
        out.title = "Step 6 of 6 · Gradient descent";
        const plain = m.optimizer === "gd" || m.optimizer === "sgd";
        out.text = (plain ? `Take one step downhill: W ← W − α·D for every weight, with the learning rate α = ${fmt(m.learning_rate)}. `
          : `Take one step downhill: the ${m.optimizer} optimizer turns D into the change ΔW (α = ${fmt(m.learning_rate)}). `) +
          (m.m_batch === m.m_train ? "Then repeat steps 2–6, thousands of times." : "Then repeat steps 2–6 with the next batch, thousands of times.");
        const noUpdate = missing(f, "not computed until the update");
        for (let l = 0; l < L; l++) {
          const w = `W${courseLayer(l)}${sub(1)}${sub(1)}`;
          out.numbers.push(kv(`Δ${w} = −α·D${courseLayer(l)}${sub(1)}${sub(1)}: `, el("span", {},
            plain ? ["−", numSpan(m.learning_rate, null), " × ", numSpan(f.update ? f.grads.W[l][0][0] : null, "d", "", noUpdate), " = "] : [],
            numSpan(f.update?.W[l][0][0], "d", "", noUpdate)), `dW-${l}`));
        }
        const J = `J (${over(f, m.averages.loss)}): `;
        if (isNum(lossBefore)) {
          out.numbers.push(kv(J, el("span", {}, numSpan(lossBefore, null), " → ", numSpan(f.loss.train, null)), "J"));
        } else {
          out.numbers.push(kv(J, numSpan(f.loss.train, null), "J"));
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
    course.hidden = !settingNote(f);
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

