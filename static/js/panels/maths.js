// 2. The maths panel: the formulas of the current phase in the course's notation,
// filled in with the frame's numbers (KaTeX). Clicking a unit or an edge in the
// diagram (or choosing one here) focuses the formulas on it.
//
// A view of the frame: the loss, output, regularisation, λ, α and both m come from
// frame.maths; the example's cost, a − y and g′(z) from frame.focus; D and ΔW from
// frame.grads / frame.update. The formulas are written here; their values are not
// computed here. Every δ, D and J is labelled with what it averages over.

import { fmt, courseLayer, sub, featureLabel } from "../format.js";
import {
  el, setText, renderTex, texNum, TeX, L, G_TEX, unitName, weightName, updateNum, isNum, missing,
} from "./util.js";

const MAX_TERMS = 4; // sums with more terms show the first 3, "⋯" and the total
// While training runs, a formula whose only change is its numbers is typeset again at
// most this often (KaTeX is the panel's dearest work); the terms table below it has the
// live numbers at every update. A new selection, phase or formula is typeset at once.
const TEX_RUNNING_MS = 1000;

const PHASE_NAME = {
  idle: "Between updates",
  forward: "Forward propagation",
  cost: "Cost",
  backward: "Backpropagation",
  update: "Gradient descent",
};

const NOT_YET = {
  forward: "not computed until forward propagation reaches this layer",
  cost: "not computed until the cost phase",
  delta: "not computed until the backward pass reaches this layer",
  update: "not computed until the update",
};

/** What a quantity averages over, in words (frame.maths.averages names the kind). */
export function over(f, kind) {
  const m = f.maths;
  if (kind === "example") return `example #${f.focus.index} only`;
  if (kind === "batch") return m.m_batch === m.m_train ? `average over the full batch, m_batch = m_train = ${m.m_batch}`
    : `average over the batch, m_batch = ${m.m_batch}`;
  return `average over the training set, m_train = ${m.m_train}`;
}

/** The regularisation term of J and its gradient in TeX, in symbols or with the
 * frame's λ and m_train put in (the training set's m: the same J the chart plots). */
export function penaltyTex(reg, lam = "\\lambda", m = "m_{\\text{train}}") {
  if (reg === "l2") return { J: `\\frac{${lam}}{2\\cdot ${m}}\\sum W^2`, dW: (w) => `\\frac{${lam}}{${m}}${w}` };
  if (reg === "l1") return { J: `\\frac{${lam}}{${m}}\\sum |W|`, dW: (w) => `\\frac{${lam}}{${m}}\\operatorname{sign}(${w})` };
  return null;
}

