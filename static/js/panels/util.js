// Small helpers shared by the explanation panels: DOM building, number → TeX, the
// lazily loaded KaTeX (formulas shrink to fit their column), colours for numbers in
// text, the course's notation, a dash with words for a value the frame does not have.

import { fmt, MINUS, WEIGHT_SCALE, GRAD_SCALE, scaleIndex, courseLayer, sub, featureLabel } from "../format.js";

export const isNum = (v) => typeof v === "number" && Number.isFinite(v);

/** el("div", {class: "x", text: "hi"}, child, …) */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k === "style") e.style.cssText = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

/** Set text only when it changed (most updates change little). */
export function setText(node, value) {
  const s = String(value);
  if (node && node._t !== s) {
    node._t = s;
    node.textContent = s;
  }
}

/** Replace children only when the signature changed. */
export function setChildren(node, sig, build) {
  if (node._sig === sig) return false;
  node._sig = sig;
  node.replaceChildren(...[build()].flat());
  return true;
}

// ---------------------------------------------------------------------------
// Colours for numbers written as text: the two data scales' ends, darkened just
// enough to read on white (same hue, same meaning). NaN has no colour.

const TEXT = {
  a: { neg: "#a34f00", pos: "#0b5f99" },   // activations / weights: orange ↔ blue
  d: { neg: "#762a83", pos: "#1b7837" },   // δ / gradients: purple ↔ green
};

export function textColour(x, kind) {
  if (!isNum(x) || x === 0 || !TEXT[kind]) return null;
  return x < 0 ? TEXT[kind].neg : TEXT[kind].pos;
}

/** A chip background on the data scale for x/scale in [−1, 1]. */
export function chipColour(x, scale, kind) {
  const k = scaleIndex(isNum(x) && scale > 0 ? x / scale : NaN);
  if (k < 0) return null;
  return (kind === "d" ? GRAD_SCALE : WEIGHT_SCALE).css[k];
}

/**
 * A number for a person: 3 significant figures, or — when the frame has no value —
 * a dash with words saying why (`why`, e.g. "not computed until the backward pass").
 */
export function say(x, why = "not computed yet") {
  return isNum(x) ? fmt(x) : `– (${why})`;
}

/** Why a frame's value is missing: not computed yet in this pass, or not finite. */
export function missing(frame, notYet) {
  return frame?.status === "diverged" ? "not a finite number: training diverged" : notYet;
}

/** <span class="pn-num"> with the number (3 s.f.) coloured on its scale; a dash with
 * `why` in words when there is no number. */
export function numSpan(x, kind, extraClass = "", why = "not computed yet") {
  const s = el("span", { class: "pn-num " + extraClass });
  updateNum(s, x, kind, why);
  return s;
}

export function updateNum(span, x, kind, why = "not computed yet") {
  setText(span, say(x, why));
  const c = textColour(x, kind) || "";
  if (span._c !== c) { span._c = c; span.style.color = c; }
  span.classList.toggle("pn-missing", !isNum(x));
}

// ---------------------------------------------------------------------------
// TeX

/** A number in TeX: 3 significant figures, real minus, 1.23×10⁻⁵ for small/large. */
export function texNum(x, kind = null, paren = false) {
  if (!isNum(x)) return "\\text{–}";
  let s = fmt(x).replaceAll(MINUS, "-");
  const m = s.match(/^(-?)([\d.]+)e(-?)(\d+)$/);
  if (m) s = `${m[1]}${m[2]}\\times10^{${m[3]}${m[4]}}`;
  if (paren && x < 0) s = `(${s})`;
  const c = textColour(x, kind);
  return c ? `\\textcolor{${c}}{${s}}` : s;
}

/** Course layer superscript, e.g. L(0) → "^{(1)}". Frame layer l is course layer l+1. */
export const L = (l) => `^{(${l + 1})}`;
export const U = (i) => `${i + 1}`;

export const TeX = {
  a: (l, i) => `a${L(l)}_{${U(i)}}`,
  z: (l, i) => `z${L(l)}_{${U(i)}}`,
  d: (l, i) => `\\delta${L(l)}_{${U(i)}}`,
  W: (l, i, j) => `W${L(l)}_{${U(i)}${U(j)}}`,
  b: (l, i) => `b${L(l)}_{${U(i)}}`,
};

let katexPromise = null;
let katexLib = null;

// KaTeX's UMD wrapper attaches to `exports` when a global of that name is an object —
// and an element with id="exports" is one (named access on window). Look there too.
function foundKatex() {
  katexLib = katexLib || window.katex || (typeof window.exports === "object" && window.exports?.katex) || null;
  return katexLib;
}

/** Load the vendored KaTeX once (a <script src> and a stylesheet; no inline code), from
 * the content-hashed URLs the page gives (cacheable for a year), else the plain ones. */
export function loadKatex(base = "/static/vendor/katex/") {
  const urls = document.body.dataset;
  if (foundKatex()) return Promise.resolve(katexLib);
  if (katexPromise) return katexPromise;
  katexPromise = new Promise((resolve, reject) => {
    if (!document.querySelector("link[data-katex]")) {
      const link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = urls.katexCss || base + "katex.min.css";
      link.dataset.katex = "";
      document.head.appendChild(link);
    }
    const s = document.createElement("script");
    s.src = urls.katexJs || base + "katex.min.js";
    s.async = true;
    s.addEventListener("load", () => (foundKatex() ? resolve(katexLib) : reject(new Error("KaTeX did not load"))));
    s.addEventListener("error", () => { katexPromise = null; reject(new Error("Could not load KaTeX")); });
    document.head.appendChild(s);
  });
  return katexPromise;
}

