// Painting the diagram: values → colours and widths on the page's two scales, written
// into the elements diagram.js built (only what changed), and the unit canvases
// (heatmaps, digits' weight images, the input image) with the sheet that shows them all
// while training fast. NaN is never a colour: it is drawn dashed grey and said in words.

import { WEIGHT_SCALE, GRAD_SCALE, NAN_GREY, scaleIndex } from "./format.js";
import { htmlEl, setAttr, setClass, isNum, maxAbs, r1 } from "./diagram-util.js";

export const NAN_FILL = "#e6e6e6";
export const PENDING_FILL = "#f4f4f4";

/** One unit's canvas (heatmap or image) and what it shows now. */
export class UnitCanvas {
  constructor(layer, x, y, size, pixelated) {
    const cv = htmlEl("canvas", pixelated ? "nd-heat nd-pixels" : "nd-heat", layer);
    cv.width = 1;
    cv.height = 1;
    cv.hidden = true;
    Object.assign(cv.style, { left: r1(x) + "px", top: r1(y) + "px", width: size + "px", height: size + "px" });
    this.cv = cv;
    this.ctx = cv.getContext("2d");
    this.box = { x: r1(x), y: r1(y), size, pixelated, radius: pixelated ? 2 : 4 }; // as diagram.css draws it
    this.str = null; // the base64 heatmap drawn, and through which lookup table
    this.lut = null;
    this.pending = false;
  }
}

export class Painter {
  constructor() {
    this.luts = new Map();
    this.imageData = new Map();
    this.dirty = true; // a unit canvas changed: the sheet must be drawn again
  }

  // Colour domain of layer l: which value is white and which is full colour.
  // Sigmoid/softmax outputs are probabilities: 0.5 is white (undecided), like the
  // decision boundary chart. Otherwise 0 is white; the range sets full colour.
  domain(f, l, r) {
    const L = f.sizes.length;
    const kind = l === 0 ? "input" : l === L - 1 ? f.output : f.activation;
    if (kind === "sigmoid" || kind === "softmax") return { centre: 0.5, half: 0.5 };
    if (kind === "tanh") return { centre: 0, half: 1 };
    const half = r && isNum(r[0]) && isNum(r[1])
      ? Math.max(Math.abs(r[0]), Math.abs(r[1]))
      : Math.max(1, maxAbs(f.focus?.a?.[l]));
    return { centre: 0, half: Math.max(half, 1e-9) };
  }

  // 256-entry RGBA lookup: heatmap byte → colour, for one layer's range and domain.
  lut(range, dom) {
    const key = `${range[0]}|${range[1]}|${dom.centre}|${dom.half}`;
    let lut = this.luts.get(key);
    if (lut) return lut;
    if (this.luts.size > 64) this.luts.clear();
    lut = new Uint8ClampedArray(1024);
    const src = WEIGHT_SCALE.rgba;
    for (let b = 0; b < 256; b++) {
      const v = range[0] + (range[1] - range[0]) * b / 255;
      const k = scaleIndex((v - dom.centre) / dom.half) * 4;
      lut[b * 4] = src[k]; lut[b * 4 + 1] = src[k + 1]; lut[b * 4 + 2] = src[k + 2]; lut[b * 4 + 3] = 255;
    }
    this.luts.set(key, lut);
    return lut;
  }

  _img(w, h) {
    const key = w + "x" + h;
    let img = this.imageData.get(key);
    if (!img) { img = new ImageData(w, h); this.imageData.set(key, img); }
    return img;
  }

  _show(u, shown) {
    if (u.cv.hidden === shown) {
      u.cv.hidden = !shown;
      this.dirty = true;
    }
  }

  setPending(u, pending) {
    if (u.pending !== pending) {
      u.pending = pending;
      this.dirty = true;
    }
    setClass(u.cv, "pending", pending);
  }

  /** Decode one base64 uint8 heatmap into the unit's canvas through the layer's LUT. */
  heat(u, str, lut, res) {
    if (!str || !lut || !res) {
      this._show(u, false);
      u.str = null;
      return false;
    }
    if (u.str === str && u.lut === lut) {
      this._show(u, true);
      return true;
    }
    let bin;
    try {
      bin = atob(str);
    } catch {
      bin = "";
    }
    if (bin.length < res * res) {
      this._show(u, false);
      return false;
    }
    const cv = u.cv;
    if (cv.width !== res) { cv.width = res; cv.height = res; }
    const img = this._img(res, res);
    const px = img.data;
    for (let r = 0; r < res; r++) {
      const src = (res - 1 - r) * res; // grid row 0 is the lowest x₂: flip to screen rows
      let o = r * res * 4;
      for (let c = 0; c < res; c++, o += 4) {
        const q = bin.charCodeAt(src + c) * 4;
        px[o] = lut[q]; px[o + 1] = lut[q + 1]; px[o + 2] = lut[q + 2]; px[o + 3] = 255;
      }
    }
    u.ctx.putImageData(img, 0, 0);
    u.str = str;
    u.lut = lut;
    this.dirty = true;
    this._show(u, true);
    return true;
  }

  /** A side × rows grid of values (digits: pixels or weights), paint(v, px, o) per cell. */
  grid(u, values, side, rows, paint) {
    if (!values) return;
    const cv = u.cv;
    if (cv.width !== side) { cv.width = side; cv.height = rows; }
    const img = this._img(side, rows);
    const px = img.data;
    px.fill(255);
    for (let j = 0; j < values.length && j < side * rows; j++) paint(values[j], px, j * 4);
    u.ctx.putImageData(img, 0, 0);
    this.dirty = true;
    this._show(u, true);
  }

