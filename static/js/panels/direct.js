// 3. "Why not differentiate J with respect to each weight directly?" — the chain rule
// written out for one weight of the user's network is a sum over every path from the
// weight to the output. We enumerate those paths with the focus example's numbers
// (a, W, and g′(z) and δ⁽ᴸ⁾ as the server computed them), add them up, and show that
// backprop's δ·a gives the same value in one product; then count the work for all the
// weights, directly and with backprop.

import { fmt, fmtInt, courseLayer, sub } from "../format.js";
import { el, setText, renderTex, texNum, TeX, L, weightName, isNum, missing } from "./util.js";

const MAX_PATHS = 20000;   // enumerate at most this many paths; beyond, add them up layer by layer
const SHOW_PATHS = 3;

/** Paths from a unit of layer k to the output: Π sizes[k+1..L]. */
function pathsFrom(sizes, k) {
  let p = 1;
  for (let m = k + 1; m < sizes.length; m++) p *= sizes[m];
  return p;
}

/** Work for all weights on one example: chain-rule paths and multiplications, directly and by backprop. */
export function workCounts(sizes) {
  const Lx = sizes.length - 1;
  let weights = 0;
  let paths = 0;
  let direct = 0;
  let backprop = 0;
  for (let l = 0; l < Lx; l++) {
    const w = sizes[l] * sizes[l + 1];
    const p = pathsFrom(sizes, l + 1);
    weights += w;
    paths += w * p;
    direct += w * p * (1 + 2 * (Lx - l - 1));   // a·(g′·W per layer crossed)·δᴸ
    backprop += 2 * w;                         // forward z = Wa, and D = δaᵀ
    if (l >= 1) backprop += w + sizes[l];      // δ = (Wᵀδ) ⊙ g′
  }
  return { weights, paths, direct, backprop };
}

const big = (n) => (n < 1e7 ? fmtInt(n) : fmt(n));

