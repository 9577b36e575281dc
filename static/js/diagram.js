// The network diagram: layers of units, edges coloured by weight, the focus example's
// activations, δ rings, per-unit heatmaps, and the animation of forward / backward / update.
//
// Performance model: render(frame) only stores the frame and schedules ONE
// requestAnimationFrame. The draw then updates attributes of DOM that already exists
// (and only the attributes whose value changed). The DOM is rebuilt only when the
// network's shape (frame.structure / frame.sizes) or the container size changes.
//
// Stacking inside the stage (bottom → top):
//   svg.nd-back     layer bands, hover halo, edges, animation overlays, edge hit paths
//   div.nd-canvases one <canvas> per unit for heatmaps / weight images, and one sheet
//                   canvas the size of the stage: in fast mode (training) the units'
//                   canvases are not displayed and the sheet shows them all (one
//                   composited layer instead of one per unit); phase mode shows the
//                   units' own canvases, with their transitions and pulses
//   svg.nd-front    node outlines, δ rings, activation badges, biases, labels
// The front svg ignores the pointer except on its nodes, so edges stay clickable.

import {
  fmt, fmtInt, fmtEpoch, sub, courseLayer, featureLabel,
  WEIGHT_SCALE, GRAD_SCALE, NAN_GREY, scaleIndex, MINUS,
} from "./format.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const MAX_NODE = 40;
const MIN_NODE = 12;
const PAD = { top: 46, bottom: 12, left: 58, right: 104 };
const IMAGE_INPUTS = 16; // more inputs than this: draw the input as one image (digits)
const NAN_FILL = "#e6e6e6";
const PENDING_FILL = "#f4f4f4";
const ANIM_MS = 380;
// While training fast, the values drawn (units, heatmaps, edges: hundreds of canvas
// uploads and SVG attribute writes, then style, layout, paint and raster) are refreshed
// at most this often (~20/s); the caption follows every frame. Phase mode draws all.
const FAST_HEAVY_MS = 50;

// ---------------------------------------------------------------------------
// Small DOM helpers

function svgEl(tag, attrs, parent) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const k in attrs) el.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(el);
  return el;
}

function htmlEl(tag, cls, parent) {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  if (parent) parent.appendChild(el);
  return el;
}

// Set an attribute only when its value changed: most draws change few of them.
function attr(el, name, value) {
  const key = "_v_" + name;
  if (el[key] !== value) {
    el[key] = value;
    el.setAttribute(name, value);
  }
}

function text(el, value) {
  if (el._text !== value) {
    el._text = value;
    el.textContent = value;
  }
}

function toggle(el, cls, on) {
  const key = "_c_" + cls;
  if (el[key] !== on) {
    el[key] = on;
    el.classList.toggle(cls, on);
  }
}

const isNum = (v) => typeof v === "number" && Number.isFinite(v);

function maxAbs(arr, acc = 0) {
  if (!arr) return acc;
  for (const v of arr) {
    if (Array.isArray(v)) acc = maxAbs(v, acc);
    else if (isNum(v) && Math.abs(v) > acc) acc = Math.abs(v);
  }
  return acc;
}

// A layer sent as all-null means "not computed yet" (the page shows the weights
// instead); a single null among numbers is a real non-finite value (shown as NaN).
function hasFinite(arr) {
  if (!arr) return false;
  for (const v of arr) {
    if (Array.isArray(v) ? hasFinite(v) : isNum(v)) return true;
  }
  return false;
}

function argmax(arr) {
  let best = -1;
  let bv = -Infinity;
  arr?.forEach((v, k) => {
    if (isNum(v) && v > bv) { bv = v; best = k; }
  });
  return best;
}

const r1 = (v) => Math.round(v * 10) / 10;

// ---------------------------------------------------------------------------
// Layout: where every column, node and the input image go.

// labels = {left, right}: room (px) the input and output labels need.
function layoutNetwork(sizes, width, height, labels) {
  const L = sizes.length;
  const imageMode = sizes[0] > IMAGE_INPUTS;
  const imgSize = imageMode ? Math.min(120, Math.round(height * 0.3)) : 0;
  const narrow = width < 520;
  const right = Math.max(narrow ? 60 : 80, labels.right + MAX_NODE / 2 + 12);
  const left = imageMode ? 12 + imgSize / 2 : Math.max(narrow ? 40 : 50, labels.left + MAX_NODE / 2 + 12);
  const colGap = (width - left - right) / Math.max(1, L - 1);
  const top = PAD.top;
  const avail = height - PAD.top - PAD.bottom;
  const cols = sizes.map((n, l) => ({ l, n, x: left + l * colGap, pitch: avail / n, sub: 1 }));

  // One node size for the whole diagram (the smallest any column needs), so that
  // size never suggests meaning. Crowded columns are staggered into 2–3 sub-columns.
  let s = MAX_NODE;
  for (const c of cols) {
    if (c.l === 0 && imageMode) continue;
    let cs = Math.min(c.pitch * 0.72, colGap * 0.55);
    for (let k = 2; k <= 3 && c.pitch * 0.72 < 24 && c.n > 8; k++) {
      const sk = Math.min(c.pitch * k * 0.72, (colGap * 0.6 - 6 * (k - 1)) / k);
      if (sk > cs + 2) { cs = sk; c.sub = k; }
    }
    s = Math.min(s, cs);
  }
  s = Math.max(MIN_NODE, Math.floor(s));
  for (const c of cols) {
    c.halfWidth = (c.sub - 1) / 2 * (s + 6) + s / 2;
    c.nodes = [];
    if (c.l === 0 && imageMode) continue;
    for (let k = 0; k < c.n; k++) {
      const off = ((k % c.sub) - (c.sub - 1) / 2) * (s + 6);
      c.nodes.push({ x: c.x + off, y: top + c.pitch * (k + 0.5) });
    }
  }
  const image = imageMode
    ? { x: cols[0].x - imgSize / 2, y: top + (avail - imgSize) / 2, size: imgSize }
    : null;
  if (imageMode) cols[0].halfWidth = imgSize / 2;
  return { L, s, cols, top, avail, width, height, colGap, imageMode, image };
}

function edgePath(x0, y0, x1, y1) {
  const c = (x1 - x0) * 0.5;
  return `M${r1(x0)},${r1(y0)}C${r1(x0 + c)},${r1(y0)} ${r1(x1 - c)},${r1(y1)} ${r1(x1)},${r1(y1)}`;
}

// ---------------------------------------------------------------------------

