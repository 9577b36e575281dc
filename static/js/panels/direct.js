// 3. "Why not differentiate J with respect to each weight directly?" — the chain rule
// written out for one weight of the user's network is a sum over every path from the
// weight to the output. The server (GET /paths) writes those paths out with the focus
// example's numbers, adds them up, puts backprop's δ·a beside the sum and counts the work
// for all the weights, directly and with backprop; this card formats and draws its reply.
// It asks again when the frame moves on (another step, focus example or weight), while
// the card is on screen, at most every RUNNING_MS while training runs.

import { fmt, fmtInt, courseLayer, sub } from "../format.js";
import { el, setText, renderTex, texNum, TeX, L, weightName, isNum, missing } from "./util.js";

const RUNNING_MS = 500;
const KIND = { a: "a", W: "a", "g'": null, delta: "d" };   // each factor's colour scale (texNum)

const big = (n) => (n < 1e7 ? fmtInt(n) : fmt(n));

export function initDirect(app) {
  const { $ } = app;
  const panel = $("panel-direct");
  const sel = $("dr-weight");
  const titleEl = $("dr-title");
  const texEl = $("dr-tex");
  const say = $("dr-say");
  const tbody = $("dr-table").tBodies[0];
  let chosen = null;   // {l, i, j}
  let reply = null;    // the server's answer for `chosen`
  let failed = null;   // why the last request failed
  let asked = "";      // what the last request asked for (frame seq, focus, weight)
  let busy = false;
  let askedAt = -Infinity;
  let timer = 0;

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
    choose({ l: 0, i: 0, j: 0 });
  }

  function choose(w) {
    chosen = w;
    reply = null;
    failed = null;
    sel.value = `${w.l}:${w.i}:${w.j}`;
  }

  sel.addEventListener("change", () => {
    const [l, i, j] = sel.value.split(":").map(Number);
    choose({ l, i, j });
    redraw();
  });

  function redraw() {
    const f = app.frame();
    if (f && app.isShown("direct")) draw(f);
  }

  /** Ask the server for the chosen weight when the frame has moved on since the last ask. */
  function ask(f) {
    const w = chosen;
    const key = `${f.seq}:${f.focus.index}:${w.l}:${w.i}:${w.j}`;
    if (key === asked || busy) return;   // a busy ask draws again when it is answered
    const wait = f.status === "running" ? RUNNING_MS - (performance.now() - askedAt) : 0;
    if (wait > 0) {
      timer ||= setTimeout(() => { timer = 0; redraw(); }, wait);
      return;
    }
    asked = key;
    busy = true;
    askedAt = performance.now();
    // The timeline shows a past moment: ask for that one.
    const past = document.body.dataset.viewing === "true" ? `&step=${f.step}` : "";
    app.ctx.api(`/paths?layer=${w.l}&to=${w.i}&from=${w.j}${past}`)
      .then(async (r) => {
        const data = await r.json().catch(() => ({}));
        if (!r.ok) throw new Error(data?.error?.message || `HTTP ${r.status}`);
        if (w === chosen) { reply = data; failed = null; }
      })
      .catch((e) => { if (w === chosen) failed = e.message; })
      .finally(() => { busy = false; redraw(); });
  }

  function table(r) {
    const sig = r.work.map((w) => w.sizes.join("-")).join("/");
    if (tbody._sig === sig) return;
    tbody._sig = sig;
    const [yours, deep] = r.work;
    const row = (name, c) => el("tr", {}, el("th", { scope: "row", text: name }), el("td", { text: fmtInt(c.weights) }),
      el("td", { text: big(c.paths) }), el("td", { text: big(c.direct) }), el("td", { text: big(c.backprop) }));
    tbody.replaceChildren(row(`yours (${yours.sizes.join("–")})`, yours),
      row(`${deep.sizes.length - 2} hidden layers of ${deep.sizes[1]} (${deep.sizes.join("–")})`, deep));
  }

  function draw(f) {
    if (!chosen || chosen.l >= f.sizes.length - 1) fill(f);
    ask(f);
    const { l, i, j } = chosen;
    const Lx = f.sizes.length - 1;
    const fo = f.focus;
    const r = reply;
    if (r) table(r);
    setText(titleEl, `Directly, for ${weightName(l, i, j)} and the focus example #${r ? r.focus : fo.index} ` +
      "(its own cost, without the penalty: D averages these over the batch)");
    const general = l + 1 === Lx
      ? `a${L(l)}_{${j + 1}}\\,\\delta${L(Lx)}_{${i + 1}}`
      : `\\sum_{\\text{paths}} a${L(l)}_{${j + 1}}\\; g'(${TeX.z(l + 1, i)})\\,W${L(l + 1)}_{k${i + 1}}\\cdots\\,\\delta${L(Lx)}_{\\ldots}`;
    const lhs = `\\frac{\\partial J}{\\partial ${TeX.W(l, i, j)}}`;
    // The phase walk shows the paths once the backward pass has reached this weight.
    if (!fo.delta[Lx] || !isNum(fo.a[l]?.[j]) || !isNum(fo.delta[l + 1]?.[i])) {
      renderTex(texEl, `${lhs} = \\sum_{\\text{paths to the output}} a \\cdot g' \\cdot W \\cdots \\delta^{(L)}`);
      setText(say, `– The focus example's δ is ${missing(f, "not computed until the backward pass")}: step on (or wait) to see the numbers.`);
      return;
    }
    if (!r) {
      renderTex(texEl, `${lhs} = ${general}`);
      setText(say, failed ? `– The server could not write the paths out: ${failed}` : "Writing the paths out…");
      return;
    }
    const lines = [`${lhs} &= ${general}`];
    if (r.shown.length) {
      const terms = r.shown.map((p) => p.factors.map((x) => texNum(x.value, KIND[x.name], true)).join("\\cdot"));
      const more = r.count > r.shown.length ? ` + \\cdots\\ {\\scriptstyle(${big(r.count - r.shown.length)}\\text{ more paths})}` : "";
      lines.push(`&= ${terms.join(" \\\\ &\\quad + ")}${more}`);
    }
    const how = r.enumerated ? "" : "\\text{, added layer by layer}";
    lines.push(`&= ${texNum(r.sum, "d")} \\quad(${big(r.count)}\\text{ path${r.count === 1 ? "" : "s"}}${how})`);
    lines.push(`\\text{backprop: } \\delta${L(l + 1)}_{${i + 1}}\\,a${L(l)}_{${j + 1}} &= ${texNum(r.delta, "d", true)}\\cdot${texNum(r.a, "a", true)} = ${texNum(r.backprop, "d")}`);
    renderTex(texEl, `\\begin{aligned}${lines.join("\\\\")}\\end{aligned}`);
    if (!isNum(r.sum)) {
      setText(say, `– The sum of the paths is ${missing(f, "not a finite number")}.`);
      return;
    }
    setText(say, (r.enumerated ? "" : `${big(r.count)} paths are too many to write out: adding them layer by layer, from the output back, is exactly backprop. `) +
      `Both give ${fmt(r.sum)}. ` +
      (l + 1 === Lx
        ? "This weight feeds the output directly: one path, so directly and backprop are the same product."
        : `Directly, this one weight needs ${big(r.count)} path product${r.count === 1 ? "" : "s"}; δ${courseLayer(l + 1)}${sub(i + 1)} already holds their sum, ` +
          `and every weight into unit ${i + 1} of layer ${l + 2} reuses it. That sharing is all backprop is.`));
  }

  return {
    name: "direct",
    el: panel,
    update(f) { if (f) draw(f); },
    structure(f) { fill(f); tbody._sig = null; },
    select(s) {
      if (s?.kind !== "edge") return;
      const v = `${s.l}:${s.i}:${s.j}`;
      if (![...sel.options].some((o) => o.value === v)) {
        sel.querySelectorAll("optgroup")[s.l]?.append(el("option", { value: v, text: weightName(s.l, s.i, s.j) }));
      }
      choose({ l: s.l, i: s.i, j: s.j });
      redraw();
    },
  };
}