export function initDirect(app) {
  const { $ } = app;
  const panel = $("panel-direct");
  const sel = $("dr-weight");
  const titleEl = $("dr-title");
  const texEl = $("dr-tex");
  const say = $("dr-say");
  const tbody = $("dr-table").tBodies[0];
  let chosen = null; // {l, i, j}

  function fill(f) {
    const opts = [];
    for (let l = 0; l < f.sizes.length - 1; l++) {
      const group = el("optgroup", { label: `W${courseLayer(l)}: layer ${l + 1} → layer ${l + 2}` });
      const rows = f.sizes[l + 1];
      const cols = f.sizes[l];
      const many = rows * cols > 64;
      for (let i = 0; i < (many ? 1 : rows); i++) {
        for (let j = 0; j < (many ? Math.min(cols, 8) : cols); j++) {
          group.append(el("option", { value: `${l}:${i}:${j}`, text: weightName(l, i, j) }));
        }
      }
      opts.push(group);
    }
    sel.replaceChildren(...opts);
    chosen = { l: 0, i: 0, j: 0 };
    sel.value = "0:0:0";
  }

  sel.addEventListener("change", () => {
    const [l, i, j] = sel.value.split(":").map(Number);
    chosen = { l, i, j };
    const f = app.frame();
    if (f) draw(f);
  });

  function table(f) {
    const sig = f.sizes.join("-");
    if (tbody._sig === sig) return;
    tbody._sig = sig;
    const deep = [f.sizes[0], 16, 16, 16, 16, 16, 16, f.sizes[f.sizes.length - 1]];
    const row = (name, sizes) => {
      const c = workCounts(sizes);
      return el("tr", {}, el("th", { scope: "row", text: name }), el("td", { text: fmtInt(c.weights) }),
        el("td", { text: big(c.paths) }), el("td", { text: big(c.direct) }), el("td", { text: big(c.backprop) }));
    };
    tbody.replaceChildren(row(`yours (${f.sizes.join("–")})`, f.sizes), row(`6 hidden layers of 16 (${deep.join("–")})`, deep));
  }

  function draw(f) {
    table(f);
    if (!chosen || chosen.l >= f.sizes.length - 1) fill(f);
    const { l, i, j } = chosen;
    const Lx = f.sizes.length - 1;
    const fo = f.focus;
    const a = fo.a[l]?.[j];
    const d = fo.delta[l + 1]?.[i];
    setText(titleEl, `Directly, for ${weightName(l, i, j)} and the focus example #${fo.index} (that example's share of ∂J/∂W)`);
    if (!fo.delta[Lx] || !isNum(a) || !isNum(d)) {
      renderTex(texEl, `\\frac{\\partial J}{\\partial ${TeX.W(l, i, j)}} = \\sum_{\\text{paths to the output}} a \\cdot g' \\cdot W \\cdots \\delta^{(L)}`);
      setText(say, `– The focus example's δ is ${missing(f, "not computed until the backward pass")}: step on (or wait) to see the numbers.`);
      return;
    }
    // Enumerate paths i → k₁ → … → output unit; product a_j · Π (g′(z) W) · δᴸ.
    const total = pathsFrom(f.sizes, l + 1);
    const shown = [];
    let sum = 0;
    let count = 0;
    if (total <= MAX_PATHS) {
      const walk = (layer, unit, factors, value) => {
        if (layer === Lx) {
          const v = value * fo.delta[Lx][unit];
          sum += v;
          count++;
          if (shown.length < SHOW_PATHS) shown.push({ factors: [...factors, [fo.delta[Lx][unit], "d"]], v });
          return;
        }
        const gp = fo.g_prime[layer][unit];
        for (let k = 0; k < f.sizes[layer + 1]; k++) {
          const w = f.weights[layer][k][unit];
          walk(layer + 1, k, [...factors, [gp, null], [w, "a"]], value * gp * w);
        }
      };
      walk(l + 1, i, [[a, "a"]], a);
    } else {
      // Too many to list: the same sum, done layer by layer (which is backprop!).
      sum = d * a;
      count = total;
    }
    const lines = [];
    const general = l + 1 === Lx
      ? `a${L(l)}_{${j + 1}}\\,\\delta${L(Lx)}_{${i + 1}}`
      : `\\sum_{\\text{paths}} a${L(l)}_{${j + 1}}\\; g'(${TeX.z(l + 1, i)})\\,W${L(l + 1)}_{k${i + 1}}\\cdots\\,\\delta${L(Lx)}_{\\ldots}`;
    lines.push(`\\frac{\\partial J}{\\partial ${TeX.W(l, i, j)}} &= ${general}`);
    if (shown.length) {
      const terms = shown.map((p) => p.factors.map(([x, kind]) => texNum(x, kind, true)).join("\\cdot"));
      const more = total > shown.length ? ` + \\cdots\\ {\\scriptstyle(${big(total - shown.length)}\\text{ more paths})}` : "";
      lines.push(`&= ${terms.join(" \\\\ &\\quad + ")}${more}`);
    }
    lines.push(`&= ${texNum(sum, "d")} \\quad(${big(count)}\\text{ path${count === 1 ? "" : "s"}})`);
    lines.push(`\\text{backprop: } \\delta${L(l + 1)}_{${i + 1}}\\,a${L(l)}_{${j + 1}} &= ${texNum(d, "d", true)}\\cdot${texNum(a, "a", true)} = ${texNum(d * a, "d")}`);
    renderTex(texEl, `\\begin{aligned}${lines.join("\\\\")}\\end{aligned}`);
    setText(say, (total > MAX_PATHS ? `${big(total)} paths are too many to write out; ` : "") +
      `Both give ${fmt(d * a)}. ` +
      (l + 1 === Lx
        ? "This weight feeds the output directly: one path, so directly and backprop are the same product."
        : `Directly, this one weight needs ${big(total)} path products; δ${courseLayer(l + 1)}${sub(i + 1)} already holds their sum, ` +
          `and every weight into unit ${i + 1} of layer ${l + 2} reuses it. That sharing is all backprop is.`));
  }

  return {
    name: "direct",
    el: panel,
    update(f) { if (f) draw(f); },
    structure(f) { fill(f); tbody._sig = null; },
    select(s) {
      if (s?.kind !== "edge") return;
      chosen = { l: s.l, i: s.i, j: s.j };
      const v = `${s.l}:${s.i}:${s.j}`;
      if (![...sel.options].some((o) => o.value === v)) {
        sel.querySelectorAll("optgroup")[s.l]?.append(el("option", { value: v, text: weightName(s.l, s.i, s.j) }));
      }
      sel.value = v;
      const f = app.frame();
      if (f && app.isShown("direct")) draw(f);
    },
  };
}