export function initMaths(app) {
  const { $, ctx } = app;
  const aside = $("pn-maths");
  const phaseEl = $("mx-phase");
  const exampleEl = $("mx-example");
  const blocksEl = $("mx-blocks");
  const unitSel = $("mx-unit");
  const weightSel = $("mx-weight");
  const editBtn = $("mx-edit");
  const pool = [];   // reusable block nodes: {root, title, tex, caption, terms}
  // KaTeX (131 KB) is loaded the first time this panel is drawn, i.e. when it is on
  // screen (renderTex loads it and typesets again once it is there), not at start-up.

  // --- pickers ---------------------------------------------------------------------------
  function fillUnits(f) {
    const opts = [el("option", { value: "", text: "the current phase (follow along)" })];
    f.sizes.forEach((n, l) => {
      const group = el("optgroup", { label: l === 0 ? "layer 1 · input" : `layer ${l + 1}${l === f.sizes.length - 1 ? " · output" : " · hidden"}` });
      for (let i = 0; i < n; i++) {
        group.append(el("option", {
          value: `${l}:${i}`,
          text: l === 0 ? `input ${featureLabel(f.feature_names[i], i)}` : `unit ${i + 1} of layer ${l + 1}`,
        }));
      }
      opts.push(group);
    });
    unitSel.replaceChildren(...opts);
  }

  function fillWeights(f, sel) {
    const l = sel && sel.l >= 1 ? sel.l : null;
    weightSel.hidden = l === null;
    if (l === null) { weightSel.replaceChildren(); return; }
    const key = `${f.structure}:${l}:${sel.i}`;
    if (weightSel._key !== key) {
      weightSel._key = key;
      const opts = [el("option", { value: "", text: "the unit (z, a, δ)" })];
      for (let j = 0; j < f.sizes[l - 1]; j++) {
        const from = l === 1 ? featureLabel(f.feature_names[j], j) : `a${courseLayer(l - 1)}${sub(j + 1)}`;
        opts.push(el("option", { value: String(j), text: `weight ${weightName(l - 1, sel.i, j)} from ${from}` }));
      }
      weightSel.replaceChildren(...opts);
    }
    weightSel.value = sel.kind === "edge" ? String(sel.j) : "";
  }

  function syncPickers(f) {
    const sel = app.selection;
    if (!sel) unitSel.value = "";
    else if (sel.kind === "node") unitSel.value = `${sel.l}:${sel.i}`;
    else unitSel.value = `${sel.l + 1}:${sel.i}`;
    fillWeights(f, sel && (sel.kind === "edge" ? { ...sel, l: sel.l + 1 } : sel));
  }

  unitSel.addEventListener("change", () => {
    const v = unitSel.value;
    if (!v) app.select(null, "maths");
    else {
      const [l, i] = v.split(":").map(Number);
      app.select({ kind: "node", l, i }, "maths");
    }
  });
  weightSel.addEventListener("change", () => {
    const sel = app.selection;
    if (!sel) return;
    const l = sel.kind === "edge" ? sel.l + 1 : sel.l;
    if (weightSel.value === "") app.select({ kind: "node", l, i: sel.i }, "maths");
    else app.select({ kind: "edge", l: l - 1, i: sel.i, j: Number(weightSel.value) }, "maths");
  });
  editBtn.addEventListener("click", () => {
    const sel = app.selection;
    const f = app.frame();
    if (sel?.kind !== "edge" || !f) return;
    ctx.editWeight(sel.l, sel.i, sel.j, f.weights[sel.l][sel.i][sel.j]);
  });
  $("mx-prev").addEventListener("click", () => app.moveFocus(-1));
  $("mx-next").addEventListener("click", () => app.moveFocus(1));

  // --- the formulas ------------------------------------------------------------------------

  /**
   * The terms "(w)·(a)" of a sum, truncated to MAX_TERMS (first 3, "⋯ (n more)").
   * Returned as TeX strings; `lines` below lays them out two to a line so a long sum
   * fits the column.
   */
  function sumParts(pairs, kinds) {
    const shown = pairs.length > MAX_TERMS ? pairs.slice(0, MAX_TERMS - 1) : pairs;
    const parts = shown.map(([x, y]) => `${texNum(x, kinds[0], true)}\\cdot${texNum(y, kinds[1], true)}`);
    if (pairs.length > MAX_TERMS) parts.push(`\\cdots\\ {\\scriptstyle(${pairs.length - shown.length}\\text{ more})}`);
    return parts;
  }

  /** "&= p1 + p2 \\ &\quad + p3 + p4 …" for an aligned environment; open/close wrap the sum. */
  function lines(parts, { open = "", close = "", per = 2 } = {}) {
    const out = [];
    for (let k = 0; k < parts.length; k += per) {
      const chunk = parts.slice(k, k + per).join(" + ");
      out.push(k === 0 ? `&= ${open}${chunk}` : `&\\quad + ${chunk}`);
    }
    if (out.length) out[out.length - 1] += close;
    return out;
  }

  const aligned = (rows) => `\\begin{aligned}${rows.join("\\\\")}\\end{aligned}`;
  const words = (s) => `\\text{${s}}`;

  function notYet(f, title, why) {
    return { title, tex: null, caption: `– ${missing(f, why)}.` };
  }

  function inputBlock(f, j) {
    const x = f.focus.x[j];
    return {
      title: `Input ${featureLabel(f.feature_names[j], j)} — layer 1`,
      tex: `${TeX.a(0, j)} = x_{${j + 1}} = ${texNum(x, "a")}`,
      caption: `The input layer just holds the features of example #${f.focus.index}: a⁽¹⁾ = x. It has no z and no δ.`,
      terms: [[`a${courseLayer(0)}${sub(j + 1)} = x${sub(j + 1)} (example #${f.focus.index})`, x, "a", "x"]],
    };
  }

  function forwardBlock(f, l, i) {
    const last = f.sizes.length - 1;
    const title = `Forward: unit ${i + 1} of layer ${l + 1} (example #${f.focus.index})`;
    const aPrev = f.focus.a[l - 1];
    const W = f.weights[l - 1][i];
    const b = f.biases[l - 1][i];
    const z = f.focus.z[l]?.[i];
    const a = f.focus.a[l]?.[i];
    if (!aPrev) return notYet(f, title, NOT_YET.forward);
    const pairs = W.map((w, j) => [w, aPrev[j]]);
    const gname = l === last ? f.maths.output : f.maths.activation;
    const rows = [];
    rows.push(`${TeX.z(l, i)} &= \\textstyle\\sum_{j} W${L(l - 1)}_{${i + 1}j}\\,a${L(l - 1)}_{j} + ${TeX.b(l - 1, i)}`);
    rows.push(...lines([...sumParts(pairs, ["a", "a"]), texNum(b, "a", true)]));
    if (!isNum(z)) {
      rows.push(`&= ${words(`– ${missing(f, NOT_YET.forward)}`)}`);
    } else {
      rows.push(`&= ${texNum(z, "a")}`);
      rows.push(gname === "softmax"
        ? `${TeX.a(l, i)} &= \\frac{e^{z_{${i + 1}}}}{\\sum_k e^{z_k}} = ${texNum(a, "a")}`
        : `${TeX.a(l, i)} &= ${G_TEX[gname]}(${texNum(z, "a")}) = ${texNum(a, "a")}`);
    }
    return {
      title,
      tex: aligned(rows),
      caption: `z is the weighted sum of layer ${l}'s activations plus the bias; a = g(z)` +
        (l === last ? ` with the output's g (${f.maths.output}): the prediction h(x).` : ` with g = ${f.maths.activation}.`),
      terms: [
        [`z${courseLayer(l)}${sub(i + 1)} (example #${f.focus.index})`, z, "a", "z", NOT_YET.forward],
        [`a${courseLayer(l)}${sub(i + 1)} (example #${f.focus.index})`, a, "a", "a", NOT_YET.forward],
        [`b${courseLayer(l - 1)}${sub(i + 1)} (bias)`, b, "a", "b"],
      ],
    };
  }

  /** δ⁽ᴸ⁾ in the course's notation for this loss and output, with the frame's numbers. */
  function outputDeltaBlock(f, i) {
    const Lx = f.sizes.length - 1;
    const { loss, output } = f.maths;
    const title = `Backward: δ of output unit ${i + 1} (example #${f.focus.index})`;
    const d = f.focus.delta[Lx]?.[i];
    const err = f.focus.error?.[i];
    const gp = f.focus.g_prime[Lx]?.[i];
    const a = f.focus.a[Lx]?.[i];
    const y = f.focus.y[i];
    if (!isNum(d)) return notYet(f, title, NOT_YET.delta);
    const dT = TeX.d(Lx, i);
    const aT = TeX.a(Lx, i);
    const terms = [
      [`δ${courseLayer(Lx)}${sub(i + 1)} (example #${f.focus.index})`, d, "d", "delta"],
      [`a − y (example #${f.focus.index})`, err, "d", "error", NOT_YET.cost],
      ["y (target)", y, "a", "y"],
    ];
    let tex;
    let caption;
    if (loss === "cross_entropy" || output === "linear") {
      tex = `${dT} = ${aT} - y_{${i + 1}} = ${texNum(a, "a")} - ${texNum(y, "a", true)} = ${texNum(d, "d")}`;
      caption = loss === "cross_entropy"
        ? `With cross-entropy on a ${output} output (the course's pairing) δ is simply a − y: the output's g′ cancels.`
        : "With squared error on a linear output g′ = 1, so δ is simply a − y.";
    } else if (output === "sigmoid") {
      tex = aligned([
        `${dT} &= (${aT} - y_{${i + 1}})\\; g'(${TeX.z(Lx, i)}) \\qquad g' = \\sigma' = a(1-a)`,
        `&= ${texNum(err, "d", true)}\\cdot${texNum(gp, null, true)} = ${texNum(d, "d")}`,
      ]);
      caption = "With squared error on a sigmoid output, δ = (a − y) ⊙ g′(z): the output's slope g′ does not cancel (it would with cross-entropy).";
      terms.push([`g′(z${courseLayer(Lx)}${sub(i + 1)}) = a(1 − a)`, gp, null, "gprime", NOT_YET.cost]);
    } else {
      tex = aligned([
        `${dT} &= \\textstyle\\sum_k (a_k - y_k)\\,\\frac{\\partial a_k}{\\partial z_{${i + 1}}} = a_{${i + 1}}\\Big((a_{${i + 1}} - y_{${i + 1}}) - \\sum_k (a_k - y_k)\\,a_k\\Big)`,
        `&\\text{with } a_{${i + 1}} - y_{${i + 1}} = ${texNum(err, "d")}:\\quad ${dT} = ${texNum(d, "d")}`,
      ]);
      caption = "With squared error on a softmax output every output's error reaches every z through the softmax's Jacobian (softmax is not elementwise, so there is no single g′).";
    }
    return { title, tex, caption, terms };
  }

  function hiddenDeltaBlock(f, l, j) {
    const title = `Backward: δ of unit ${j + 1} of layer ${l + 1} (example #${f.focus.index})`;
    const dNext = f.focus.delta[l + 1];
    const d = f.focus.delta[l]?.[j];
    const gp = f.focus.g_prime[l]?.[j];
    if (!dNext) return notYet(f, title, NOT_YET.delta);
    const pairs = f.weights[l].map((row, k) => [row[j], dNext[k]]);
    const rows = [
      `${TeX.d(l, j)} &= \\Big(\\textstyle\\sum_k W${L(l)}_{k${j + 1}}\\,\\delta${L(l + 1)}_k\\Big)\\, g'(${TeX.z(l, j)})`,
      ...lines(sumParts(pairs, ["a", "d"]), { open: "\\big(", close: `\\big)\\cdot ${texNum(gp, null, true)}` }),
      `&= ${isNum(d) ? texNum(d, "d") : words(`– ${missing(f, NOT_YET.delta)}`)}`,
    ];
    return {
      title,
      tex: aligned(rows),
      caption: `The next layer's δs come back through the same weights that carried a${courseLayer(l)}${sub(j + 1)} forward, ` +
        `times g′(z) of ${f.maths.activation} (the server's value for this example): this unit's share of the blame.`,
      terms: [
        [`δ${courseLayer(l)}${sub(j + 1)} (example #${f.focus.index})`, d, "d", "delta", NOT_YET.delta],
        [`g′(z${courseLayer(l)}${sub(j + 1)}) (example #${f.focus.index})`, gp, null, "gprime", NOT_YET.delta],
      ],
    };
  }

  function deltaBlock(f, l, i) {
    return l === f.sizes.length - 1 ? outputDeltaBlock(f, i) : hiddenDeltaBlock(f, l, i);
  }

  function gradBlock(f, l, i, j) {
    const m = f.maths;
    const title = `Gradient of weight ${weightName(l, i, j)}`;
    const d = f.focus.delta[l + 1]?.[i];
    const a = f.focus.a[l]?.[j];
    const w = f.weights[l][i][j];
    const D = f.grads?.W[l]?.[i]?.[j];
    const pen = penaltyTex(m.regularization);
    const Wt = TeX.W(l, i, j);
    const Dt = `D${L(l)}_{${i + 1}${j + 1}}`;
    const regT = pen ? ` + ${pen.dW(Wt)}` : "";
    const rows = [
      `\\frac{\\partial J}{\\partial ${Wt}} = ${Dt} &= \\frac{1}{m_{\\text{batch}}}\\textstyle\\sum_{t\\,\\in\\,\\text{batch}} \\delta${L(l + 1)}_{${i + 1}}a${L(l)}_{${j + 1}}${regT}`,
      isNum(d)
        ? `\\text{example \\#${f.focus.index}: } \\delta${L(l + 1)}_{${i + 1}}\\,a${L(l)}_{${j + 1}} &= ${texNum(d, "d", true)}\\cdot${texNum(a, "a", true)}`
        : `\\text{example \\#${f.focus.index}: } \\delta${L(l + 1)}_{${i + 1}} &\\ ${words(`– ${missing(f, NOT_YET.delta)}`)}`,
    ];
    let dLine = `${Dt} &= \\tfrac{1}{${m.m_batch}}\\Delta${L(l)}_{${i + 1}${j + 1}}`;
    if (pen) dLine += ` + ${penaltyTex(m.regularization, texNum(m.lambda), m.m_train).dW(texNum(w, "a", true))}`;
    dLine += isNum(D) ? ` = ${texNum(D, "d")}` : `\\ ${words(`– ${missing(f, NOT_YET.delta)}`)}`;
    rows.push(dLine);
    const batch = m.m_batch === m.m_train ? `all m_batch = ${m.m_batch} training examples (full batch)` : `the batch, m_batch = ${m.m_batch} examples`;
    const regCaption = m.regularization === "l2" ? ` + (λ/m_train)·W, with λ = ${fmt(m.lambda)} and m_train = ${m.m_train}: the gradient of J's penalty λ/(2m_train)·ΣW².`
      : m.regularization === "l1" ? ` + (λ/m_train)·sign(W), with λ = ${fmt(m.lambda)} and m_train = ${m.m_train}: the gradient of J's penalty (λ/m_train)·Σ|W|.`
        : " (no regularization).";
    return {
      title,
      tex: aligned(rows),
      caption: `The weight reaches J only through z${courseLayer(l + 1)}${sub(i + 1)}, which it moves by a${courseLayer(l)}${sub(j + 1)}: ` +
        `so each example contributes δ·a. Δ adds that up over ${batch}; D = Δ/m_batch${regCaption}`,
      terms: [
        [`${weightName(l, i, j)} (this weight)`, w, "a", "w"],
        [`δ${courseLayer(l + 1)}${sub(i + 1)} (example #${f.focus.index})`, d, "d", "delta", NOT_YET.delta],
        [`a${courseLayer(l)}${sub(j + 1)} (example #${f.focus.index})`, a, "a", "a", NOT_YET.forward],
        [`∂J/∂W = D (${over(f, m.averages.grads)})`, D, "d", "grad", NOT_YET.delta],
        ["m_batch (D averages over)", m.m_batch, null, "m_batch"],
        ...(pen ? [["λ", m.lambda, null, "lambda"], ["m_train (the penalty divides by)", m.m_train, null, "m_train"]] : []),
      ],
    };
  }

  function updateBlock(f, l, i, j) {
    const m = f.maths;
    const title = `Update of weight ${weightName(l, i, j)}`;
    const dW = f.update?.W[l][i][j];
    const w = f.weights[l][i][j];
    const D = f.update ? f.grads?.W[l]?.[i]?.[j] : null;
    if (!isNum(dW)) return notYet(f, title, NOT_YET.update);
    const plain = m.optimizer === "sgd" || m.optimizer === "gd";
    const Wt = TeX.W(l, i, j);
    const rows = plain
      ? [`${Wt} &:= ${Wt} - \\alpha\\, D${L(l)}_{${i + 1}${j + 1}}`,
        `\\Delta ${Wt} &= -\\alpha\\, D = -${texNum(m.learning_rate, null)}\\cdot${texNum(D, "d", true)} = ${texNum(dW, "d")}`]
      : [`${Wt} &:= ${Wt} + \\Delta ${Wt}\\quad(\\text{${m.optimizer}: from D and its memory})`,
        `\\Delta ${Wt} &= ${texNum(dW, "d")}`];
    rows.push(`${Wt}\\ \\text{after} &= ${texNum(w, "a")}`);
    const tiny = Math.abs(dW) < 0.005 * Math.abs(w);
    return {
      title,
      tex: aligned(rows),
      caption: (plain ? `One step downhill with learning rate α = ${fmt(m.learning_rate)}, using D (${over(f, m.averages.grads)}).`
        : `The ${m.optimizer} optimizer turns D into the change ΔW (it remembers past gradients); α = ${fmt(m.learning_rate)}.`) +
        (tiny ? " The change is smaller than the 3 digits shown: learning is many small steps." : ""),
      terms: [
        ["α (learning rate)", m.learning_rate, null, "alpha"],
        ["ΔW (last update)", dW, "d", "dw"],
        [`${weightName(l, i, j)} after it`, w, "a", "w-new"],
      ],
    };
  }

  /** The example's cost written out with its h and y (no value computed here). */
  function exampleCostTex(f) {
    const Lx = f.sizes.length - 1;
    const h = f.focus.a[Lx];
    const y = f.focus.y;
    const { loss, output } = f.maths;
    if (!h) return null;
    const more = h.length > 2 ? " + \\cdots" : "";
    const shown = h.slice(0, 2).map((v, k) => [v, y[k], k]);
    if (loss === "mse") {
      return `\\tfrac12\\big(${shown.map(([v, t]) => `(${texNum(v, "a")} - ${texNum(t, "a", true)})^2`).join(" + ")}${more}\\big)`;
    }
    if (output === "softmax") {
      const k = y.indexOf(1);
      return `-\\log h_{${k + 1}} = -\\log ${texNum(h[k], "a")}`;
    }
    const term = ([v, t]) => (t === 1 ? `-\\log ${texNum(v, "a")}` : `-\\log(1-${texNum(v, "a", true)})`);
    return shown.map(term).join(" ") + (h.length > 2 ? " - \\cdots" : "");
  }

  function costBlock(f) {
    const m = f.maths;
    const pen = penaltyTex(m.regularization);
    const reg = pen ? ` + ${pen.J}` : "";
    const sumT = "\\frac{1}{m_{\\text{train}}}\\sum_{t=1}^{m_{\\text{train}}}";
    let general;
    if (m.loss === "mse") general = `J = ${sumT}\\tfrac12\\big\\|h(x^{(t)}) - y^{(t)}\\big\\|^2${reg}`;
    else if (m.output === "softmax") general = `J = -${sumT}\\sum_k y^{(t)}_k \\log h_k(x^{(t)})${reg}`;
    else general = `J = -${sumT}\\sum_{k=1}^{K}\\Big[y_k\\log h_k + (1-y_k)\\log(1-h_k)\\Big]${reg}`;
    const filled = exampleCostTex(f);
    const cost = f.focus.cost;
    const rows = [`&${general}`];
    rows.push(filled && isNum(cost)
      ? `&\\text{example \\#${f.focus.index}: } ${filled} = ${texNum(cost, null)}`
      : `&\\text{example \\#${f.focus.index}: } ${words(`– ${missing(f, NOT_YET.cost)}`)}`);
    if (pen) rows.push(`&${penaltyTex(m.regularization, texNum(m.lambda), m.m_train).J} = ${texNum(m.penalty, null)}`);
    rows.push(`&J_{\\text{train}} = ${texNum(f.loss.train, null)}`);
    const what = m.loss === "mse" ? "half the squared error ½‖h − y‖²"
      : m.output === "softmax" ? "the cross-entropy −Σ y log h" : "the course's cross-entropy, summed over the output units";
    return {
      title: "Cost J",
      tex: aligned(rows),
      caption: `Each example's cost is ${what}; J averages it over the m_train = ${m.m_train} training examples` +
        (pen ? `, plus the weight penalty ${m.regularization === "l2" ? "λ/(2m_train)·ΣW²" : "(λ/m_train)·Σ|W|"} (biases are not regularized).` : ".") +
        " The gradients below average over the batch of the same J.",
      terms: [
        [`cost of this example (${over(f, m.averages.focus)})`, cost, null, "cost", NOT_YET.cost],
        ...(pen ? [[`penalty ${m.regularization === "l2" ? "λ/(2m_train)·ΣW²" : "(λ/m_train)·Σ|W|"}`, m.penalty, null, "penalty"]] : []),
        [`J (${over(f, m.averages.loss)})`, f.loss.train, null, "J"],
        ["m_train (J averages over)", m.m_train, null, "m_train"],
      ],
    };
  }

  // --- choosing what to show -------------------------------------------------------------
  function blocksFor(f) {
    const cur = f.cursor;
    const Lx = f.sizes.length - 1;
    const sel = app.selection;
    if (sel?.kind === "edge") {
      const out = [gradBlock(f, sel.l, sel.i, sel.j)];
      if (cur.phase !== "backward" && f.update) out.push(updateBlock(f, sel.l, sel.i, sel.j));
      return out;
    }
    if (sel?.kind === "node") {
      if (sel.l === 0) return [inputBlock(f, sel.i)];
      const out = [forwardBlock(f, sel.l, sel.i)];
      if (cur.phase !== "forward" && cur.phase !== "cost") out.push(deltaBlock(f, sel.l, sel.i));
      if (cur.phase === "backward") out.reverse();
      return out;
    }
    switch (cur.phase) {
      case "forward": return [forwardBlock(f, cur.layer, 0)];
      case "cost": return [costBlock(f)];
      case "backward": return [deltaBlock(f, cur.layer, 0), gradBlock(f, cur.layer - 1, 0, 0)];
      case "update": return [updateBlock(f, Lx - 1, 0, 0), gradBlock(f, Lx - 1, 0, 0), costBlock(f)];
      default: return [forwardBlock(f, Lx, 0), costBlock(f), deltaBlock(f, Lx, 0)];
    }
  }

  function phaseText(f) {
    const cur = f.cursor;
    let s = PHASE_NAME[cur.phase] || cur.phase;
    if ((cur.phase === "forward" || cur.phase === "backward") && Number.isInteger(cur.layer)) s += `, layer ${cur.layer + 1}`;
    const sel = app.selection;
    if (sel?.kind === "node") s += ` · ${unitName(f, sel.l, sel.i)}`;
    if (sel?.kind === "edge") s += ` · weight ${weightName(sel.l, sel.i, sel.j)}`;
    if (!sel) s += f.sizes.length === 2 ? " · logistic regression" : "";
    return s;
  }

  function blockNode(k) {
    if (!pool[k]) {
      const title = el("h4", { class: "pn-mx-title" });
      const tex = el("div", { class: "pn-tex" });
      const caption = el("p", { class: "pn-mx-caption" });
      const terms = el("table", { class: "pn-terms" });
      const root = el("div", { class: "pn-mx-block" }, title, tex, caption, terms);
      pool[k] = { root, title, tex, caption, terms };
    }
    return pool[k];
  }

  /** terms: [label, value, colour kind, data-term key, words when there is no value]. */
  function drawTerms(f, table, terms) {
    const sig = terms.map((t) => t[0] + "|" + t[3]).join(";");
    if (table._sig !== sig) {
      table._sig = sig;
      table.replaceChildren(...terms.map(([label, , , key]) =>
        el("tr", { dataset: { term: key } }, el("th", { scope: "row", text: label }), el("td", {}, el("span", { class: "pn-num" })))));
    }
    terms.forEach(([, v, kind, , why], k) => updateNum(table.rows[k].cells[1].firstChild, v, kind, missing(f, why || "not computed yet")));
    table.hidden = !terms.length;
  }

  // The formula without its numbers (and their colours): what only a new selection,
  // phase or network changes.
  const shapeOf = (b) => b.title + "|" + b.tex.replace(/\\textcolor\{[^}]*\}/g, "").replace(/-?\d+(\.\d+)?/g, "#");

  function drawTex(n, b, running) {
    if (n.tex._tex === b.tex) return;
    const shape = shapeOf(b);
    const now = performance.now();
    if (running && shape === n.shape && now - n.texAt < TEX_RUNNING_MS) return; // numbers only: later
    n.shape = shape;
    n.texAt = now;
    renderTex(n.tex, b.tex);
  }

  function draw(f) {
    const running = f.status === "running";
    setText(phaseEl, phaseText(f));
    setText(exampleEl, `#${f.focus.index}`);
    syncPickers(f);
    const blocks = blocksFor(f);
    blocks.forEach((b, k) => {
      const n = blockNode(k);
      setText(n.title, b.title);
      n.tex.hidden = !b.tex;
      if (b.tex) drawTex(n, b, running);
      setText(n.caption, b.caption);
      drawTerms(f, n.terms, b.terms || []);
      if (blocksEl.children[k] !== n.root) blocksEl.insertBefore(n.root, blocksEl.children[k] || null);
    });
    while (blocksEl.children.length > blocks.length) blocksEl.lastChild.remove();
    editBtn.hidden = app.selection?.kind !== "edge";
    if (!editBtn.hidden) setText(editBtn, `Edit this weight (${weightName(app.selection.l, app.selection.i, app.selection.j)})…`);
  }

  return {
    name: "maths",
    el: aside,
    update: draw,
    structure(f) {
      fillUnits(f);
      weightSel._key = null;
    },
    select() {
      // Off screen it is drawn when it comes into view (and typesetting would load KaTeX).
      const f = app.frame();
      if (f && app.isShown("maths")) draw(f);
    },
  };
}
