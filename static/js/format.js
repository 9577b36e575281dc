// Shared display helpers: how numbers, labels and colours look to a person.
// Used by diagram.js and charts.js (and free for any other page module).

export const MINUS = "\u2212"; // a real minus sign, as wide as "+", so columns align

/**
 * Format a number with 3 significant figures and a real minus sign.
 *
 * Rules (chosen so that a column of values keeps its shape while training):
 *   null / undefined / NaN / ±Infinity  → "NaN"   (never a made-up number)
 *   0 (and −0)                          → "0"
 *   0.001 ≤ |x| < 1000                  → plain decimals, trailing zeros kept:
 *                                          0.5 → "0.500", −0.012345 → "−0.0123", 12.34 → "12.3"
 *   otherwise                           → mantissa e exponent, no "+":
 *                                          1234.5 → "1.23e3", −0.00001234 → "−1.23e−5"
 */
export function fmt(x) {
  if (x === null || x === undefined || typeof x !== "number" || !Number.isFinite(x)) {
    return "NaN";
  }
  if (x === 0) return "0";
  const sign = x < 0 ? MINUS : "";
  const ax = Math.abs(x);
  // toExponential rounds first, so 999.6 correctly becomes "1.00e3" rather than "1000".
  const [mant, expStr] = ax.toExponential(2).split("e");
  const exp = Number(expStr);
  if (exp >= -3 && exp <= 2) return sign + ax.toFixed(2 - exp);
  return sign + mant + "e" + (exp < 0 ? MINUS : "") + Math.abs(exp);
}

/** Integer with thousands separators: 1234 → "1,234". */
export function fmtInt(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return "NaN";
  const s = Math.round(Math.abs(n)).toLocaleString("en-US");
  return (n < 0 ? MINUS : "") + s;
}

/** Epoch counter with one decimal: 49.43 → "49.4". */
export function fmtEpoch(e) {
  if (e === null || e === undefined || !Number.isFinite(e)) return "NaN";
  return e.toFixed(1);
}

const SUP = "⁰¹²³⁴⁵⁶⁷⁸⁹";
const SUB = "₀₁₂₃₄₅₆₇₈₉";

/** 12 → "¹²" */
export function sup(n) {
  return String(n).replace(/\d/g, (d) => SUP[d]);
}

/** 12 → "₁₂" */
export function sub(n) {
  return String(n).replace(/\d/g, (d) => SUB[d]);
}

/** The course's layer superscript: courseLayer(0) → "⁽¹⁾" (course layers are 1-based). */
export function courseLayer(l) {
  return "⁽" + sup(l + 1) + "⁾";
}

const FEATURE_LABELS = {
  x1: "x₁", x2: "x₂", x1sq: "x₁²", x2sq: "x₂²", x1x2: "x₁x₂",
  sinx1: "sin x₁", sinx2: "sin x₂",
};

/** Input feature name as the course writes it; unknown (CSV) names are shortened. */
export function featureLabel(name, j) {
  if (name === null || name === undefined) return "x" + sub(j + 1);
  const known = FEATURE_LABELS[name];
  if (known) return known;
  const s = String(name);
  return s.length > 10 ? s.slice(0, 9) + "…" : s;
}

// ---------------------------------------------------------------------------
// Colour scales. Each scale has exactly one meaning across the whole page:
//   WEIGHT_SCALE  orange ↔ white ↔ blue   activations, heatmaps, weights, classes
//   GRAD_SCALE    purple ↔ white ↔ green  δ terms and gradients ∂J/∂w
// NaN is never a colour: it is NAN_GREY drawn dashed, and the word "NaN".

export const NAN_GREY = "#9e9e9e";

const hex = (rgb) => "#" + rgb.map((c) => c.toString(16).padStart(2, "0")).join("");

function makeScale(neg, mid, pos) {
  const rgba = new Uint8ClampedArray(256 * 4);
  const css = new Array(256);
  for (let k = 0; k < 256; k++) {
    const t = (k / 255) * 2 - 1; // −1 … +1
    const [a, b, u] = t < 0 ? [mid, neg, -t] : [mid, pos, t];
    const rgb = [0, 1, 2].map((c) => Math.round(a[c] + (b[c] - a[c]) * u));
    rgba.set([rgb[0], rgb[1], rgb[2], 255], k * 4);
    css[k] = hex(rgb);
  }
  return {
    rgba, // 256 RGBA entries, for canvas lookup tables
    css, // 256 "#rrggbb" strings, for SVG attributes
    neg: hex(neg), mid: hex(mid), pos: hex(pos),
    // Plotly colorscale spanning zmin…zmax
    plotly: [[0, hex(neg)], [0.5, hex(mid)], [1, hex(pos)]],
    gradient: `linear-gradient(to right, ${hex(neg)}, ${hex(mid)}, ${hex(pos)})`,
  };
}

export const WEIGHT_SCALE = makeScale([0xf5, 0x93, 0x22], [0xf7, 0xf7, 0xf7], [0x08, 0x77, 0xbd]);
export const GRAD_SCALE = makeScale([0x76, 0x2a, 0x83], [0xf7, 0xf7, 0xf7], [0x1b, 0x78, 0x37]);

/**
 * Index 0…255 into a scale for t in [−1, 1] (clamped); −1 for a non-finite value,
 * so callers can draw "NaN" instead of a colour.
 */
export function scaleIndex(t) {
  if (t === null || t === undefined || !Number.isFinite(t)) return -1;
  const k = Math.round((t + 1) * 127.5);
  return k < 0 ? 0 : k > 255 ? 255 : k;
}