export class NetworkDiagram {
  constructor(container, opts = {}) {
    this.container = container;
    this.opts = opts;
    this.height = opts.height || 420;
    this.mode = "phase";
    this.extra = null; // layer highlighted by highlight(l)
    this.f = null; // latest merged frame
    this.builtKey = null;
    this.hover = null;
    this.lastCursor = null;
    this.animToggle = false;
    this.luts = new Map();
    this.imageData = new Map();
    this.raf = 0;
    this.stats = { renders: 0, draws: 0, builds: 0, drawMs: 0 };
    this.heavyAt = -Infinity; // when heatmaps and edges were last refreshed
    this.heavyTimer = 0;
    this.sheetDirty = true;   // the sheet must be drawn again from the units' canvases
    this.units = [];          // every unit canvas (and the input image's), for the sheet
    this.reducedMotion = window.matchMedia?.("(prefers-reduced-motion: reduce)");

    this._frameCb = () => { this.raf = 0; this._draw(); };
    this._makeShell();
    this._bindEvents();
  }

  // --- public API -----------------------------------------------------------

  /** Store the latest frame and schedule one draw. Cheap; call as often as you like. */
  render(frame) {
    if (!frame || typeof frame !== "object") return;
    this.stats.renders++;
    // A frame is the latest state; keys it leaves out did not change (big arrays are
    // sent only when they changed), unless the network itself was rebuilt.
    const rebuilt = !this.f ||
      (frame.structure !== undefined && frame.structure !== this.f.structure) ||
      (Array.isArray(frame.sizes) && String(frame.sizes) !== String(this.f.sizes));
    this.f = rebuilt ? { ...frame } : Object.assign({ ...this.f }, frame);
    this._schedule();
  }

  /** "phase": animate each phase (slow motion). "fast": instant updates, no waves. */
  setMode(mode) {
    this.mode = mode === "fast" ? "fast" : "phase";
    toggle(this.root, "nd-fast", this.mode === "fast");
    this._schedule();
  }

  /** Extra highlight of layer l (e.g. for a guided stepper); null clears it. */
  highlight(l) {
    this.extra = Number.isInteger(l) ? l : null;
    this._schedule();
  }

  destroy() {
    if (this.raf) cancelAnimationFrame(this.raf);
    this.raf = 0;
    clearTimeout(this.heavyTimer);
    this.heavyTimer = 0;
    this.resizeObserver?.disconnect();
    this.root.remove();
    this.f = null;
  }

  // --- scheduling -------------------------------------------------------------

  _schedule() {
    if (!this.raf) this.raf = requestAnimationFrame(this._frameCb);
  }

  _reduced() {
    return !!this.reducedMotion?.matches;
  }

  // --- the fixed shell: caption, stage, legend ------------------------------

  _makeShell() {
    const root = htmlEl("div", "nd-root", null);
    this.root = root;
    const cap = htmlEl("div", "nd-caption", root);
    this.captionMain = htmlEl("span", "nd-caption-main", cap);
    this.captionNote = htmlEl("span", "nd-caption-note", cap);
    const stage = htmlEl("div", "nd-stage", root);
    stage.style.height = this.height + "px";
    this.stage = stage;
    this.back = svgEl("svg", { class: "nd-back", "aria-hidden": "true" }, stage);
    this.canvasLayer = htmlEl("div", "nd-canvases", stage);
    this.front = svgEl("svg", { class: "nd-front", role: "group", "aria-label": "network diagram" }, stage);
    this.overlay = htmlEl("div", "nd-overlay", stage);
    this.overlay.setAttribute("role", "alert");
    this.overlay.hidden = true;
    this.tip = htmlEl("div", "diagram-tooltip", stage);
    this.tip.setAttribute("role", "tooltip");
    this.tip.id = "nd-tip-" + Math.random().toString(36).slice(2, 8);
    this.tip.hidden = true;
    this.tipTitle = htmlEl("div", "nd-tip-title", this.tip);
    this.tipBody = htmlEl("table", "nd-tip-rows", this.tip);
    this.tipHint = htmlEl("div", "nd-tip-hint", this.tip);
    this._makeLegend(root);
    this.container.appendChild(root);
  }

  _makeLegend(root) {
    const lg = htmlEl("div", "nd-legend", root);
    const bar = (label, scale) => {
      const item = htmlEl("span", "nd-legend-item", lg);
      htmlEl("span", "nd-legend-label", item).textContent = label;
      htmlEl("span", "nd-legend-end", item).textContent = MINUS;
      htmlEl("span", "nd-legend-bar", item).style.background = scale.gradient;
      htmlEl("span", "nd-legend-end", item).textContent = "+";
    };
    bar("activation / weight:", WEIGHT_SCALE);
    bar("δ / gradient:", GRAD_SCALE);
    const nan = htmlEl("span", "nd-legend-item", lg);
    htmlEl("span", "nd-legend-nan", nan);
    htmlEl("span", "nd-legend-label", nan).textContent = "NaN";
    const w = htmlEl("span", "nd-legend-item nd-legend-width", lg);
    w.textContent = "edge width ∝ |w|";
    this.legendScale = w;
  }

  // --- building the DOM for one network shape --------------------------------

  _key(f) {
    const w = Math.round(this.stage.clientWidth || 0);
    return [f.structure, f.sizes.join("-"), f.activation, f.output,
      (f.feature_names || []).join(","), w].join("|");
  }

  _build(f) {
    this.stats.builds++;
    this.builtKey = this._key(f);
    this.hover = null;
    this.tip.hidden = true;
    this.lastCursor = null;
    this.image = null; // set again by _buildImage when the input is drawn as an image
    for (const el of [this.back, this.front]) el.replaceChildren();
    this.canvasLayer.replaceChildren();
    this.units = [];

    const width = Math.max(300, this.stage.clientWidth || 640);
    const lay = layoutNetwork(f.sizes, width, this.height, this._labelRoom(f));
    this.lay = lay;
    this._buildSheet(width, this.height);
    for (const el of [this.back, this.front]) {
      el.setAttribute("width", width);
      el.setAttribute("height", this.height);
      el.setAttribute("viewBox", `0 0 ${width} ${this.height}`);
    }
    this._buildBands(lay);
    this.halo = svgEl("path", { class: "nd-halo", d: "M0,0" }, this.back);
    this.halo.hidden = true;
    this._buildEdges(lay);
    this.focusNode = null; // the one unit reachable with Tab (arrow keys do the rest)
    this._buildColumns(f, lay);
  }