/**
 * Render TeX into node (display style); skipped when the source did not change.
 * The first call loads KaTeX (panels call this only when they are on screen, so KaTeX
 * is never fetched for a page nobody scrolls down); meanwhile the label (or "…") is
 * shown, then the node is typeset. If KaTeX cannot be loaded the source stays as text.
 */
export function renderTex(node, source, { display = true, label = null } = {}) {
  const K = foundKatex();
  if (node._tex === source && node._texReady === !!K) return;
  node._tex = source;
  node._texReady = !!K;
  if (!K) {
    node.textContent = label || "…";
    loadKatex().then(() => { if (node._tex === source) { node._texReady = null; renderTex(node, source, { display, label }); } },
      () => { if (node._tex === source) node.textContent = label || source; });
    return;
  }
  try {
    K.render(source, node, { displayMode: display, throwOnError: false, strict: "ignore", output: "htmlAndMathml" });
    fitTex(node);
    fitter.observe(node);
  } catch {
    node.textContent = label || source;
  }
}

const MIN_SCALE = 0.6;   // below this a formula is unreadable: it scrolls instead (never cut)

/** Shrink a typeset formula that is wider than its column (KaTeX sizes are in em). */
function fitTex(node) {
  node.style.fontSize = "";
  const room = node.clientWidth;
  node._fitW = room;
  // A display formula scrolls inside its own .katex-display box (panels.css), so the
  // node's scrollWidth alone never sees it overflow: ask the display box too.
  let need = node.scrollWidth;
  for (const d of node.querySelectorAll(".katex-display")) need = Math.max(need, d.scrollWidth + room - d.clientWidth);
  if (room > 0 && need > room + 1) node.style.fontSize = `${Math.max(MIN_SCALE, room / need).toFixed(3)}em`;
}

const fitter = new ResizeObserver((entries) => {
  // Only a new column width refits (the height a refit changes must not loop).
  for (const en of entries) if (en.target._texReady && en.target.clientWidth !== en.target._fitW) fitTex(en.target);
});

// ---------------------------------------------------------------------------
// Network facts from a frame

export const G_TEX = { sigmoid: "\\sigma", tanh: "\\tanh", relu: "\\mathrm{ReLU}", linear: "\\mathrm{id}", softmax: "\\mathrm{softmax}" };

/** "layer 2 · unit 3 (hidden)" in the course's 1-based numbering. */
export function unitName(frame, l, i) {
  const last = frame.sizes.length - 1;
  if (l === 0) return `input ${featureLabel(frame.feature_names?.[i], i)} (layer 1)`;
  const what = l === last ? "output" : "hidden";
  return `layer ${l + 1} · unit ${i + 1} (${what})`;
}

export function weightName(l, i, j) {
  return `W${courseLayer(l)}${sub(i + 1)},${sub(j + 1)}`;
}

export function maxAbs(arr, acc = 0) {
  if (!arr) return acc;
  for (const v of arr) {
    if (Array.isArray(v)) acc = maxAbs(v, acc);
    else if (isNum(v) && Math.abs(v) > acc) acc = Math.abs(v);
  }
  return acc;
}

/** Seconds → "0.123 ms" / "12.3 ms" / "1.23 s", 3 significant figures. */
export function fmtTime(s) {
  if (!isNum(s)) return "–";
  if (s < 1) return `${fmt(s * 1000)} ms`;
  return `${fmt(s)} s`;
}

export const PLOT_FONT = { family: "system-ui, sans-serif", size: 11, color: "#333" };
export const PLOT_CONFIG = { displaylogo: false, responsive: true, modeBarButtons: [["toImage"]] };

/**
 * A bounded history of (x, [y per series]) points for a live Plotly line chart.
 * `version` changes when the history is cleared or thinned, so the chart knows to
 * redraw everything; otherwise only the new points are appended (extendTraces).
 */
export class Series {
  constructor(max = 2000) {
    this.max = max;
    this.clear();
  }

  clear() {
    this.x = [];
    this.rows = [];
    this.version = (this.version || 0) + 1;
  }

  push(x, row) {
    this.x.push(x);
    this.rows.push(row);
    if (this.x.length > this.max) {
      // Thin the older half, keep the recent half dense.
      const cut = this.x.length >> 1;
      const keep = (_, k) => k >= cut || k % 2 === 0;
      this.x = this.x.filter(keep);
      this.rows = this.rows.filter(keep);
      this.version++;
    }
  }

  get length() { return this.x.length; }
}

/**
 * Draw a Series into a Plotly div: Plotly.react when the series or its number of
 * traces changed, else extendTraces with the points not drawn yet.
 * traces(n) → the n trace styles (without x/y); y(v) maps a value (null = gap).
 */
export function drawSeries(P, gd, series, n, traces, layout, config, y = (v) => (isNum(v) ? v : null)) {
  const st = gd._series || {};
  const col = (k, from) => series.rows.slice(from).map((r) => y(r[k]));
  if (st.version !== series.version || st.n !== n || !gd.data) {
    const full = traces(n).map((t, k) => ({ ...t, x: series.x.slice(), y: col(k, 0) }));
    P.react(gd, full, layout, config);
    gd._series = { version: series.version, n, len: series.length };
    return;
  }
  if (series.length > st.len) {
    const xs = series.x.slice(st.len);
    const idx = Array.from({ length: n }, (_, k) => k);
    P.extendTraces(gd, { x: idx.map(() => xs), y: idx.map((k) => col(k, st.len)) }, idx);
    st.len = series.length;
  }
}