  /** Fast mode: copy every shown unit canvas onto the sheet, as they would look. */
  sheet(sheet, units) {
    if (!this.dirty) return;
    this.dirty = false;
    const ctx = sheet.ctx;
    ctx.setTransform(sheet.dpr, 0, 0, sheet.dpr, 0, 0);
    ctx.clearRect(0, 0, sheet.cv.width, sheet.cv.height);
    for (const u of units) {
      if (u.cv.hidden || u.cv.width < 1) continue;
      const b = u.box;
      ctx.save();
      ctx.globalAlpha = u.pending ? 0.3 : 1;
      ctx.imageSmoothingEnabled = !b.pixelated;
      ctx.beginPath();
      if (ctx.roundRect) ctx.roundRect(b.x, b.y, b.size, b.size, b.radius);
      else ctx.rect(b.x, b.y, b.size, b.size);
      ctx.clip();
      ctx.drawImage(u.cv, b.x, b.y, b.size, b.size);
      ctx.restore();
    }
  }
}

// --- units -----------------------------------------------------------------------------

/** k: colour index, −1 NaN, −2 not computed yet; heat: the unit's canvas shows it. */
export function paintNode(n, k, heat) {
  const fill = heat ? "none" : k >= 0 ? WEIGHT_SCALE.css[k] : k === -1 ? NAN_FILL : PENDING_FILL;
  setAttr(n.box, "fill", fill);
  setClass(n.g, "nan", k === -1 && !heat);
  setAttr(n.badge, "fill", k >= 0 ? WEIGHT_SCALE.css[k] : NAN_FILL);
  setClass(n.badge, "nan", k === -1);
  setClass(n.badge, "off", k === -2);
}

/** The δ ring; returns whether its value is NaN. */
export function paintRing(n, d, scale) {
  if (!d) {
    setClass(n.ring, "off", true);
    return false;
  }
  // Square-root mapping: δ shrinks layer by layer, yet every ring should stay visible
  // (the sign and the order of magnitudes are kept; the tooltip has the number).
  const v = d[n.i];
  const k = isNum(v) ? scaleIndex(Math.sign(v) * Math.sqrt(Math.abs(v) / scale)) : -1;
  setClass(n.ring, "off", false);
  setClass(n.ring, "nan", k < 0);
  setAttr(n.ring, "stroke", k < 0 ? NAN_GREY : GRAD_SCALE.css[k]);
  return k < 0;
}

/** The bias diamond; returns whether its value is NaN. */
export function paintBias(n, b, scale) {
  const k = b && isNum(b[n.i]) ? scaleIndex(b[n.i] / scale) : -1;
  setAttr(n.bias, "fill", k < 0 ? NAN_FILL : WEIGHT_SCALE.css[k]);
  setClass(n.bias, "nan", k < 0);
  return k < 0;
}

// --- edges -----------------------------------------------------------------------------

/** One edge: t = value / scale (null: NaN); returns whether it is NaN. */
export function paintEdge(e, idx, t, useG, widthT = t) {
  const k = scaleIndex(t);
  const code = k < 0 ? -1 : k + (useG ? 256 : 0);
  const el = e.vis[idx];
  if (e.code[idx] !== code) {
    e.code[idx] = code;
    el.setAttribute("stroke", k < 0 ? NAN_GREY : (useG ? GRAD_SCALE : WEIGHT_SCALE).css[k]);
    el.classList.toggle("nan", k < 0);
  }
  const w = k < 0 ? 1 : Math.round((0.5 + (e.maxW - 0.5) * Math.min(1, Math.abs(widthT))) * 4) / 4;
  if (e.width[idx] !== w) {
    e.width[idx] = w;
    el.setAttribute("stroke-width", w);
  }
  return k < 0;
}

/** A weight layer's edges from matrix M (rows: to, columns: from); returns NaN count. */
export function paintEdgeLayer(e, M, scale, useG) {
  let idx = 0;
  let nan = 0;
  for (let i = 0; i < e.nTo; i++) {
    const row = M[i];
    for (let j = 0; j < e.nFrom; j++, idx++) {
      const v = row ? row[j] : null;
      nan += paintEdge(e, idx, isNum(v) ? v / scale : null, useG);
    }
  }
  return nan;
}

// Digits: one edge per first-layer unit, coloured by the mean of its 64 incoming
// weights (relative to the largest mean) and as wide as their RMS.
export function paintBundle(e, M, useG) {
  const means = M.map((row) => (row ? row.reduce((s, v) => s + v, 0) / row.length : null));
  const scale = Math.max(maxAbs(means), 1e-12);
  const rms = M.map((row) => (row ? Math.sqrt(row.reduce((s, v) => s + v * v, 0) / row.length) : 0));
  const rScale = Math.max(maxAbs(rms), 1e-12);
  let nan = 0;
  for (let i = 0; i < e.nTo; i++) {
    const m = means[i];
    nan += paintEdge(e, i, isNum(m) ? m / scale : null, useG, isNum(rms[i]) ? rms[i] / rScale : null);
  }
  return nan;
}

/** Digits: the input example as greyscale ink. */
export function inkPainter(x) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of x) if (isNum(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const span = hi > lo ? hi - lo : 1;
  return (v, px, o) => {
    const g = isNum(v) ? 255 - Math.round((v - lo) / span * 235) : 200;
    px[o] = g; px[o + 1] = g; px[o + 2] = g;
  };
}

/** Digits: a unit's incoming weights on the weight scale (scale: the largest |w|). */
export function weightPainter(scale) {
  const rgba = WEIGHT_SCALE.rgba;
  return (v, px, o) => {
    const k = scaleIndex(v / scale);
    if (k < 0) { px[o] = px[o + 1] = px[o + 2] = 200; return; }
    px[o] = rgba[k * 4]; px[o + 1] = rgba[k * 4 + 1]; px[o + 2] = rgba[k * 4 + 2];
  };
}