  // Rough text widths (12.5px font) so that labels never fall off the edges.
  _labelRoom(f) {
    const n0 = f.sizes[0] > IMAGE_INPUTS ? 0 : f.sizes[0];
    const names = Array.from({ length: n0 }, (_, j) => featureLabel(f.feature_names?.[j], j));
    const left = Math.max(0, ...names.map((n) => n.length * 7.5));
    const right = f.sizes[f.sizes.length - 1] > 1 ? 150 : 80;
    return { left, right };
  }

  _buildBands(lay) {
    this.bands = lay.cols.map((c) => {
      const w = Math.min(lay.colGap * 0.92, 2 * c.halfWidth + 26);
      return svgEl("rect", {
        class: "nd-band", x: r1(c.x - w / 2), y: 4, width: r1(w),
        height: this.height - 8, rx: 10, "data-layer": c.l,
      }, this.back);
    });
  }

  // Per weight layer: the visible paths, the animation overlays (pathLength 100 so a
  // dash offset moves the same fraction of every curve) and wide invisible hit paths.
  _buildEdges(lay) {
    const groups = { vis: [], fx: [], hit: [] };
    for (let l = 0; l < lay.L - 1; l++) {
      groups.vis.push(svgEl("g", { class: "nd-edges", "data-layer": l }, this.back));
    }
    for (let l = 0; l < lay.L - 1; l++) {
      groups.fx.push(svgEl("g", { class: "nd-fx", "data-layer": l }, this.back));
    }
    for (let l = 0; l < lay.L - 1; l++) {
      groups.hit.push(svgEl("g", { class: "nd-hits", "data-layer": l }, this.back));
    }
    const s = lay.s;
    this.edges = [];
    for (let l = 0; l < lay.L - 1; l++) {
      const from = lay.cols[l];
      const to = lay.cols[l + 1];
      const bundle = l === 0 && lay.imageMode;
      const e = { l, bundle, nTo: to.n, nFrom: bundle ? 1 : from.n, vis: [], fx: [], hit: [] };
      for (let i = 0; i < to.n; i++) {
        for (let j = 0; j < e.nFrom; j++) {
          const b = to.nodes[i];
          let d;
          if (bundle) {
            const img = lay.image;
            d = edgePath(img.x + img.size, img.y + img.size * (i + 0.5) / to.n, b.x - s / 2, b.y);
          } else {
            const a = from.nodes[j];
            d = edgePath(a.x + s / 2, a.y, b.x - s / 2, b.y);
          }
          e.vis.push(svgEl("path", { class: "nd-edge", d, stroke: PENDING_FILL, "stroke-width": 1 }, groups.vis[l]));
          e.fx.push(svgEl("path", { d, pathLength: 100 }, groups.fx[l]));
          e.hit.push(svgEl("path", {
            class: "nd-hit", d, "data-kind": bundle ? "bundle" : "edge",
            "data-layer": l, "data-to": i, "data-from": bundle ? "all" : j,
          }, groups.hit[l]));
        }
      }
      // Dense layers get thinner edges, so a 25×10 layer is not a solid mat of ink.
      e.maxW = bundle ? 4 : Math.max(1.5, Math.min(6, 6 * Math.sqrt(64 / e.vis.length)));
      e.code = new Int16Array(e.vis.length).fill(-9);
      e.width = new Float32Array(e.vis.length);
      this.edges.push(e);
    }
    this.fxGroups = groups.fx;
  }

  _buildColumns(f, lay) {
    this.cols = [];
    this.nodes = [];
    lay.cols.forEach((c) => {
      const g = svgEl("g", { class: "nd-col", "data-layer": c.l }, this.front);
      this.cols.push(g);
      this._buildHeader(f, lay, c, g);
      if (c.l === 0 && lay.imageMode) {
        this._buildImage(f, lay, g);
        this.nodes.push([]);
        return;
      }
      this.nodes.push(c.nodes.map((p, i) => this._buildNode(f, lay, c, g, p, i)));
    });
  }

  // Column title a⁽ˡ⁾ and, below it, what the layer is. Narrow screens: the kind is
  // written once for the hidden layers and once for the output, so labels never collide.
  _buildHeader(f, lay, c, g) {
    const last = c.l === lay.L - 1;
    svgEl("text", { class: "nd-col-title", x: r1(c.x), y: 16, "text-anchor": "middle" }, g)
      .textContent = "a" + courseLayer(c.l);
    const crowded = lay.colGap < 70;
    let kind = c.l === 0 ? "input" : last ? `output · ${f.output || ""}` : f.activation || "";
    let anchor = "middle";
    let x = c.x;
    if (crowded) {
      if (c.l === 0 || (c.l > 1 && !last)) return;
      kind = last ? f.output || "" : `${kind} (hidden)`;
      anchor = last ? "end" : "start";
      x = last ? c.x + c.halfWidth : c.x - c.halfWidth;
    }
    svgEl("text", { class: "nd-col-kind", x: r1(x), y: 30, "text-anchor": anchor }, g).textContent = kind;
  }

  _buildNode(f, lay, c, g, p, i) {
    const s = lay.s;
    const l = c.l;
    const ng = svgEl("g", {
      class: "nd-node", "data-kind": "node", "data-layer": l, "data-unit": i,
      tabindex: -1, role: "button",
      "aria-label": `unit ${i + 1} of layer ${l + 1}`,
    }, g);
    const n = { l, i, x: p.x, y: p.y, g: ng };
    // Neutral until the first finite values arrive (e.g. a session that starts diverged).
    n.box = svgEl("rect", {
      class: "nd-box", x: r1(p.x - s / 2), y: r1(p.y - s / 2), width: s, height: s,
      rx: Math.round(s / 8), fill: PENDING_FILL,
    }, ng);
    if (l > 0) {
      n.ring = svgEl("rect", {
        class: "nd-ring", x: r1(p.x - s / 2 - 4), y: r1(p.y - s / 2 - 4),
        width: s + 8, height: s + 8, rx: Math.round(s / 8) + 4,
      }, ng);
      n.ring.classList.add("off");
      const b = Math.max(4, Math.min(8, s * 0.2));
      const bx = p.x - s / 2;
      const by = p.y + s / 2;
      n.bias = svgEl("path", {
        class: "nd-bias", fill: PENDING_FILL, d: `M${r1(bx)},${r1(by - b)}L${r1(bx + b)},${r1(by)}L${r1(bx)},${r1(by + b)}L${r1(bx - b)},${r1(by)}Z`,
      }, ng);
    }
    n.badge = svgEl("circle", {
      class: "nd-badge off", cx: r1(p.x + s / 2), cy: r1(p.y - s / 2), r: r1(Math.max(3.5, Math.min(6, s * 0.15))),
    }, ng);
    if (l === 0) {
      n.label = svgEl("text", { class: "nd-label", x: r1(p.x - s / 2 - 8), y: r1(p.y + 4), "text-anchor": "end" }, ng);
      n.label.textContent = featureLabel(f.feature_names?.[i], i);
    } else if (l === lay.L - 1) {
      n.label = svgEl("text", { class: "nd-label nd-out-label", x: r1(p.x + s / 2 + 10), y: r1(p.y + 4) }, ng);
      if (c.n > 1) n.label.textContent = String(i);
      else n.label2 = svgEl("text", { class: "nd-label nd-target", x: r1(p.x + s / 2 + 10), y: r1(p.y + 19) }, ng);
    }
    n.canvas = this._canvasAt(p.x - s / 2, p.y - s / 2, s, lay.imageMode && l === 1);
    if (!this.focusNode) {
      this.focusNode = n;
      ng.setAttribute("tabindex", 0);
    }
    return n;
  }

