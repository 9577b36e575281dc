// Diagram geometry: where every column, unit, edge and the input image go, as plain
// numbers (no DOM). diagram.js builds the elements from what layoutNetwork returns.

import { featureLabel } from "./format.js";
import { r1 } from "./diagram-util.js";

export const IMAGE_INPUTS = 16; // more inputs than this: draw the input as one image (digits)
const MAX_NODE = 40;
const MIN_NODE = 11;
const MAX_SUB = 4; // a crowded column (up to 32 units) is staggered into at most 4 sub-columns
const PAD = { top: 46, bottom: 12 };
// Between staggered sub-columns: room for one unit's bias diamond (≤ 0.2 s wide each
// side) beside its neighbour's dot (≤ 0.15 s), which sit at the corners facing each other.
const STAGGER_GAP = { perNode: 0.35, fixed: 3 };
const staggerGap = (s) => Math.ceil(STAGGER_GAP.perNode * s) + STAGGER_GAP.fixed;

/**
 * sizes: units per layer; width × height: the stage (px); labels = {left, right}: room
 * the input and output labels need; zoom: the page's type scale (1 at 14 px text).
 * Returns {L, s (node size), cols: [{l, n, x, sub, halfWidth, nodes: [{x, y}]}], top,
 * avail, width, height, colGap, imageMode, image: {x, y, size} | null, titleY, kindY}.
 */
export function layoutNetwork(sizes, width, height, labels, zoom = 1) {
  const L = sizes.length;
  const imageMode = sizes[0] > IMAGE_INPUTS;
  const imgSize = imageMode ? Math.min(120 * zoom, Math.round(height * 0.3)) : 0;
  const narrow = width < 520;
  const right = Math.max(narrow ? 60 : 80, labels.right + MAX_NODE / 2 + 12);
  const left = imageMode ? 12 + imgSize / 2 : Math.max(narrow ? 40 : 50, labels.left + MAX_NODE / 2 + 12);
  const colGap = (width - left - right) / Math.max(1, L - 1);
  const top = Math.round(PAD.top * zoom);
  const avail = height - top - PAD.bottom;
  const cols = sizes.map((n, l) => ({ l, n, x: left + l * colGap, pitch: avail / n, sub: 1 }));

  // One node size for the whole diagram (the smallest any column needs), so that
  // size never suggests meaning. Crowded columns are staggered into sub-columns.
  let s = MAX_NODE * Math.min(zoom, 1.3);
  for (const c of cols) {
    if (c.l === 0 && imageMode) continue;
    let cs = Math.min(c.pitch * 0.72, colGap * 0.55);
    for (let k = 2; k <= MAX_SUB && c.pitch * 0.72 < 24 && c.n > 8; k++) {
      const sk = Math.min(c.pitch * k * 0.72,
        (colGap * 0.6 - STAGGER_GAP.fixed * (k - 1)) / (k + STAGGER_GAP.perNode * (k - 1)));
      if (sk > cs + 2) { cs = sk; c.sub = k; }
    }
    s = Math.min(s, cs);
  }
  s = Math.max(MIN_NODE, Math.floor(s));
  for (const c of cols) {
    const gap = c.sub > 1 ? staggerGap(s) : 0;
    c.halfWidth = (c.sub - 1) / 2 * (s + gap) + s / 2;
    c.nodes = [];
    if (c.l === 0 && imageMode) continue;
    for (let k = 0; k < c.n; k++) {
      const off = ((k % c.sub) - (c.sub - 1) / 2) * (s + gap);
      c.nodes.push({ x: c.x + off, y: top + c.pitch * (k + 0.5) });
    }
  }
  const image = imageMode
    ? { x: cols[0].x - imgSize / 2, y: top + (avail - imgSize) / 2, size: imgSize }
    : null;
  if (imageMode) cols[0].halfWidth = imgSize / 2;
  // Small units, or staggered columns (neighbours nearer than a ring's margin): the δ
  // rings hug their own unit instead of crossing their neighbours'.
  const crowded = s < 20 || cols.some((c) => c.sub > 1);
  return {
    L, s, cols, top, avail, width, height, colGap, imageMode, image, crowded,
    titleY: Math.round(16 * zoom), kindY: Math.round(30 * zoom),
  };
}

/** A smooth S-curve from (x0, y0) to (x1, y1), as an SVG path. */
export function edgePath(x0, y0, x1, y1) {
  const c = (x1 - x0) * 0.5;
  return `M${r1(x0)},${r1(y0)}C${r1(x0 + c)},${r1(y0)} ${r1(x1 - c)},${r1(y1)} ${r1(x1)},${r1(y1)}`;
}

/** The path of edge idx (row-major: to, from) of weight layer l. */
export function edgePathOf(lay, l, i, j) {
  const s = lay.s;
  const to = lay.cols[l + 1];
  const b = to.nodes[i];
  if (l === 0 && lay.imageMode) {
    const img = lay.image;
    return edgePath(img.x + img.size, img.y + img.size * (i + 0.5) / to.n, b.x - s / 2, b.y);
  }
  const a = lay.cols[l].nodes[j];
  return edgePath(a.x + s / 2, a.y, b.x - s / 2, b.y);
}

/** Rough text widths (12.5 px type, times zoom) so that labels never fall off the edges. */
export function labelRoom(f, zoom = 1) {
  const n0 = f.sizes[0] > IMAGE_INPUTS ? 0 : f.sizes[0];
  const names = Array.from({ length: n0 }, (_, j) => featureLabel(f.feature_names?.[j], j));
  const left = Math.max(0, ...names.map((n) => n.length * 7.5 * zoom));
  const right = (f.sizes[f.sizes.length - 1] > 1 ? 150 : 80) * zoom;
  return { left, right };
}

/**
 * What the column header under a⁽ˡ⁾ says and where. Crowded (narrow) diagrams write the
 * kind once for the hidden layers and once for the output, so labels never collide;
 * null: no kind label for this column.
 */
export function columnKind(f, lay, c) {
  const last = c.l === lay.L - 1;
  let kind = c.l === 0 ? "input" : last ? `output · ${f.output || ""}` : f.activation || "";
  if (lay.colGap >= 70) return { kind, anchor: "middle", x: c.x };
  if (c.l === 0 || (c.l > 1 && !last)) return null;
  kind = last ? f.output || "" : `${kind} (hidden)`;
  return { kind, anchor: last ? "end" : "start", x: last ? c.x + c.halfWidth : c.x - c.halfWidth };
}
