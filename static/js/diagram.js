// The network diagram: layers of units, edges coloured by weight, the focus example's
// activations, δ rings, per-unit heatmaps, and the animation of forward / backward /
// update. This module wires the pieces: the public API, the elements, the draw loop and
// the pointer. Geometry is in diagram-layout.js, colours and canvases in
// diagram-paint.js, motion in diagram-motion.js, words in diagram-notation.js.
//
// Performance model: render(frame) only stores the frame and schedules ONE
// requestAnimationFrame. The draw then updates attributes of DOM that already exists
// (and only the attributes whose value changed). The DOM is rebuilt only when the
// network's shape (frame.structure / frame.sizes) or the container size changes.
//
// Stacking inside the stage (bottom → top):
//   svg.nd-back     layer bands, hover halo, edges, animation overlays, marks, edge hit paths
//   div.nd-canvases one <canvas> per unit for heatmaps / weight images, and one sheet
//                   canvas the size of the stage: in fast mode (training) the units'
//                   canvases are not displayed and the sheet shows them all (one
//                   composited layer instead of one per unit); phase mode shows the
//                   units' own canvases, with their transitions and pulses
//   svg.nd-front    node outlines, δ rings, activation dots, biases, labels, unit marks
// The front svg ignores the pointer except on its nodes, so edges stay clickable.

import { fmt, featureLabel, courseLayer, WEIGHT_SCALE, GRAD_SCALE, scaleIndex, MINUS } from "./format.js";
import { svgEl, htmlEl, setAttr, setText, setClass, setHidden, isNum, maxAbs, hasFinite, argmax, r1 } from "./diagram-util.js";
import { layoutNetwork, edgePathOf, labelRoom, columnKind } from "./diagram-layout.js";
import {
  Painter, UnitCanvas, PENDING_FILL, paintNode, paintRing, paintBias, paintEdgeLayer, paintBundle,
  inkPainter, weightPainter,
} from "./diagram-paint.js";
import { Motion } from "./diagram-motion.js";
import { caption, captionNote, nanMessage, widthLegend, signalLegend, flashLegend, tipContent } from "./diagram-notation.js";

// While training fast, the values drawn (units, heatmaps, edges: hundreds of canvas
// uploads and SVG attribute writes, then style, layout, paint and raster) are refreshed
// at most this often (~20/s), and the caption with them. Phase mode draws every frame.
const FAST_HEAVY_MS = 50;
const BASE_FONT_PX = 14; // the page's text size at zoom 1 (app.css scales it on a projector)

const pageZoom = () => (parseFloat(getComputedStyle(document.documentElement).fontSize) || BASE_FONT_PX) / BASE_FONT_PX;

export class NetworkDiagram {
  constructor(container, opts = {}) {
    this.container = container;
    this.opts = opts;
    this.baseHeight = opts.height || 420;
    this.mode = "phase";
    this.extra = null; // layer highlighted by highlight(l)
    this.marks = null; // {edges: [[l, i, j]], nodes: [[l, i]]} from setMarks
    this.f = null; // latest merged frame
    this.builtKey = null;
    this.hover = null;
    this.tipSig = null;
    this.raf = 0;
    this.stats = { renders: 0, draws: 0, builds: 0, drawMs: 0 };
    this.heavyAt = -Infinity; // when heatmaps and edges were last refreshed
    this.heavyTimer = 0;
    this.units = [];          // every UnitCanvas (and the input image's), for the sheet
    this.painter = new Painter();
    this.scaleOf = { frame: null, value: 1 };
    this.nan = { units: 0, deltas: 0, edges: 0, biases: 0 };
    this.drawn = { rings: false, heat: false, gradLayers: [] };
    this.reducedMotion = window.matchMedia?.("(prefers-reduced-motion: reduce)");
    this.zoom = pageZoom();

    this._frameCb = () => { this.raf = 0; this._draw(); };
    this._makeShell();
    this.motion = new Motion(this.root);
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
    setClass(this.root, "nd-fast", this.mode === "fast");
    this._schedule();
  }

  /** Extra highlight of layer l (e.g. for a guided stepper); null clears it. */
  highlight(l) {
    this.extra = Number.isInteger(l) ? l : null;
    this._schedule();
  }