  _canvasAt(x, y, size, pixelated) {
    const cv = htmlEl("canvas", pixelated ? "nd-heat nd-pixels" : "nd-heat", this.canvasLayer);
    cv.width = 1;
    cv.height = 1;
    cv.hidden = true;
    Object.assign(cv.style, { left: r1(x) + "px", top: r1(y) + "px", width: size + "px", height: size + "px" });
    cv._ctx = cv.getContext("2d");
    cv._box = { x: r1(x), y: r1(y), size, pixelated, radius: pixelated ? 2 : 4 }; // as diagram.css draws it
    this.units.push(cv);
    return cv;
  }

  // The sheet: one canvas over the whole stage, under the units' canvases.
  _buildSheet(width, height) {
    const dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
    const sheet = htmlEl("canvas", "nd-sheet", this.canvasLayer);
    sheet.setAttribute("aria-hidden", "true");
    sheet.width = Math.round(width * dpr);
    sheet.height = Math.round(height * dpr);
    sheet.style.width = width + "px";
    sheet.style.height = height + "px";
    sheet._ctx = sheet.getContext("2d");
    sheet._dpr = dpr;
    this.sheet = sheet;
    this.sheetDirty = true;
  }

  // Fast mode: copy every shown unit canvas onto the sheet (scaled, rounded corners,
  // faded while pending), as the units' own canvases would look.
  _drawSheet() {
    const sheet = this.sheet;
    if (!sheet || this.mode !== "fast" || !this.sheetDirty) return;
    this.sheetDirty = false;
    const ctx = sheet._ctx;
    ctx.setTransform(sheet._dpr, 0, 0, sheet._dpr, 0, 0);
    ctx.clearRect(0, 0, sheet.width, sheet.height);
    for (const cv of this.units) {
      if (cv.hidden || cv.width < 1) continue;
      const b = cv._box;
      ctx.save();
      ctx.globalAlpha = cv._c_pending ? 0.3 : 1;
      ctx.imageSmoothingEnabled = !b.pixelated;
      ctx.beginPath();
      if (ctx.roundRect) ctx.roundRect(b.x, b.y, b.size, b.size, b.radius);
      else ctx.rect(b.x, b.y, b.size, b.size);
      ctx.clip();
      ctx.drawImage(cv, b.x, b.y, b.size, b.size);
      ctx.restore();
    }
  }

  // Many inputs (digits): the focus example drawn as one greyscale image.
  _buildImage(f, lay, g) {
    const img = lay.image;
    const n0 = f.sizes[0];
    const side = Math.ceil(Math.sqrt(n0));
    const ig = svgEl("g", {
      class: "nd-node nd-image", "data-kind": "image", "data-layer": 0, "data-unit": "all",
      tabindex: 0, role: "img", "aria-label": "input example as an image",
    }, g);
    svgEl("rect", { class: "nd-box", x: r1(img.x), y: r1(img.y), width: img.size, height: img.size, rx: 3, fill: "none" }, ig);
    const lab = svgEl("text", { class: "nd-label", x: r1(img.x + img.size / 2), y: r1(img.y + img.size + 16), "text-anchor": "middle" }, ig);
    lab.textContent = `x: ${side}×${Math.ceil(n0 / side)} pixels`;
    this.image = { g: ig, side, rows: Math.ceil(n0 / side), n: n0 };
    this.image.canvas = this._canvasAt(img.x, img.y, img.size, true);
    this.focusNode = { g: ig };
  }

  // --- drawing -----------------------------------------------------------------

  _draw() {
    const f = this.f;
    if (!f || !Array.isArray(f.sizes) || f.sizes.length < 2) return;
    const t0 = performance.now();
    this.stats.draws++;
    const built = this._key(f) !== this.builtKey;
    if (built) this._build(f);
    this._drawCaption(f);
    const diverged = f.status === "diverged";
    this._drawDiverged(f, diverged);
    // Diverged: keep the last good picture (dimmed) under the message; never draw NaN.
    if (!diverged) {
      if (this._heavyDue(built)) {
        this._drawImages(f);
        this._drawNodes(f);
        this._drawEdges(f);
        this._drawSheet();
      }
      this._drawHighlight(f);
      this._animate(f);
    }
    if (this.hover) this._drawTooltip();
    this.stats.drawMs += performance.now() - t0;
  }

  _drawDiverged(f, diverged) {
    this.overlay.hidden = !diverged;
    toggle(this.stage, "nd-diverged", diverged);
    if (diverged) {
      text(this.overlay, f.message || "Training diverged: a value became NaN or infinite. " +
        "Lower the learning rate and reset.");
    }
  }

