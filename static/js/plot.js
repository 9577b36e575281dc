// A small SVG plot frame for the right column's charts (charts.js): axes with ticks and
// grid, a hover tip, a PNG download. It formats and draws the numbers it is given and
// computes nothing else; it exists so that the first load carries no chart library
// (Plotly is ~450 KB gzipped; it is loaded only by the panels that need it).

import { MINUS } from "./format.js";

const NS = "http://www.w3.org/2000/svg";
const FAMILY = "system-ui, sans-serif";

/** The page's type scale (app.css: 14 px text, 18 px on a projector): chart text follows it. */
const typeScale = () => (parseFloat(getComputedStyle(document.documentElement).fontSize) || 14) / 14;

export function svg(tag, attrs = {}, parent = null) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

/** About `count` round tick values (1, 2, 5 × 10ⁿ apart) covering lo…hi. */
function niceTicks(lo, hi, count = 5) {
  if (!(hi > lo)) return { ticks: [lo], step: 1 };
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw * 0.999) || 10 * mag;
  const ticks = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return { ticks, step };
}

/** A tick label: as many decimals as the step needs, a real minus, 20k for 20,000. */
function tickLabel(v, step) {
  let s;
  if (Math.abs(v) >= 10000 && step >= 1000) s = `${Number((v / 1000).toFixed(Math.max(0, -Math.floor(Math.log10(step / 1000)))))}k`;
  else s = v.toFixed(Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
  return s.replace("-", MINUS);
}

/**
 * The frame of one chart inside `el`: a plot div holding the SVG (and whatever the chart
 * puts under it), a message that replaces the plot when it cannot be drawn, a tip for
 * hover values and a "PNG" button. `onResize` is called when the element's size changes.
 */
export class PlotFrame {
  constructor(el, { label, onResize, onPng }) {
    this.el = el;
    el.classList.add("chart-host");
    this.plot = document.createElement("div");
    this.plot.className = "chart-plot";
    this.svg = svg("svg", { class: "chart-svg", role: "img", "aria-label": label });
    this.plot.appendChild(this.svg);
    this.msg = document.createElement("div");
    this.msg.className = "chart-message";
    this.msg.setAttribute("role", "status");
    this.msg.hidden = true;
    this.tip = document.createElement("div");
    this.tip.className = "chart-tip";
    this.tip.hidden = true;
    this.png = document.createElement("button");
    this.png.type = "button";
    this.png.className = "chart-png";
    this.png.textContent = "PNG";
    this.png.title = "Download the chart as a PNG image";
    this.png.setAttribute("aria-label", `Download the ${label.toLowerCase()} as a PNG image`);
    this.png.addEventListener("click", () => onPng());
    el.replaceChildren(this.plot, this.msg, this.tip, this.png);
    this.w = 0;
    this.h = 0;
    this.z = 1;
    new ResizeObserver(() => {
      const w = Math.round(this.plot.clientWidth);
      const h = Math.round(this.plot.clientHeight);
      if (w === this.w && h === this.h) return;
      this.w = w;
      this.h = h;
      this.z = typeScale();
      this.svg.setAttribute("width", w);
      this.svg.setAttribute("height", h);
      this.svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
      onResize();
    }).observe(this.plot);
  }

  get ready() {
    return this.w > 0 && this.h > 0;
  }

  message(text) {
    this.msg.textContent = text || "";
    this.msg.hidden = !text;
  }

  font(scale = 1) {
    return Math.round(11 * this.z * scale * 10) / 10;
  }

  /**
   * Axes of the box {l, t, w, h} into group `g` (emptied first). x and y:
   * {lo, hi, title, format?}; y2 (optional) a second y axis on the right. Returns the
   * scales px(v), py(v), py2(v).
   */
  axes(g, box, x, y, y2 = null, gridColour = "#e4e4e4") {
    g.replaceChildren();
    const fs = this.font();
    const px = (v) => box.l + (v - x.lo) / (x.hi - x.lo) * box.w;
    const py = (v) => box.t + box.h - (v - y.lo) / (y.hi - y.lo) * box.h;
    const py2 = y2 ? (v) => box.t + box.h - (v - y2.lo) / (y2.hi - y2.lo) * box.h : null;
    const grid = svg("g", { class: "chart-grid", stroke: gridColour, "stroke-width": 1 }, g);
    const text = (tx, ty, s, anchor, cls = "tick") => {
      const t = svg("text", { x: tx.toFixed(1), y: ty.toFixed(1), "text-anchor": anchor, class: cls, "font-size": fs, fill: "#333" }, g);
      t.textContent = s;
      return t;
    };
    const xt = niceTicks(x.lo, x.hi, Math.max(2, Math.round(box.w / (70 * this.z))));
    for (const v of xt.ticks) {
      const X = px(v);
      svg("line", { x1: X, x2: X, y1: box.t, y2: box.t + box.h }, grid);
      text(X, box.t + box.h + fs + 3, (x.format || tickLabel)(v, xt.step), "middle");
    }
    const yt = niceTicks(y.lo, y.hi, Math.max(2, Math.round(box.h / (40 * this.z))));
    for (const v of yt.ticks) {
      const Y = py(v);
      svg("line", { x1: box.l, x2: box.l + box.w, y1: Y, y2: Y }, grid);
      text(box.l - 4, Y + fs * 0.35, (y.format || tickLabel)(v, yt.step), "end");
    }
    if (y2) {
      const t2 = niceTicks(y2.lo, y2.hi, Math.max(2, Math.round(box.h / (40 * this.z))));
      for (const v of t2.ticks) text(box.l + box.w + 4, py2(v) + fs * 0.35, (y2.format || tickLabel)(v, t2.step), "start");
      const r = text(0, 0, y2.title, "middle", "axis-title");
      r.setAttribute("transform", `translate(${(box.l + box.w + 2.6 * fs).toFixed(1)},${(box.t + box.h / 2).toFixed(1)}) rotate(90)`);
    }
    svg("rect", { class: "plot-area", x: box.l, y: box.t, width: box.w, height: box.h, fill: "none", stroke: "#bbb" }, g);
    text(box.l + box.w / 2, box.t + box.h + 2.4 * fs + 3, x.title, "middle", "axis-title");
    const yl = text(0, 0, y.title, "middle", "axis-title");
    yl.setAttribute("transform", `translate(${(box.l - 3.2 * fs).toFixed(1)},${(box.t + box.h / 2).toFixed(1)}) rotate(-90)`);
    return { px, py, py2 };
  }

  /** Show the tip with `lines` near (x, y) px of the plot, or hide it (lines null). */
  showTip(lines, x, y) {
    if (!lines) {
      this.tip.hidden = true;
      return;
    }
    this.tip.replaceChildren(...lines.map((s) => Object.assign(document.createElement("div"), { textContent: s })));
    this.tip.hidden = false;
    const tw = this.tip.offsetWidth;
    const th = this.tip.offsetHeight;
    this.tip.style.left = `${Math.round(x + 12 + tw > this.w ? Math.max(0, x - tw - 12) : x + 12)}px`;
    this.tip.style.top = `${Math.round(Math.max(0, Math.min(this.h - th, y - th / 2)))}px`;
  }

  /** The chart as a PNG file: `under` (a canvas and its box, or null) below the SVG. */
  async download(filename, under = null) {
    const scale = 2;
    const out = document.createElement("canvas");
    out.width = this.w * scale;
    out.height = this.h * scale;
    const c = out.getContext("2d");
    c.fillStyle = "#fff";
    c.fillRect(0, 0, out.width, out.height);
    c.scale(scale, scale);
    if (under) {
      c.save();
      c.beginPath();
      c.rect(under.clip.l, under.clip.t, under.clip.w, under.clip.h);
      c.clip();
      c.imageSmoothingEnabled = true;
      c.imageSmoothingQuality = "high";
      c.drawImage(under.canvas, under.box.l, under.box.t, under.box.w, under.box.h);
      c.restore();
    }
    const copy = this.svg.cloneNode(true);
    copy.setAttribute("xmlns", NS);
    copy.setAttribute("font-family", FAMILY);
    for (const e of copy.querySelectorAll(".chart-hover")) e.remove();   // the pointer's marks
    const url = URL.createObjectURL(new Blob([new XMLSerializer().serializeToString(copy)], { type: "image/svg+xml" }));
    try {
      const img = new Image();
      await new Promise((resolve, reject) => {
        img.onload = resolve;
        img.onerror = reject;
        img.src = url;
      });
      c.drawImage(img, 0, 0, this.w, this.h);
    } finally {
      URL.revokeObjectURL(url);
    }
    const blob = await new Promise((resolve) => out.toBlob(resolve, "image/png"));
    if (!blob) return;
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = filename + ".png";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }
}