  /**
   * Outline some edges ([l, i, j]: weight layer l, to unit i, from unit j) and units
   * ([l, i]: layer l, unit i) in the highlight style; null clears them.
   */
  setMarks(marks) {
    const pairs = (a, n) => (Array.isArray(a) ? a.filter((p) => Array.isArray(p) && p.length >= n && p.slice(0, n).every(Number.isInteger)) : []);
    this.marks = marks ? { edges: pairs(marks.edges, 3), nodes: pairs(marks.nodes, 2) } : null;
    if (this.lay) this._buildMarks();
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
    this.nanNote = htmlEl("div", "nd-nan-note", root);
    this.nanNote.setAttribute("role", "status");
    this.nanNote.hidden = true;
    const stage = htmlEl("div", "nd-stage", root);
    this.stage = stage;
    this.back = svgEl("svg", { class: "nd-back", "aria-hidden": "true" }, stage);
    this.canvasLayer = htmlEl("div", "nd-canvases", stage);
    this.front = svgEl("svg", { class: "nd-front", role: "group", "aria-label": "network diagram" }, stage);
    this.overlay = htmlEl("div", "nd-overlay", stage);
    this.overlay.setAttribute("role", "alert");
    this.overlay.hidden = true;
    this.overlayText = htmlEl("div", "nd-overlay-text", this.overlay);
    this.overlayFacts = htmlEl("div", "nd-overlay-facts", this.overlay);
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

  // Each symbol the diagram draws has an entry; entries for what is not drawn are hidden.
  _makeLegend(root) {
    const lg = htmlEl("div", "nd-legend", root);
    this.legendBox = { el: lg, height: 0, build: -1 };
    const item = (cls) => htmlEl("span", "nd-legend-item " + cls, lg);
    const bar = (label, scale) => {
      const it = item("nd-legend-scale");
      htmlEl("span", "nd-legend-label", it).textContent = label;
      htmlEl("span", "nd-legend-end", it).textContent = MINUS;
      htmlEl("span", "nd-legend-bar", it).style.background = scale.gradient;
      htmlEl("span", "nd-legend-end", it).textContent = "+";
    };
    const glyph = (it, draw) => {
      const g = svgEl("svg", { class: "nd-legend-glyph", width: 16, height: 16, viewBox: "0 0 16 16", "aria-hidden": "true" }, it);
      draw(g);
      return it;
    };
    const labelled = (cls, draw, label) => {
      const it = glyph(item(cls), draw);
      const span = htmlEl("span", "nd-legend-text", it);
      span.textContent = label;
      return span;
    };
    bar("activation / weight:", WEIGHT_SCALE);
    bar("δ / gradient:", GRAD_SCALE);
    const mid = WEIGHT_SCALE.css[200];
    this.legend = {
      heat: labelled("nd-legend-heat", (g) => {
        svgEl("rect", { x: 2, y: 2, width: 6, height: 12, fill: WEIGHT_SCALE.css[50] }, g);
        svgEl("rect", { x: 8, y: 2, width: 6, height: 12, fill: WEIGHT_SCALE.css[215] }, g);
        svgEl("rect", { x: 2, y: 2, width: 12, height: 12, rx: 2, class: "nd-lg-box", fill: "none" }, g);
      },
        "square: the unit's a over the whole plane"),
      dot: labelled("nd-legend-dot", (g) => svgEl("circle", { cx: 8, cy: 8, r: 5, fill: mid, class: "nd-lg-dot" }, g),
        "dot: a of the focus example"),
      bias: labelled("nd-legend-bias", (g) => svgEl("path", { d: "M8,2L14,8L8,14L2,8Z", fill: mid, class: "nd-lg-bias" }, g),
        "diamond: bias b"),
      ring: labelled("nd-legend-ring", (g) => svgEl("rect", { x: 2, y: 2, width: 12, height: 12, rx: 3, fill: "none", stroke: GRAD_SCALE.css[40], class: "nd-lg-ring" }, g),
        "ring: δ = ∂J/∂z of the focus example"),
      width: labelled("nd-legend-width nd-legend-long", (g) => svgEl("path", { d: "M1,11C6,11 10,5 15,5", fill: "none", stroke: "#555", "stroke-width": 3 }, g), ""),
      signal: labelled("nd-legend-signal nd-legend-long", (g) => {
        svgEl("path", { d: "M1,11C6,11 10,5 15,5", fill: "none", stroke: "#ccc", "stroke-width": 1.5 }, g);
        svgEl("path", { d: "M6,10L10,6", fill: "none", stroke: "#111", "stroke-width": 4, "stroke-linecap": "round" }, g);
      }, ""),
      flash: labelled("nd-legend-flash nd-legend-long", (g) => svgEl("path", { d: "M1,11C6,11 10,5 15,5", fill: "none", stroke: "#111", "stroke-width": 4, opacity: 0.75 }, g), ""),
      marks: labelled("nd-legend-marks", (g) => svgEl("rect", { x: 2, y: 2, width: 12, height: 12, rx: 3, class: "nd-lg-mark" }, g),
        "dashed outline: marked by the panel you are using"),
      nan: labelled("nd-legend-nan-item", (g) => svgEl("rect", { x: 2, y: 3, width: 12, height: 10, class: "nd-legend-nanbox" }, g),
        "dashed grey: not a number (NaN)"),
    };
  }

  _drawLegend(f) {
    const lg = this.legend;
    const item = (span) => span.parentElement;
    setHidden(item(lg.heat), !this.drawn.heat && !this.image);
    setText(lg.heat, this.image ? "square (layer 2): the unit's incoming weights as an image"
      : "square: the unit's a over the whole plane");
    setHidden(item(lg.ring), !this.drawn.rings);
    setHidden(item(lg.bias), f.sizes.length < 2);
    setText(lg.width, widthLegend(f, this.drawn.gradLayers));
    const shown = this.motion.shown;
    const signal = shown?.kind === "fwd" || shown?.kind === "bwd";
    setHidden(item(lg.signal), !signal);
    setText(lg.signal, signal ? signalLegend(shown) : "");
    setHidden(item(lg.flash), shown?.kind !== "flash");
    setText(lg.flash, flashLegend(this.motion.flash));
    setHidden(item(lg.marks), !this.marks || (!this.marks.edges.length && !this.marks.nodes.length));
    const n = this.nan;
    setHidden(item(lg.nan), !(n.units || n.deltas || n.edges || n.biases));
    this._holdLegendHeight();
  }

  // Stepping through the phases, entries come and go: the legend keeps the tallest height
  // it has had for this network in phase mode, so the controls under the diagram do not
  // jump each phase.
  _holdLegendHeight() {
    const box = this.legendBox;
    const phase = this.mode === "phase";
    if (box.build !== this.stats.builds || (!phase && box.height)) {
      box.build = this.stats.builds;
      box.height = 0;
      box.el.style.minHeight = "";
    }
    if (!phase) return;
    const h = box.el.offsetHeight;
    if (h > box.height) {
      box.height = h;
      box.el.style.minHeight = h + "px";
    }
  }

  // --- building the DOM for one network shape --------------------------------

  _key(f) {
    const w = Math.round(this.stage.clientWidth || 0);
    return [f.structure, f.sizes.join("-"), f.activation, f.output,
      (f.feature_names || []).join(","), w, this.zoom].join("|");
  }

  _build(f) {
    this.stats.builds++;
    this.container.querySelector(".nd-ssr")?.remove(); // the server's first-paint picture (app/web/preview.py)
    this.builtKey = this._key(f);
    this.hover = null;
    this.tip.hidden = true;
    this.tipSig = null;
    this.motion.reset();
    this.image = null; // set again by _buildImage when the input is drawn as an image
    for (const el of [this.back, this.front]) el.replaceChildren();
    this.canvasLayer.replaceChildren();
    this.units = [];
    this.painter.dirty = true;

    const height = Math.round(this.baseHeight * this.zoom);
    this.stage.style.height = height + "px";
    const width = Math.max(300, this.stage.clientWidth || 640);
    const lay = layoutNetwork(f.sizes, width, height, labelRoom(f, this.zoom), this.zoom);
    this.lay = lay;
    setClass(this.root, "nd-crowded", lay.crowded);
    this._buildSheet(width, height);
    for (const el of [this.back, this.front]) {
      el.setAttribute("width", width);
      el.setAttribute("height", height);
      el.setAttribute("viewBox", `0 0 ${width} ${height}`);
    }
    this._buildBands(lay, height);
    this.halo = svgEl("path", { class: "nd-halo", d: "M0,0" }, this.back);
    this.halo.hidden = true;
    this._buildEdges(lay);
    this.focusNode = null; // the one unit reachable with Tab (arrow keys do the rest)
    this._buildColumns(f, lay);
    this.frontMarks = svgEl("g", { class: "nd-marks" }, this.front);
    this._buildMarks();
  }

  _buildBands(lay, height) {
    this.bands = lay.cols.map((c) => {
      const w = Math.min(lay.colGap * 0.92, 2 * c.halfWidth + 26);
      return svgEl("rect", {
        class: "nd-band", x: r1(c.x - w / 2), y: 4, width: r1(w),
        height: height - 8, rx: 10, "data-layer": c.l,
      }, this.back);
    });
  }

  // Per weight layer: the visible paths, the animation overlays (pathLength 100 so a
  // dash offset moves the same fraction of every curve), the marks and wide invisible
  // hit paths.
  _buildEdges(lay) {
    const groups = { vis: [], fx: [], hit: [] };
    const group = (cls, l) => svgEl("g", { class: cls, "data-layer": l }, this.back);
    for (let l = 0; l < lay.L - 1; l++) groups.vis.push(group("nd-edges", l));
    for (let l = 0; l < lay.L - 1; l++) groups.fx.push(group("nd-fx", l));
    this.backMarks = svgEl("g", { class: "nd-marks" }, this.back);
    for (let l = 0; l < lay.L - 1; l++) groups.hit.push(group("nd-hits", l));
    this.edges = [];
    for (let l = 0; l < lay.L - 1; l++) {
      const to = lay.cols[l + 1];
      const bundle = l === 0 && lay.imageMode;
      const e = { l, bundle, nTo: to.n, nFrom: bundle ? 1 : lay.cols[l].n, vis: [], fx: [], hit: [] };
      for (let i = 0; i < to.n; i++) {
        for (let j = 0; j < e.nFrom; j++) {
          const d = edgePathOf(lay, l, i, j);
          e.vis.push(svgEl("path", { class: "nd-edge", d, stroke: PENDING_FILL, "stroke-width": 1 }, groups.vis[l]));
          e.fx.push(svgEl("path", { d, pathLength: 100 }, groups.fx[l]));
          e.hit.push(svgEl("path", {
            class: "nd-hit", d, "data-kind": bundle ? "bundle" : "edge",
            "data-layer": l, "data-to": i, "data-from": bundle ? "all" : j,
          }, groups.hit[l]));
        }
      }
      // Dense layers get thinner edges, so a 32×32 layer is not a solid mat of ink.
      e.maxW = bundle ? 4 : Math.max(1, Math.min(6, 6 * Math.sqrt(64 / e.vis.length)));
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

  // Column title a⁽ˡ⁾ and, below it, what the layer is.
  _buildHeader(f, lay, c, g) {
    svgEl("text", { class: "nd-col-title", x: r1(c.x), y: lay.titleY, "text-anchor": "middle" }, g)
      .textContent = "a" + courseLayer(c.l);
    const k = columnKind(f, lay, c);
    if (k) svgEl("text", { class: "nd-col-kind", x: r1(k.x), y: lay.kindY, "text-anchor": k.anchor }, g).textContent = k.kind;
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
      const ringGap = lay.crowded ? 1 : 4; // crowded: the ring hugs the unit, not its neighbours
      n.ring = svgEl("rect", {
        class: "nd-ring off", x: r1(p.x - s / 2 - ringGap), y: r1(p.y - s / 2 - ringGap),
        width: s + 2 * ringGap, height: s + 2 * ringGap, rx: Math.round(s / 8) + ringGap,
      }, ng);
      const b = Math.max(3, Math.min(8, s * 0.2));
      const bx = p.x - s / 2;
      const by = p.y + s / 2;
      n.bias = svgEl("path", {
        class: "nd-bias", fill: PENDING_FILL, d: `M${r1(bx)},${r1(by - b)}L${r1(bx + b)},${r1(by)}L${r1(bx)},${r1(by + b)}L${r1(bx - b)},${r1(by)}Z`,
      }, ng);
    }
    n.badge = svgEl("circle", {
      class: "nd-badge off", cx: r1(p.x + s / 2), cy: r1(p.y - s / 2), r: r1(Math.max(3, Math.min(6, s * 0.15))),
    }, ng);
    const lx = (dx) => r1(p.x + dx);
    if (l === 0) {
      n.label = svgEl("text", { class: "nd-label", x: lx(-s / 2 - 8), y: r1(p.y + 4 * this.zoom), "text-anchor": "end" }, ng);
      n.label.textContent = featureLabel(f.feature_names?.[i], i);
    } else if (l === lay.L - 1) {
      n.label = svgEl("text", { class: "nd-label nd-out-label", x: lx(s / 2 + 10), y: r1(p.y + 4 * this.zoom) }, ng);
      if (c.n > 1) n.label.textContent = String(i);
      else n.label2 = svgEl("text", { class: "nd-label nd-target", x: lx(s / 2 + 10), y: r1(p.y + 19 * this.zoom) }, ng);
    }
    n.canvas = this._canvasAt(p.x - s / 2, p.y - s / 2, s, lay.imageMode && l === 1);
    if (!this.focusNode) {
      this.focusNode = n;
      ng.setAttribute("tabindex", 0);
    }
    return n;
  }

  _canvasAt(x, y, size, pixelated) {
    const u = new UnitCanvas(this.canvasLayer, x, y, size, pixelated);
    this.units.push(u);
    return u;
  }

  // The sheet: one canvas over the whole stage, under the units' canvases.
  _buildSheet(width, height) {
    const dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
    const cv = htmlEl("canvas", "nd-sheet", this.canvasLayer);
    cv.setAttribute("aria-hidden", "true");
    cv.width = Math.round(width * dpr);
    cv.height = Math.round(height * dpr);
    cv.style.width = width + "px";
    cv.style.height = height + "px";
    this.sheet = { cv, ctx: cv.getContext("2d"), dpr };
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
    const lab = svgEl("text", { class: "nd-label", x: r1(img.x + img.size / 2), y: r1(img.y + img.size + 16 * this.zoom), "text-anchor": "middle" }, ig);
    lab.textContent = `x: ${side}×${Math.ceil(n0 / side)} pixels`;
    this.image = { g: ig, side, rows: Math.ceil(n0 / side), n: n0, x: null, w0: null };
    this.image.canvas = this._canvasAt(img.x, img.y, img.size, true);
    this.focusNode = { g: ig };
  }

  // Marks: outlines built when the marks or the network change, never per frame.
  _buildMarks() {
    this.backMarks.replaceChildren();
    this.frontMarks.replaceChildren();
    const m = this.marks;
    if (!m) return;
    const lay = this.lay;
    for (const [l, i, j] of m.edges) {
      const e = this.edges[l];
      if (!e || i < 0 || i >= e.nTo || (!e.bundle && (j < 0 || j >= e.nFrom))) continue;
      const idx = e.bundle ? i : i * e.nFrom + j;
      svgEl("path", { class: "nd-mark nd-mark-edge", d: e.vis[idx].getAttribute("d"), "data-layer": l, "data-to": i, "data-from": j }, this.backMarks);
    }
    const s = lay.s;
    const pad = s < 16 ? 5 : 7;
    for (const [l, i] of m.nodes) {
      const n = this.nodes[l]?.[i];
      if (!n) continue;
      svgEl("rect", {
        class: "nd-mark nd-mark-node", x: r1(n.x - s / 2 - pad), y: r1(n.y - s / 2 - pad),
        width: s + 2 * pad, height: s + 2 * pad, rx: Math.round(s / 8) + pad, "data-layer": l, "data-unit": i,
      }, this.frontMarks);
    }
  }

  // --- drawing -----------------------------------------------------------------

  _draw() {
    const f = this.f;
    if (!f || !Array.isArray(f.sizes) || f.sizes.length < 2) return;
    const t0 = performance.now();
    const built = this._key(f) !== this.builtKey;
    if (built) this._build(f);
    // Fast mode: between the ~20/s refreshes nothing on screen changes, the caption's step
    // included, so the frames in between cost no style, paint or commit.
    if (!this._heavyDue(built)) return;
    this.stats.draws++;
    setText(this.captionMain, caption(f, this.mode));
    setText(this.captionNote, captionNote(f));
    const diverged = f.status === "diverged";
    this._drawDiverged(f, diverged);
    this.nan = { units: 0, deltas: 0, edges: 0, biases: 0 };
    this._drawImages(f);
    this._drawNodes(f, diverged);
    this._drawEdges(f, diverged);
    if (this.mode === "fast") this.painter.sheet(this.sheet, this.units);
    const msg = nanMessage(this.nan);
    setText(this.nanNote, msg);
    setHidden(this.nanNote, !msg);
    this._drawHighlight(f);
    this.motion.onFrame(f, this, this.mode === "phase" && !diverged && !this._reduced());
    this._drawLegend(f);
    if (this.hover) this._drawTooltip();
    this.stats.drawMs += performance.now() - t0;
  }

  // Diverged: the message, with the true numbers of the frame under it (dimmed): layers
  // with no finite value keep their last picture, and nothing NaN gets a colour.
  _drawDiverged(f, diverged) {
    this.overlay.hidden = !diverged;
    setClass(this.stage, "nd-diverged", diverged);
    if (!diverged) return;
    setText(this.overlayText, f.message || "Training diverged: a value became NaN or infinite. " +
      "Lower the learning rate and reset.");
    const facts = [];
    if (isNum(f.loss?.train)) facts.push(`J = ${fmt(f.loss.train)}`);
    if (hasFinite(f.weights)) facts.push(`largest |w| = ${fmt(maxAbs(f.weights))}`);
    setText(this.overlayFacts, facts.length ? "Now: " + facts.join(" · ") : "");
  }

  // Phase mode (and the first draw of a new shape) draws everything. Fast mode refreshes
  // the values at most every FAST_HEAVY_MS, and makes sure the last frame gets them too
  // (a trailing draw, in case no other frame comes).
  _heavyDue(built) {
    const now = performance.now();
    const modeChanged = this.heavyMode !== this.mode;
    this.heavyMode = this.mode;
    if (modeChanged) this.painter.dirty = true; // the sheet was not kept up in phase mode
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

  _drawNodes(f, diverged) {
    const L = f.sizes.length;
    const focus = f.focus || {};
    const deltaScale = Math.max(maxAbs(focus.delta), 1e-12);
    const paramScale = this._paramScale(f);
    const hm = f.heatmaps;
    const nan = this.nan;
    const painter = this.painter;
    let rings = false;
    let heatShown = false;
    for (let l = 0; l < L; l++) {
      const nodes = this.nodes[l];
      if (!nodes.length) continue;
      const a = focus.a?.[l];
      if (diverged && !hasFinite(a)) continue; // keep the last picture of this layer
      const range = hm?.range?.[l];
      const perUnit = Array.isArray(range?.[0]); // also accept one [lo, hi] per unit
      const d = l > 0 ? focus.delta?.[l] : null;
      const b = l > 0 ? f.biases?.[l - 1] : null;
      setClass(this.cols[l], "pending", !a);
      const weightImages = this.image && l === 1; // digits: canvases show weights
      for (const n of nodes) {
        const r = perUnit ? range[n.i] : range;
        const ok = r && isNum(r[0]) && isNum(r[1]);
        const dom = painter.domain(f, l, ok ? r : null);
        const lut = ok ? painter.lut(r, dom) : null;
        const v = a ? a[n.i] : null;
        const k = !a ? -2 : isNum(v) ? scaleIndex((v - dom.centre) / dom.half) : -1; // −2: not computed yet
        const heat = weightImages ? !n.canvas.cv.hidden
          : painter.heat(n.canvas, lut ? hm.layers?.[l]?.[n.i] : null, lut, hm?.res);
        heatShown ||= heat && !weightImages;
        painter.setPending(n.canvas, !a);
        paintNode(n, k, heat);
        if (k === -1) nan.units++;
        if (n.ring) {
          nan.deltas += paintRing(n, d, deltaScale);
          rings ||= !!d;
        }
        if (n.bias) nan.biases += paintBias(n, b, paramScale);
      }
      if (l === L - 1) this._drawOutputLabels(f, nodes);
    }
    this.drawn.rings = rings;
    this.drawn.heat = heatShown;
  }

  _drawOutputLabels(f, nodes) {
    const a = f.focus?.a?.[f.sizes.length - 1];
    const y = f.focus?.y;
    if (nodes.length === 1) {
      const n = nodes[0];
      setText(n.label, "ŷ = " + (a ? fmt(a[0]) : "…"));
      setText(n.label2, y && y.length === 1 ? "y = " + fmt(y[0]) : "");
      return;
    }
    const pred = a ? argmax(a) : -1;
    const truth = y ? argmax(y) : -1;
    for (const n of nodes) {
      let s = String(n.i);
      if (n.i === pred) s += n.i === truth ? " ◂ predicted = label" : " ◂ predicted";
      else if (n.i === truth) s += " ◂ label";
      setText(n.label, s);
      setClass(n.label, "predicted", n.i === pred);
    }
  }

  // Digits: the input image (greyscale ink) and each first-layer unit's 64 weights.
  _drawImages(f) {
    const im = this.image;
    if (!im) return;
    const x = f.focus?.x;
    if (x && x !== im.x && hasFinite(x)) {
      im.x = x;
      this.painter.grid(im.canvas, x, im.side, im.rows, inkPainter(x));
    }
    const W0 = f.weights?.[0];
    if (!W0 || W0 === im.w0 || !hasFinite(W0)) return;
    im.w0 = W0;
    const paint = weightPainter(Math.max(maxAbs(W0), 1e-12));
    this.nodes[1]?.forEach((n) => this.painter.grid(n.canvas, W0[n.i], im.side, im.rows, paint));
  }

  // One scale for all parameters (weights and biases), so equal colours mean equal values.
  _paramScale(f) {
    if (this.scaleOf.frame !== f) {
      this.scaleOf = { frame: f, value: Math.max(maxAbs(f.biases, maxAbs(f.weights)), 1e-12) };
    }
    return this.scaleOf.value;
  }

  _drawEdges(f, diverged) {
    const backward = f.cursor?.phase === "backward";
    const G = backward ? f.grads?.W : null;
    const wScale = this._paramScale(f);
    const gScale = Math.max(maxAbs(G), 1e-12);
    const gradLayers = [];
    this.edges.forEach((e, l) => {
      // While δ flows back, edges whose ∂J/∂W is known show the gradient instead.
      const useG = hasFinite(G?.[l]);
      const M = useG ? G[l] : f.weights?.[l];
      if (!M || (diverged && !hasFinite(M))) return;
      if (useG) gradLayers.push(l);
      this.nan.edges += e.bundle ? paintBundle(e, M, useG) : paintEdgeLayer(e, M, useG ? gScale : wScale, useG);
    });
    this.drawn.gradLayers = gradLayers;
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
      setClass(g, "active-layer", l === active);
      setClass(g, "highlighted-layer", l === this.extra);
      setClass(this.bands[l], "on", l === active);
      setClass(this.bands[l], "guided", l === this.extra);
    });
    setClass(this.root, "nd-backward", f.cursor?.phase === "backward");
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
      this.zoom = pageZoom();
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

  _drawTooltip() {
    const t = this.hover;
    if (!t || !this.f) return;
    const c = tipContent(this.f, t, { editable: !!this.opts.onEdgeClick, side: this.image?.side });
    if (!c) { this.tip.hidden = true; return; }
    setText(this.tipTitle, c.title);
    setText(this.tipHint, c.hint || "");
    const sig = c.rows.map((r) => r[0]).join("|");
    if (this.tipSig !== sig) {
      this.tipSig = sig;
      this.tipBody.replaceChildren(...c.rows.map(([label]) => {
        const tr = htmlEl("tr");
        htmlEl("th", null, tr).textContent = label;
        htmlEl("td", null, tr);
        return tr;
      }));
    }
    c.rows.forEach(([, v], k) => setText(this.tipBody.rows[k].cells[1], v));
    this.tip.hidden = false;
    if (t.kind === "edge") this._showHalo(t);
  }

  _showHalo(t) {
    const e = this.edges[t.l];
    const idx = t.i * e.nFrom + t.j;
    const el = e?.vis[idx];
    if (!el) return;
    setAttr(this.halo, "d", el.getAttribute("d"));
    setAttr(this.halo, "stroke-width", e.width[idx] + 5);
    this.halo.hidden = false;
  }
}