  _caption(f) {
    const L = f.sizes.length;
    const cur = f.cursor || {};
    const l = cur.layer;
    const showPhase = cur.phase && cur.phase !== "idle" && (this.mode === "phase" || f.status === "paused");
    if (f.status === "diverged") return `Training diverged — step ${fmtInt(f.step)}`;
    if (showPhase) {
      switch (cur.phase) {
        case "forward":
          return l === 0 ? "Forward propagation — input a⁽¹⁾ = x"
            : `Forward propagation — layer ${l + 1} of ${L}: a${courseLayer(l)} = g(z${courseLayer(l)})`;
        case "cost":
          return `Cost J = ${fmt(f.loss?.train)}`;
        case "backward":
          if (isNum(cur.example)) {
            return `Backpropagation — example ${fmtInt(cur.example)} of ${fmtInt(cur.of)}: Δ += δ·aᵀ`;
          }
          return l === L - 1 ? `Backpropagation — δ of layer ${l + 1}: δ${courseLayer(l)} = a${courseLayer(l)} ${MINUS} y`
            : `Backpropagation — δ of layer ${l + 1}: δ${courseLayer(l)} = (W${courseLayer(l)})ᵀδ${courseLayer(l + 1)} ⊙ g′(z${courseLayer(l)})`;
        case "update":
          return `Gradient descent update — W ← W ${MINUS} α·∂J/∂W`;
        default:
      }
    }
    const verb = f.status === "paused" ? "Paused" : "Training";
    return `${verb} — step ${fmtInt(f.step ?? 0)} · epoch ${fmtEpoch(f.epoch ?? 0)}`;
  }

  _drawCaption(f) {
    text(this.captionMain, this._caption(f));
    let note = "";
    if (f.sizes.length === 2) {
      note = f.output === "linear" ? "no hidden layers: this is linear regression"
        : "no hidden layers: this is logistic regression";
    }
    text(this.captionNote, note);
  }

