// 2. The maths panel: the formulas of the current phase in the course's notation,
// filled in with the focus example's real numbers (KaTeX). Clicking a unit or an edge
// in the diagram (or choosing one here) focuses the formulas on it.
//
// Every number comes from the latest frame (frame.focus for the example, weights,
// grads, update) and the session's config (λ, α, batch size); nothing is recomputed
// that the server already computed, except the sums written out to show the working.

import { fmt, courseLayer, sub, featureLabel } from "../format.js";
import {
  el, setText, renderTex, texNum, TeX, L, gPrime, gPrimeTex, G_TEX, unitName, weightName,
  numSpan, isNum,
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
          text: l === 0 ? `input ${featureLabel(f.feature_names?.[i], i)}` : `unit ${i + 1} of layer ${l + 1}`,
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
        const from = l === 1 ? featureLabel(f.feature_names?.[j], j) : `a${courseLayer(l - 1)}${sub(j + 1)}`;
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
    ctx.editWeight(sel.l, sel.i, sel.j, f.weights?.[sel.l]?.[sel.i]?.[sel.j] ?? 0);
  });

  async function moveFocus(by) {
    const f = app.frame();
    const n = app.config?.train_size;
    if (!f || !n) return;
    const index = ((f.focus?.index ?? 0) + by + n) % n;
    try { await app.post("/focus", { index }); } catch { /* the stream shows the truth */ }
  }
  $("mx-prev").addEventListener("click", () => moveFocus(-1));
  $("mx-next").addEventListener("click", () => moveFocus(1));

  // --- the formulas ------------------------------------------------------------------------
  const cfg = () => app.config?.config || {};
  const lam = () => (cfg().regularization && cfg().regularization !== "none" ? Number(cfg().lambda) || 0 : 0);
  const batchM = () => {
    const c = cfg();
    const n = app.config?.train_size;
    if (!c.optimizer) return null;
    return c.optimizer === "gd" ? n : Math.min(c.batch_size, n || Infinity);
  };

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

  function notYet(title, why) {
    return { title, tex: null, caption: why };
  }

  function inputBlock(f, j) {
    const x = f.focus?.x?.[j];
    return {
      title: `Input ${featureLabel(f.feature_names?.[j], j)} — layer 1`,
      tex: `${TeX.a(0, j)} = x_{${j + 1}} = ${texNum(x, "a")}`,
      caption: "The input layer just holds the example's features: a⁽¹⁾ = x. It has no z and no δ.",
      terms: [[`a${courseLayer(0)}${sub(j + 1)} = x${sub(j + 1)}`, x, "a", "x"]],
    };
  }

  function forwardBlock(f, l, i) {
    const last = f.sizes.length - 1;
    const title = `Forward: unit ${i + 1} of layer ${l + 1}`;
    const aPrev = f.focus?.a?.[l - 1];
    const W = f.weights?.[l - 1]?.[i];
    const b = f.biases?.[l - 1]?.[i];
    const z = f.focus?.z?.[l]?.[i];
    const a = f.focus?.a?.[l]?.[i];
    if (!aPrev || !W) return notYet(title, `Not computed yet in this pass: forward propagation has not reached layer ${l}.`);
    const pairs = W.map((w, j) => [w, aPrev[j]]);
    const gname = l === last ? f.output : f.activation;
    const rows = [];
    rows.push(`${TeX.z(l, i)} &= \\textstyle\\sum_{j} W${L(l - 1)}_{${i + 1}j}\\,a${L(l - 1)}_{j} + ${TeX.b(l - 1, i)}`);
    rows.push(...lines([...sumParts(pairs, ["a", "a"]), texNum(b, "a", true)]));
    const zShown = z === null || z === undefined ? "\\text{(not yet)}" : texNum(z, "a");
    rows.push(`&= ${zShown}`);
    if (gname === "softmax") {
      rows.push(`${TeX.a(l, i)} &= \\frac{e^{z_{${i + 1}}}}{\\sum_k e^{z_k}} = ${texNum(a, "a")}`);
    } else {
      rows.push(`${TeX.a(l, i)} &= ${G_TEX[gname] || "g"}(${texNum(z, "a")}) = ${texNum(a, "a")}`);
    }
    return {
      title,
      tex: `\\begin{aligned}${rows.join("\\\\")}\\end{aligned}`,
      caption: `z is the weighted sum of layer ${l}'s activations plus the bias; a = g(z)` +
        (l === last ? ` with the output's g (${f.output}): the prediction h(x).` : ` with g = ${f.activation}.`),
      terms: [
        [`z${courseLayer(l)}${sub(i + 1)}`, z, "a", "z"],
        [`a${courseLayer(l)}${sub(i + 1)}`, a, "a", "a"],
        [`b${courseLayer(l - 1)}${sub(i + 1)} (bias)`, b, "a", "b"],
      ],
    };
  }

  function outputDeltaBlock(f, i) {
    const Lx = f.sizes.length - 1;
    const title = `Backward: δ of output unit ${i + 1}`;
    const d = f.focus?.delta?.[Lx]?.[i];
    const a = f.focus?.a?.[Lx]?.[i];
    const y = f.focus?.y?.[i];
    if (d === null || d === undefined) return notYet(title, "Not computed yet: backpropagation starts after the cost.");
    let tex;
    let caption;
    if (f.output === "linear" || (app.config?.config?.loss ?? "cross_entropy") === "cross_entropy") {
      tex = `${TeX.d(Lx, i)} = ${TeX.a(Lx, i)} - y_{${i + 1}} = ${texNum(a, "a")} - ${texNum(y, "a", true)} = ${texNum(d, "d")}`;
      caption = "At the output, δ is simply how far the prediction is from the target (for the course's cost and output).";
    } else if (f.output === "sigmoid") {
      tex = `${TeX.d(Lx, i)} = (a - y)\\,a(1-a) = (${texNum(a, "a")} - ${texNum(y, "a", true)})\\,${texNum(a, "a")}(1-${texNum(a, "a", true)}) = ${texNum(d, "d")}`;
      caption = "With squared error on a sigmoid output, the output's slope g′ joins in.";
    } else {
      tex = `${TeX.d(Lx, i)} = \\frac{\\partial J}{\\partial ${TeX.z(Lx, i)}} = ${texNum(d, "d")}`;
      caption = "δ = ∂J/∂z for this output unit (squared error through softmax).";
    }
    return {
      title, tex, caption,
      terms: [[`δ${courseLayer(Lx)}${sub(i + 1)}`, d, "d", "delta"], ["y (target)", y, "a", "y"]],
    };
  }

  function hiddenDeltaBlock(f, l, j) {
    const title = `Backward: δ of unit ${j + 1} of layer ${l + 1}`;
    const dNext = f.focus?.delta?.[l + 1];
    const d = f.focus?.delta?.[l]?.[j];
    const W = f.weights?.[l];
    const z = f.focus?.z?.[l]?.[j];
    const a = f.focus?.a?.[l]?.[j];
    if (!dNext) return notYet(title, `Not computed yet: backpropagation has not come back to layer ${l + 2}.`);
    const pairs = W.map((row, k) => [row[j], dNext[k]]);
    const gp = gPrime(f.activation, z, a);
    const gt = gPrimeTex(f.activation, TeX.z(l, j), a, z);
    const rows = [
      `${TeX.d(l, j)} &= \\Big(\\textstyle\\sum_k W${L(l)}_{k${j + 1}}\\,\\delta${L(l + 1)}_k\\Big)\\, g'(${TeX.z(l, j)})`,
      ...lines(sumParts(pairs, ["a", "d"]), { open: "\\big(", close: `\\big)\\cdot\\big(${gt.filled}\\big)` }),
      `&= ${texNum(pairs.reduce((s, [w, dd]) => s + w * dd, 0), "d", true)}\\cdot ${texNum(gp, null)} = ${texNum(d, "d")}`,
    ];
    return {
      title,
      tex: `\\begin{aligned}${rows.join("\\\\")}\\end{aligned}`,
      caption: `The next layer's δs come back through the same weights that carried a${courseLayer(l)}${sub(j + 1)} forward, ` +
        `times g′(z) = ${gt.plain} for ${f.activation}: this unit's share of the blame.`,
      terms: [[`δ${courseLayer(l)}${sub(j + 1)}`, d, "d", "delta"], [`g′(z${courseLayer(l)}${sub(j + 1)})`, gp, null, "gprime"]],
    };
  }

  function deltaBlock(f, l, i) {
    return l === f.sizes.length - 1 ? outputDeltaBlock(f, i) : hiddenDeltaBlock(f, l, i);
  }

  function gradBlock(f, l, i, j) {
    const title = `Gradient of weight ${weightName(l, i, j)}`;
    const d = f.focus?.delta?.[l + 1]?.[i];
    const a = f.focus?.a?.[l]?.[j];
    const w = f.weights?.[l]?.[i]?.[j];
    const D = f.grads?.W?.[l]?.[i]?.[j];
    const lambda = lam();
    const m = batchM();
    const reg = cfg().regularization;
    const regTex = reg === "l1" ? `\\tfrac{\\lambda}{m}\\operatorname{sign}(${TeX.W(l, i, j)})` : `\\tfrac{\\lambda}{m}${TeX.W(l, i, j)}`;
    const rows = [];
    rows.push(`\\frac{\\partial J}{\\partial ${TeX.W(l, i, j)}} &= \\tfrac{1}{m}\\textstyle\\sum_{t=1}^{m} \\delta${L(l + 1)}_{${i + 1}}a${L(l)}_{${j + 1}} + ${regTex}`);
    if (d === null || d === undefined) {
      rows.push("&\\text{this example's }\\delta\\text{ is not computed yet}");
    } else {
      rows.push(`\\text{this example: } \\delta${L(l + 1)}_{${i + 1}}\\,a${L(l)}_{${j + 1}} &= ${texNum(d, "d", true)}\\cdot${texNum(a, "a", true)} = ${texNum(d * a, "d")}`);
    }
    // D = Δ/m (+ the penalty's part, (λ/m)W or (λ/m)sign W, with m the batch size)
    const regNum = lambda && m ? (reg === "l1" ? Math.sign(w) : w) * lambda / m : 0;
    let dLine = `D${L(l)}_{${i + 1}${j + 1}} &= \\tfrac{1}{m}\\Delta${L(l)}_{${i + 1}${j + 1}}`;
    if (lambda) dLine += ` + ${regTex}`;
    if (isNum(D)) {
      if (lambda && m) dLine += ` = ${texNum(D - regNum, "d")} + ${texNum(regNum, "d", true)}`;
      dLine += ` = ${texNum(D, "d")}`;
    } else {
      dLine += "\\ \\text{(not computed yet)}";
    }
    rows.push(dLine);
    const mText = m ? `m = ${m} example${m === 1 ? "" : "s"}` : "the batch";
    return {
      title,
      tex: `\\begin{aligned}${rows.join("\\\\")}\\end{aligned}`,
      caption: `The weight reaches J only through z${courseLayer(l + 1)}${sub(i + 1)}, which it moves by a${courseLayer(l)}${sub(j + 1)}: ` +
        `so ∂J/∂W = δ·a. Δ adds that up over the batch (${mText}); D = Δ/m` +
        (lambda ? ` + (λ/m)W with λ = ${fmt(lambda)}.` : " (λ = 0: no regularization)."),
      terms: [
        [`${weightName(l, i, j)} (this weight)`, w, "a", "w"],
        [`δ${courseLayer(l + 1)}${sub(i + 1)} (this example)`, d, "d", "delta"],
        [`a${courseLayer(l)}${sub(j + 1)} (this example)`, a, "a", "a"],
        [`∂J/∂W = D over the batch`, D, "d", "grad"],
      ],
    };
  }

  function updateBlock(f, l, i, j) {
    const title = `Update of weight ${weightName(l, i, j)}`;
    const dW = f.update?.W?.[l]?.[i]?.[j];
    const w = f.weights?.[l]?.[i]?.[j];
    const D = f.grads?.W?.[l]?.[i]?.[j];
    if (!isNum(dW)) return notYet(title, "No update yet: gradient descent comes after backpropagation.");
    const old = w - dW;
    const alpha = Number(cfg().learning_rate);
    const plain = cfg().optimizer === "sgd" || cfg().optimizer === "gd";
    const Wt = TeX.W(l, i, j);
    const rows = plain
      ? [`${Wt} &:= ${Wt} - \\alpha D${L(l)}_{${i + 1}${j + 1}}`,
        `&= ${texNum(old, "a")} - ${texNum(alpha, null)}\\cdot${texNum(D, "d", true)}`]
      : [`${Wt} &:= ${Wt} + \\Delta W_{${i + 1}${j + 1}}`];
    rows.push(`&= ${texNum(old, "a")} + ${texNum(dW, "d", true)} = ${texNum(w, "a")}`);
    const tiny = Math.abs(dW) < 0.005 * Math.abs(w);
    return {
      title,
      tex: `\\begin{aligned}${rows.join("\\\\")}\\end{aligned}`,
      caption: (plain ? `One step downhill with learning rate α = ${fmt(alpha)}.`
        : `The ${cfg().optimizer} optimizer turns D into the change ΔW (it remembers past gradients).`) +
        (tiny ? " The change is smaller than the 3 digits shown: learning is many small steps." : ""),
      terms: [[`ΔW (last update)`, dW, "d", "dw"], [`${weightName(l, i, j)} after it`, w, "a", "w-new"]],
    };
  }

  function costBlock(f) {
    const Lx = f.sizes.length - 1;
    const h = f.focus?.a?.[Lx] || [];
    const y = f.focus?.y || [];
    const loss = app.config?.config?.loss || (f.problem === "regression" ? "mse" : "cross_entropy");
    const reg = lam() ? ` + \\frac{\\lambda}{2m}\\sum W^2` : "";
    let general;
    let example = 0;
    let filled;
    if (loss === "mse") {
      general = `J = \\frac{1}{2m}\\sum_{t=1}^{m}\\sum_k \\big(h_k(x^{(t)}) - y^{(t)}_k\\big)^2${reg}`;
      h.forEach((v, k) => { example += 0.5 * (v - y[k]) ** 2; });
      filled = `\\tfrac12(${texNum(h[0], "a")} - ${texNum(y[0], "a", true)})^2${h.length > 1 ? " + \\cdots" : ""}`;
    } else if (f.output === "softmax") {
      general = `J = -\\frac{1}{m}\\sum_{t=1}^{m}\\sum_k y^{(t)}_k \\log h_k(x^{(t)})${reg}`;
      const k = y.findIndex((v) => v === 1);
      h.forEach((v, q) => { if (y[q]) example -= y[q] * Math.log(Math.max(v, 1e-300)); });
      filled = `-\\log ${texNum(h[k], "a")}`;
    } else {
      general = `J = -\\frac{1}{m}\\sum_{t=1}^{m}\\sum_{k=1}^{K}\\Big[y_k\\log h_k + (1-y_k)\\log(1-h_k)\\Big]${reg}`;
      h.forEach((v, k) => {
        example -= y[k] * Math.log(Math.max(v, 1e-300)) + (1 - y[k]) * Math.log(Math.max(1 - v, 1e-300));
      });
      const term = (k) => (y[k] === 1 ? `-\\log ${texNum(h[k], "a")}` : `-\\log(1-${texNum(h[k], "a", true)})`);
      filled = h.length > 2 ? `${term(0)} ${term(1)} - \\cdots` : h.map((_, k) => term(k)).join(" ");
    }
    return {
      title: "Cost J",
      tex: `\\begin{aligned}&${general}\\\\ &\\text{this example: } ${filled} = ${texNum(example, null)}\\\\ &J_{\\text{train}} = ${texNum(f.loss?.train, null)}\\end{aligned}`,
      caption: `J averages the examples' costs over the m = ${app.config?.train_size ?? "…"} training examples` +
        (lam() ? ", plus the weight penalty (biases are not regularized)." : "."),
      terms: [["this example's cost", example, null, "cost"], ["J (training set)", f.loss?.train, null, "J"]],
    };
  }

  // --- choosing what to show -------------------------------------------------------------
  function blocksFor(f) {
    const cur = f.cursor || { phase: "idle" };
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
      case "backward": {
        const l = cur.layer;
        return [deltaBlock(f, l, 0), gradBlock(f, l - 1, 0, 0)];
      }
      case "update": return [updateBlock(f, Lx - 1, 0, 0), gradBlock(f, Lx - 1, 0, 0)];
      default: return [forwardBlock(f, Lx, 0), deltaBlock(f, Lx, 0)];
    }
  }

  function phaseText(f) {
    const cur = f.cursor || { phase: "idle" };
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

  function drawTerms(table, terms) {
    const sig = (terms || []).map((t) => t[0] + "|" + t[3]).join(";");
    if (table._sig !== sig) {
      table._sig = sig;
      table.replaceChildren(...(terms || []).map(([label, , kind, key]) =>
        el("tr", { dataset: { term: key } }, el("th", { scope: "row", text: label }), el("td", {}, numSpan(NaN, kind)))));
    }
    (terms || []).forEach(([, v, kind], k) => {
      const span = table.rows[k].cells[1].firstChild;
      setText(span, fmt(v));
      const c = numSpan(v, kind).style.color;
      if (span.style.color !== c) span.style.color = c;
      span.classList.toggle("pn-nan", !isNum(v));
    });
    table.hidden = !terms || !terms.length;
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
    if (!f || !f.sizes) return;
    const running = f.status === "running";
    setText(phaseEl, phaseText(f));
    setText(exampleEl, `#${f.focus?.index ?? "–"}`);
    syncPickers(f);
    const blocks = blocksFor(f);
    blocks.forEach((b, k) => {
      const n = blockNode(k);
      setText(n.title, b.title);
      if (b.tex) {
        n.tex.hidden = false;
        drawTex(n, b, running);
      } else {
        n.tex.hidden = true;
      }
      setText(n.caption, b.caption || "");
      drawTerms(n.terms, b.terms);
      if (n.root.parentNode !== blocksEl || blocksEl.children[k] !== n.root) blocksEl.insertBefore(n.root, blocksEl.children[k] || null);
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