  // Colour domain of layer l: which value is white and which is full colour.
  // Sigmoid/softmax outputs are probabilities: 0.5 is white (undecided), like the
  // decision boundary chart. Otherwise 0 is white; the range sets full colour.
  _domain(f, l, r) {
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
  _lut(range, dom) {
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

  _imgData(w, h) {
    const key = w + "x" + h;
    let img = this.imageData.get(key);
    if (!img) { img = new ImageData(w, h); this.imageData.set(key, img); }
    return img;
  }

  // Phase mode (and the first draw of a new shape) draws everything. Fast mode refreshes
  // the values at most every FAST_HEAVY_MS, and makes sure the last frame gets them too
  // (a trailing draw, in case no other frame comes).
  _heavyDue(built) {
    const now = performance.now();
    const modeChanged = this.heavyMode !== this.mode;
    this.heavyMode = this.mode;
    if (modeChanged) this.sheetDirty = true; // the sheet was not kept up in phase mode
    if (built || modeChanged || this.mode !== "fast" || now - this.heavyAt >= FAST_HEAVY_MS) {
      this.heavyAt = now;
      return true;
    }
    if (!this.heavyTimer) {
      this.heavyTimer = setTimeout(() => {
        this.heavyTimer = 0;
        this._schedule();
      }, Math.max(0, FAST_HEAVY_MS - (now - this.heavyAt)) + 1);
    }
    return false;
  }

  _drawNodes(f) {
    const L = f.sizes.length;
    const focus = f.focus || {};
    const deltaScale = Math.max(maxAbs(focus.delta), 1e-12);
    const paramScale = this._paramScale(f);
    const hm = f.heatmaps;
    for (let l = 0; l < L; l++) {
      const nodes = this.nodes[l];
      if (!nodes.length) continue;
      const range = hm?.range?.[l];
      const perUnit = Array.isArray(range?.[0]); // also accept one [lo, hi] per unit
      const a = focus.a?.[l];
      const d = l > 0 ? focus.delta?.[l] : null;
      const b = l > 0 ? f.biases?.[l - 1] : null;
      const col = this.cols[l];
      toggle(col, "pending", !a);
      const weightImages = this.image && l === 1; // digits: canvases show weights
      for (const n of nodes) {
        const r = perUnit ? range[n.i] : range;
        const ok = r && isNum(r[0]) && isNum(r[1]);
        const dom = this._domain(f, l, ok ? r : null);
        const lut = ok ? this._lut(r, dom) : null;
        const v = a ? a[n.i] : null;
        const k = !a ? -2 : isNum(v) ? scaleIndex((v - dom.centre) / dom.half) : -1; // −2: not computed yet
        const heat = weightImages ? !n.canvas.hidden
          : this._drawHeat(n.canvas, lut ? hm.layers?.[l]?.[n.i] : null, lut, hm?.res);
        if (n.canvas._c_pending !== !a) this.sheetDirty = true;
        toggle(n.canvas, "pending", !a);
        this._paintNode(n, k, heat);
        if (n.ring) this._paintRing(n, d, deltaScale);
        if (n.bias) this._paintBias(n, b, paramScale);
      }
      if (l === L - 1) this._drawOutputLabels(f, nodes);
    }
  }

  _paintNode(n, k, heat) {
    const fill = heat ? "none" : k >= 0 ? WEIGHT_SCALE.css[k] : k === -1 ? NAN_FILL : PENDING_FILL;
    attr(n.box, "fill", fill);
    toggle(n.g, "nan", k === -1 && !heat);
    attr(n.badge, "fill", k >= 0 ? WEIGHT_SCALE.css[k] : NAN_FILL);
    toggle(n.badge, "nan", k === -1);
    toggle(n.badge, "off", k === -2);
  }

  _paintRing(n, d, scale) {
    if (!d) { toggle(n.ring, "off", true); return; }
    // Square-root mapping: δ shrinks layer by layer, yet every ring should stay visible
    // (the sign and the order of magnitudes are kept; the tooltip has the number).
    const v = d[n.i];
    const k = isNum(v) ? scaleIndex(Math.sign(v) * Math.sqrt(Math.abs(v) / scale)) : -1;
    toggle(n.ring, "off", false);
    toggle(n.ring, "nan", k < 0);
    attr(n.ring, "stroke", k < 0 ? NAN_GREY : GRAD_SCALE.css[k]);
  }

  _paintBias(n, b, scale) {
    const k = b && isNum(b[n.i]) ? scaleIndex(b[n.i] / scale) : -1;
    attr(n.bias, "fill", k < 0 ? NAN_FILL : WEIGHT_SCALE.css[k]);
    toggle(n.bias, "nan", k < 0);
  }

  _drawOutputLabels(f, nodes) {
    const a = f.focus?.a?.[f.sizes.length - 1];
    const y = f.focus?.y;
    if (nodes.length === 1) {
      const n = nodes[0];
      text(n.label, "ŷ = " + (a ? fmt(a[0]) : "…"));
      text(n.label2, y && y.length === 1 ? "y = " + fmt(y[0]) : "");
      return;
    }
    const pred = a ? argmax(a) : -1;
    const truth = y ? argmax(y) : -1;
    for (const n of nodes) {
      let s = String(n.i);
      if (n.i === pred) s += n.i === truth ? " ◂ predicted = label" : " ◂ predicted";
      else if (n.i === truth) s += " ◂ label";
      text(n.label, s);
      toggle(n.label, "predicted", n.i === pred);
    }
  }

  // Decode one base64 uint8 heatmap into the unit's canvas through the layer's LUT.
  _drawHeat(cv, str, lut, res) {
    if (!str || !lut || !res) {
      if (!cv.hidden) { cv.hidden = true; this.sheetDirty = true; }
      cv._str = null;
      return false;
    }
    if (cv._str === str && cv._lut === lut) {
      if (cv.hidden) { cv.hidden = false; this.sheetDirty = true; }
      return true;
    }
    this.sheetDirty = true;
    let bin;
    try {
      bin = atob(str);
    } catch {
      bin = "";
    }
    if (bin.length < res * res) {
      cv.hidden = true;
      return false;
    }
    if (cv.width !== res) { cv.width = res; cv.height = res; }
    const img = this._imgData(res, res);
    const px = img.data;
    for (let r = 0; r < res; r++) {
      const src = (res - 1 - r) * res; // grid row 0 is the lowest x₂: flip to screen rows
      let o = r * res * 4;
      for (let c = 0; c < res; c++, o += 4) {
        const q = bin.charCodeAt(src + c) * 4;
        px[o] = lut[q]; px[o + 1] = lut[q + 1]; px[o + 2] = lut[q + 2]; px[o + 3] = 255;
      }
    }
    cv._ctx.putImageData(img, 0, 0);
    cv._str = str;
    cv._lut = lut;
    if (cv.hidden) cv.hidden = false;
    return true;
  }

  // Digits: the input image (greyscale ink) and each first-layer unit's 64 weights.
  _drawImages(f) {
    if (!this.image) return;
    const im = this.image;
    const x = f.focus?.x;
    if (x && x !== im.x) {
      im.x = x;
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of x) if (isNum(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      const span = hi > lo ? hi - lo : 1;
      this._paintGrid(im.canvas, x, (v, px, o) => {
        const g = isNum(v) ? 255 - Math.round((v - lo) / span * 235) : 200;
        px[o] = g; px[o + 1] = g; px[o + 2] = g;
      });
    }
    const W0 = f.weights?.[0];
    if (!W0 || W0 === im.w0) return;
    im.w0 = W0;
    const scale = Math.max(maxAbs(W0), 1e-12);
    const rgba = WEIGHT_SCALE.rgba;
    this.nodes[1]?.forEach((n) => {
      this._paintGrid(n.canvas, W0[n.i], (v, px, o) => {
        const k = scaleIndex(v / scale);
        if (k < 0) { px[o] = px[o + 1] = px[o + 2] = 200; return; }
        px[o] = rgba[k * 4]; px[o + 1] = rgba[k * 4 + 1]; px[o + 2] = rgba[k * 4 + 2];
      });
    });
  }

  _paintGrid(cv, values, paint) {
    if (!values) return;
    const im = this.image;
    if (cv.width !== im.side) { cv.width = im.side; cv.height = im.rows; }
    const img = this._imgData(im.side, im.rows);
    const px = img.data;
    px.fill(255);
    for (let j = 0; j < im.n; j++) paint(values[j], px, j * 4);
    cv._ctx.putImageData(img, 0, 0);
    cv.hidden = false;
    this.sheetDirty = true;
  }

  // One scale for all parameters (weights and biases), so equal colours mean equal values.
  // (f is this diagram's own merged copy of the frame, so caching on it is safe.)
  _paramScale(f) {
    if (f._paramScale === undefined) f._paramScale = Math.max(maxAbs(f.biases, maxAbs(f.weights)), 1e-12);
    return f._paramScale;
  }

  _drawEdges(f) {
    const backward = f.cursor?.phase === "backward";
    const G = backward ? f.grads?.W : null;
    const wScale = this._paramScale(f);
    const gScale = Math.max(maxAbs(G), 1e-12);
    text(this.legendScale, `edge width ∝ |w| (max ${fmt(maxAbs(f.weights))})`);
    this.edges.forEach((e, l) => {
      // While δ flows back, edges whose ∂J/∂W is known show the gradient instead.
      const useG = hasFinite(G?.[l]);
      const M = useG ? G[l] : f.weights?.[l];
      if (!M) return;
      if (e.bundle) this._drawBundle(e, M, useG);
      else this._drawEdgeLayer(e, M, useG ? gScale : wScale, useG);
    });
  }

  _drawEdgeLayer(e, M, scale, useG) {
    const css = useG ? GRAD_SCALE.css : WEIGHT_SCALE.css;
    let idx = 0;
    for (let i = 0; i < e.nTo; i++) {
      const row = M[i];
      for (let j = 0; j < e.nFrom; j++, idx++) {
        const v = row ? row[j] : null;
        this._paintEdge(e, idx, isNum(v) ? v / scale : null, css, useG);
      }
    }
  }

  // Digits: one edge per first-layer unit, coloured by the mean of its 64 incoming
  // weights (relative to the largest mean) and as wide as their RMS.
  _drawBundle(e, M, useG) {
    const css = useG ? GRAD_SCALE.css : WEIGHT_SCALE.css;
    const means = M.map((row) => (row ? row.reduce((s, v) => s + v, 0) / row.length : null));
    const scale = Math.max(maxAbs(means), 1e-12);
    const rms = M.map((row) => (row ? Math.sqrt(row.reduce((s, v) => s + v * v, 0) / row.length) : 0));
    const rScale = Math.max(maxAbs(rms), 1e-12);
    for (let i = 0; i < e.nTo; i++) {
      const m = means[i];
      this._paintEdge(e, i, isNum(m) ? m / scale : null, css, useG, isNum(rms[i]) ? rms[i] / rScale : null);
    }
  }

  _paintEdge(e, idx, t, css, useG, widthT = t) {
    const k = scaleIndex(t);
    const code = k < 0 ? -1 : k + (useG ? 256 : 0);
    const el = e.vis[idx];
    if (e.code[idx] !== code) {
      e.code[idx] = code;
      el.setAttribute("stroke", k < 0 ? NAN_GREY : css[k]);
      toggle(el, "nan", k < 0);
    }
    const w = k < 0 ? 1 : Math.round((0.5 + (e.maxW - 0.5) * Math.min(1, Math.abs(widthT))) * 4) / 4;
    if (e.width[idx] !== w) {
      e.width[idx] = w;
      el.setAttribute("stroke-width", w);
    }
  }

  _activeLayer(f) {
    const cur = f.cursor;
    if (!cur || !cur.phase || cur.phase === "idle" || cur.phase === "update") return null;
    if (cur.phase === "cost") return f.sizes.length - 1;
    return Number.isInteger(cur.layer) ? cur.layer : null;
  }

  _drawHighlight(f) {
    const active = this._activeLayer(f);
    this.cols.forEach((g, l) => {
      toggle(g, "active-layer", l === active);
      toggle(g, "highlighted-layer", l === this.extra);
      toggle(this.bands[l], "on", l === active);
      toggle(this.bands[l], "guided", l === this.extra);
    });
    toggle(this.root, "nd-backward", f.cursor?.phase === "backward");
  }

  // --- phase animation ------------------------------------------------------------

  _animate(f) {
    const cur = f.cursor || {};
    const key = `${cur.phase}:${cur.layer}:${f.step}`;
    if (key === this.lastCursor) return;
    this.lastCursor = key;
    if (this.mode !== "phase" || this._reduced()) return;
    const L = f.sizes.length;
    const l = cur.layer;
    if (cur.phase === "forward" && l >= 1) this._fx(l - 1, "fwd");
    else if (cur.phase === "backward" && l >= 0 && l < L - 1) this._fx(l, "bwd");
    else if (cur.phase === "backward" && l === L - 1) this._pulse(L - 1);
    else if (cur.phase === "cost") this._pulse(L - 1);
    else if (cur.phase === "update") this._flash(f);
  }

  // Alternate between two identical keyframe sets so that re-adding the class restarts
  // the animation without forcing a layout.
  _animClass(name) {
    this.animToggle = !this.animToggle;
    return name + (this.animToggle ? "-a" : "-b");
  }

  _fx(l, name) {
    const g = this.fxGroups[l];
    if (g) g.setAttribute("class", "nd-fx " + this._animClass(name));
  }

  _pulse(l) {
    const cls = this._animClass("pulse");
    this.cols[l].classList.remove("pulse-a", "pulse-b");
    this.cols[l].classList.add(cls);
    for (const n of this.nodes[l]) {
      n.canvas.classList.remove("pulse-a", "pulse-b");
      n.canvas.classList.add(cls);
    }
  }

  // Update: each edge flashes, as wide as the change ΔW it just received.
  _flash(f) {
    const U = f.update?.W;
    const scale = Math.max(maxAbs(U), 1e-12);
    const cls = this._animClass("flash");
    this.edges.forEach((e, l) => {
      const M = U?.[l];
      if (!M) return;
      e.fx.forEach((el, idx) => {
        const row = e.bundle ? M[idx] : M[Math.floor(idx / e.nFrom)];
        const v = e.bundle ? maxAbs(row) : row?.[idx % e.nFrom];
        el.setAttribute("stroke-width", isNum(v) ? r1(1 + 6 * Math.abs(v) / scale) : 0);
      });
      this.fxGroups[l].setAttribute("class", "nd-fx " + cls);
    });
  }

  // --- pointer and keyboard --------------------------------------------------------

  _bindEvents() {
    const st = this.stage;
    st.addEventListener("pointermove", (ev) => this._onPointer(ev));
    st.addEventListener("pointerleave", () => this._setHover(null));
    st.addEventListener("click", (ev) => this._onClick(ev));
    st.addEventListener("keydown", (ev) => this._onKey(ev));
    st.addEventListener("focusin", (ev) => this._onFocus(ev));
    st.addEventListener("focusout", () => this._setHover(null));
    this.resizeObserver = new ResizeObserver(() => {
      if (this.f && this._key(this.f) !== this.builtKey) this._schedule();
    });
    this.resizeObserver.observe(this.stage);
  }

  _targetOf(el, ev) {
    const t = el?.closest?.("[data-kind]");
    if (!t || !this.f) return null;
    const kind = t.dataset.kind;
    const l = Number(t.dataset.layer);
    if (kind === "node") return { kind, l, i: Number(t.dataset.unit) };
    if (kind === "edge") return { kind, l, i: Number(t.dataset.to), j: Number(t.dataset.from) };
    if (kind === "bundle") return { kind, l: 0, i: Number(t.dataset.to) };
    if (kind === "image") return { kind: "pixel", l: 0, i: this._pixelAt(ev) };
    return null;
  }

  _pixelAt(ev) {
    if (!ev || !this.lay?.image) return null;
    const img = this.lay.image;
    const rect = this.stage.getBoundingClientRect();
    const cx = Math.floor((ev.clientX - rect.left - img.x) / img.size * this.image.side);
    const cy = Math.floor((ev.clientY - rect.top - img.y) / img.size * this.image.rows);
    if (cx < 0 || cy < 0 || cx >= this.image.side || cy >= this.image.rows) return null;
    const j = cy * this.image.side + cx;
    return j < this.image.n ? j : null;
  }

  _onPointer(ev) {
    const t = this._targetOf(ev.target, ev);
    this._setHover(t);
    if (t) this._placeTip(ev.clientX, ev.clientY);
  }

  _onFocus(ev) {
    const t = this._targetOf(ev.target, null);
    this._setHover(t);
    const r = ev.target.getBoundingClientRect?.();
    if (t && r) this._placeTip(r.right, r.bottom);
  }

  _onClick(ev) {
    const t = this._targetOf(ev.target, ev);
    if (t) this._activate(t);
  }

  _activate(t) {
    const o = this.opts;
    if (t.kind === "edge") o.onEdgeClick?.(t.l, t.i, t.j, this.f.weights?.[t.l]?.[t.i]?.[t.j] ?? null);
    else if (t.kind === "node") o.onNodeClick?.(t.l, t.i);
    else if (t.kind === "bundle") o.onNodeClick?.(1, t.i);
    else if (t.kind === "pixel" && t.i !== null) o.onNodeClick?.(0, t.i);
  }

  // Arrow keys move between units (one tab stop for the whole diagram), Enter clicks.
  _onKey(ev) {
    let t = this._targetOf(ev.target, null);
    if (t?.kind === "pixel") t = { kind: "node", l: 0, i: 0 }; // the input image
    if (!t || t.kind !== "node") return;
    // Keys the diagram uses do not also reach page-wide shortcuts (e.g. → = step).
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      ev.stopPropagation();
      this._activate(t);
      return;
    }
    const moves = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };
    const mv = moves[ev.key];
    if (!mv) return;
    ev.preventDefault();
    ev.stopPropagation();
    const l = Math.max(0, Math.min(this.nodes.length - 1, t.l + mv[0]));
    const col = this.nodes[l];
    if (!col.length) return;
    const i = mv[0] ? Math.min(t.i, col.length - 1) : Math.max(0, Math.min(col.length - 1, t.i + mv[1]));
    const next = col[i].g;
    ev.target.setAttribute("tabindex", -1);
    next.setAttribute("tabindex", 0);
    next.focus();
  }

  _setHover(t) {
    const same = t && this.hover && t.kind === this.hover.kind && t.l === this.hover.l &&
      t.i === this.hover.i && t.j === this.hover.j;
    if (same) return;
    if (this.hoverEl) this.hoverEl.classList.remove("hover");
    this.hover = t;
    this.hoverEl = null;
    this.halo.hidden = true;
    if (!t) {
      this.tip.hidden = true;
      return;
    }
    if (t.kind === "node") {
      this.hoverEl = this.nodes[t.l]?.[t.i]?.g || null;
      this.hoverEl?.classList.add("hover");
      this.hoverEl?.setAttribute("aria-describedby", this.tip.id);
    }
    this._drawTooltip();
  }

  _placeTip(clientX, clientY) {
    const rect = this.stage.getBoundingClientRect();
    const tw = this.tip.offsetWidth || 180;
    const th = this.tip.offsetHeight || 80;
    let x = clientX - rect.left + 14;
    let y = clientY - rect.top + 14;
    if (x + tw > rect.width) x = Math.max(0, clientX - rect.left - tw - 14);
    if (y + th > rect.height) y = Math.max(0, clientY - rect.top - th - 14);
    this.tip.style.left = Math.round(x) + "px";
    this.tip.style.top = Math.round(y) + "px";
  }

  // --- tooltip -----------------------------------------------------------------------

  _drawTooltip() {
    const t = this.hover;
    if (!t || !this.f) return;
    const c = this._tipContent(this.f, t);
    if (!c) { this.tip.hidden = true; return; }
    text(this.tipTitle, c.title);
    text(this.tipHint, c.hint || "");
    const sig = c.rows.map((r) => r[0]).join("|");
    if (this.tipBody._sig !== sig) {
      this.tipBody._sig = sig;
      this.tipBody.replaceChildren(...c.rows.map(([label]) => {
        const tr = htmlEl("tr");
        htmlEl("th", null, tr).textContent = label;
        htmlEl("td", null, tr);
        return tr;
      }));
    }
    c.rows.forEach(([, v], k) => text(this.tipBody.rows[k].cells[1], v));
    this.tip.hidden = false;
    if (t.kind === "edge") this._showHalo(t);
  }

  _showHalo(t) {
    const e = this.edges[t.l];
    const idx = t.i * e.nFrom + t.j;
    const el = e?.vis[idx];
    if (!el) return;
    attr(this.halo, "d", el.getAttribute("d"));
    attr(this.halo, "stroke-width", e.width[idx] + 5);
    this.halo.hidden = false;
  }

  _tipContent(f, t) {
    if (t.kind === "node") return this._nodeTip(f, t.l, t.i);
    if (t.kind === "edge") return this._edgeTip(f, t.l, t.i, t.j);
    if (t.kind === "bundle") return this._bundleTip(f, t.i);
    if (t.kind === "pixel") return this._pixelTip(f, t.i);
    return null;
  }

  // A value for a person: "—" when the layer is not computed yet, "NaN" when non-finite.
  _val(layerArr, i) {
    if (!layerArr) return "— (not yet computed)";
    return fmt(layerArr[i]);
  }

  _nodeTip(f, l, i) {
    const L = f.sizes.length;
    const fo = f.focus || {};
    const u = sub(i + 1);
    if (l === 0) {
      const name = featureLabel(f.feature_names?.[i], i);
      return { title: `Input ${name} — a${courseLayer(0)}${u}`, rows: [["a = x", this._val(fo.a?.[0] || fo.x, i)]] };
    }
    const rows = [
      [`z${courseLayer(l)}${u}`, this._val(fo.z?.[l], i)],
      [`a${courseLayer(l)}${u} = g(z)`, this._val(fo.a?.[l], i)],
      [`δ${courseLayer(l)}${u}`, this._val(fo.delta?.[l], i)],
      ["b (bias)", this._val(f.biases?.[l - 1], i)],
      ["∂J/∂b", this._val(f.grads?.b?.[l - 1], i)],
    ];
    if (l === L - 1 && fo.y) rows.push(["y (target)", this._val(fo.y, i)]);
    const what = l === L - 1 ? "Output unit" : "Hidden unit";
    return { title: `${what} ${i + 1} of layer ${l + 1}`, rows, hint: "δ = ∂J/∂z for the focus example" };
  }

  _edgeTip(f, l, i, j) {
    const g = (m) => m?.[l]?.[i];
    const from = l === 0 ? featureLabel(f.feature_names?.[j], j) : `a${courseLayer(l)}${sub(j + 1)}`;
    const w = g(f.weights);
    return {
      title: `Weight W${courseLayer(l)}${sub(i + 1)},${sub(j + 1)}: ${from} → z${courseLayer(l + 1)}${sub(i + 1)}`,
      rows: [
        ["w", w ? fmt(w[j]) : "NaN"],
        ["∂J/∂w", g(f.grads?.W) ? fmt(g(f.grads.W)[j]) : "—"],
        ["last ΔW", g(f.update?.W) ? fmt(g(f.update.W)[j]) : "—"],
      ],
      hint: this.opts.onEdgeClick ? "click to edit this weight" : "",
    };
  }

  _bundleTip(f, i) {
    const mean = (row) => (row ? row.reduce((s, v) => s + v, 0) / row.length : null);
    const n = f.sizes[0];
    return {
      title: `${n} weights into hidden unit ${i + 1} (layer 2)`,
      rows: [
        ["mean w", fmt(mean(f.weights?.[0]?.[i]))],
        ["max |w|", fmt(maxAbs(f.weights?.[0]?.[i], -Infinity))],
        ["mean ∂J/∂w", f.grads?.W?.[0] ? fmt(mean(f.grads.W[0][i])) : "—"],
        ["mean ΔW", f.update?.W?.[0] ? fmt(mean(f.update.W[0][i])) : "—"],
      ],
      hint: "the unit's square shows all its weights as an image",
    };
  }

  _pixelTip(f, j) {
    if (j === null || j === undefined) return null;
    const side = this.image.side;
    return {
      title: `Pixel row ${Math.floor(j / side) + 1}, column ${(j % side) + 1} — x${sub(j + 1)}`,
      rows: [["a = x", this._val(f.focus?.x, j)]],
    };
  }
}
