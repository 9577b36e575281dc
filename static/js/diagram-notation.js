// What the diagram says in words, in the course's notation: the caption naming the
// current phase, the tooltips' rows, and the legend's texts. Pure functions of the frame
// (plus what the diagram draws); every number comes from the frame and is only formatted.

import { fmt, fmtInt, fmtEpoch, sub, courseLayer, featureLabel, MINUS } from "./format.js";
import { isNum, maxAbs, countNonFinite } from "./diagram-util.js";

const lossKind = (f) => f.maths?.loss ?? f.config?.loss ?? null;
const outputKind = (f) => f.maths?.output ?? f.output;

// δ of the output layer, as the server computes it for this output and loss.
function outputDelta(f, l) {
  const a = `a${courseLayer(l)}`;
  if (lossKind(f) !== "mse" || outputKind(f) === "linear") return `δ${courseLayer(l)} = ${a} ${MINUS} y`;
  if (outputKind(f) === "softmax") return `δ${courseLayer(l)} = (∂${a}/∂z${courseLayer(l)})ᵀ(${a} ${MINUS} y)`;
  return `δ${courseLayer(l)} = (${a} ${MINUS} y) ⊙ g′(z${courseLayer(l)})`;
}

function costNote(f) {
  const kind = lossKind(f) === "mse" ? "squared error" : lossKind(f) === "cross_entropy" ? "cross-entropy" : "";
  const m = f.maths?.m_train;
  const parts = [kind, isNum(m) ? `mean over m = ${fmtInt(m)} training examples` : ""].filter(Boolean);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

/** The caption: the phase the diagram shows, or the training counter. */
export function caption(f, mode) {
  const L = f.sizes.length;
  const cur = f.cursor || {};
  const l = cur.layer;
  const showPhase = cur.phase && cur.phase !== "idle" && (mode === "phase" || f.status === "paused");
  if (f.status === "diverged") return `Training diverged — step ${fmtInt(f.step)}`;
  if (showPhase) {
    switch (cur.phase) {
      case "forward":
        return l === 0 ? "Forward propagation — input a⁽¹⁾ = x"
          : `Forward propagation — layer ${l + 1} of ${L}: a${courseLayer(l)} = g(z${courseLayer(l)})`;
      case "cost":
        return `Cost J = ${fmt(f.loss?.train)}${costNote(f)}`;
      case "backward":
        if (isNum(cur.example)) {
          return `Backpropagation — example ${fmtInt(cur.example)} of ${fmtInt(cur.of)}: Δ += δ·aᵀ`;
        }
        return l === L - 1 ? `Backpropagation — δ of layer ${l + 1}: ${outputDelta(f, l)}`
          : `Backpropagation — δ of layer ${l + 1}: δ${courseLayer(l)} = (W${courseLayer(l)})ᵀδ${courseLayer(l + 1)} ⊙ g′(z${courseLayer(l)})`;
      case "update":
        return `Gradient descent update — W ← W ${MINUS} α·∂J/∂W`;
      default:
    }
  }
  const verb = f.status === "paused" ? "Paused" : "Training";
  return `${verb} — step ${fmtInt(f.step ?? 0)} · epoch ${fmtEpoch(f.epoch ?? 0)}`;
}

/** The note beside the caption (what kind of model this is). */
export function captionNote(f) {
  if (f.sizes.length !== 2) return "";
  return f.output === "linear" ? "no hidden layers: this is linear regression"
    : "no hidden layers: this is logistic regression";
}

/** A message naming what is not a number (NaN is never a colour; it is said). */
export function nanMessage(n) {
  const parts = [];
  if (n.units) parts.push(`${n.units} unit${n.units > 1 ? "s" : ""}`);
  if (n.deltas) parts.push(`${n.deltas} δ`);
  if (n.edges) parts.push(`${n.edges} edge${n.edges > 1 ? "s" : ""}`);
  if (n.biases) parts.push(`${n.biases} bias${n.biases > 1 ? "es" : ""}`);
  if (!parts.length) return "";
  return `Not a number (NaN or ±∞, drawn dashed grey): ${parts.join(", ")} — hover one for the value.`;
}

/**
 * The edge-width legend: what the widths follow right now, with its largest value.
 * gradLayers: the weight layers drawn by ∂J/∂w (those δ has reached); the rest follow |w|.
 */
export function widthLegend(f, gradLayers = []) {
  const bad = countNonFinite(f.weights);
  const w = `|w| (max |w| ${fmt(maxAbs(f.weights))}${bad ? `; ${fmtInt(bad)} not finite` : ""})`;
  if (!gradLayers.length) return `edge width ∝ ${w}`;
  const g = `|∂J/∂w| (max ${fmt(maxAbs(gradLayers.map((l) => f.grads?.W?.[l])))})`;
  if (gradLayers.length === f.sizes.length - 1) return `edge width ∝ ${g}`;
  const names = gradLayers.map((l) => `W${courseLayer(l)}`).join(" ");
  return `edge width ∝ ${g} on ${names}, which δ has reached; ${w} on the rest`;
}

/** The moving dash's legend: which signal travels along which weights, and which way. */
export function signalLegend(shown) {
  const l = shown.layer;
  return shown.kind === "fwd"
    ? `moving dash →: w·a along W${courseLayer(l)} into z${courseLayer(l + 1)}, width ∝ |w·a| (widest: the layer's largest)`
    : `moving dash ←: w·δ along W${courseLayer(l)} back to δ${courseLayer(l)}, width ∝ |w·δ| (widest: the layer's largest)`;
}

/** The update flash's legend: the scale it is drawn on, held across updates. */
export function flashLegend(flash) {
  if (!flash) return "dark flash: this update's ΔW on every edge";
  return `dark flash: this update's ΔW, width ∝ |ΔW|, full width at ${fmt(flash.scale)} ` +
    `(${flash.headroom} × step ${fmtInt(flash.since)}'s largest |ΔW|, held: 10× α → 10× wider)`;
}

// --- tooltips: {title, rows: [[label, value]], hint} ---------------------------------

function val(layerArr, i, until) {
  if (!layerArr) return `— not computed until ${until}`;
  return fmt(layerArr[i]);
}

function nodeTip(f, l, i) {
  const L = f.sizes.length;
  const fo = f.focus || {};
  const u = sub(i + 1);
  if (l === 0) {
    const name = featureLabel(f.feature_names?.[i], i);
    return { title: `Input ${name} — a${courseLayer(0)}${u}`, rows: [["a = x", val(fo.a?.[0] || fo.x, i, "an example is chosen")]] };
  }
  const fwd = "the forward pass reaches this layer";
  const rows = [
    [`z${courseLayer(l)}${u}`, val(fo.z?.[l], i, fwd)],
    [`a${courseLayer(l)}${u} = g(z)`, val(fo.a?.[l], i, fwd)],
    [`δ${courseLayer(l)}${u}`, val(fo.delta?.[l], i, "the backward pass")],
    ["b (bias)", val(f.biases?.[l - 1], i, "the network is built")],
    ["∂J/∂b", val(f.grads?.b?.[l - 1], i, "the backward pass")],
  ];
  if (l === L - 1 && fo.y) rows.push(["y (target)", val(fo.y, i, "an example is chosen")]);
  const what = l === L - 1 ? "Output unit" : "Hidden unit";
  return { title: `${what} ${i + 1} of layer ${l + 1}`, rows, hint: "δ = ∂J/∂z for the focus example" };
}

function edgeTip(f, l, i, j, editable) {
  const g = (m) => m?.[l]?.[i];
  const from = l === 0 ? featureLabel(f.feature_names?.[j], j) : `a${courseLayer(l)}${sub(j + 1)}`;
  const w = g(f.weights);
  return {
    title: `Weight W${courseLayer(l)}${sub(i + 1)},${sub(j + 1)}: ${from} → z${courseLayer(l + 1)}${sub(i + 1)}`,
    rows: [
      ["w", w ? fmt(w[j]) : "NaN"],
      ["∂J/∂w", g(f.grads?.W) ? fmt(g(f.grads.W)[j]) : "— not computed until the backward pass"],
      ["last ΔW", g(f.update?.W) ? fmt(g(f.update.W)[j]) : "— no update yet"],
    ],
    hint: editable ? "click to edit this weight" : "",
  };
}

const mean = (row) => (row ? row.reduce((s, v) => s + v, 0) / row.length : null);

function bundleTip(f, i) {
  const n = f.sizes[0];
  return {
    title: `${n} weights into hidden unit ${i + 1} (layer 2)`,
    rows: [
      ["mean w", fmt(mean(f.weights?.[0]?.[i]))],
      ["max |w|", fmt(maxAbs(f.weights?.[0]?.[i], -Infinity))],
      ["mean ∂J/∂w", f.grads?.W?.[0] ? fmt(mean(f.grads.W[0][i])) : "— not computed yet"],
      ["mean ΔW", f.update?.W?.[0] ? fmt(mean(f.update.W[0][i])) : "— no update yet"],
    ],
    hint: "the unit's square shows all its weights as an image",
  };
}

function pixelTip(f, j, side) {
  if (j === null || j === undefined) return null;
  return {
    title: `Pixel row ${Math.floor(j / side) + 1}, column ${(j % side) + 1} — x${sub(j + 1)}`,
    rows: [["a = x", val(f.focus?.x, j, "an example is chosen")]],
  };
}

/** The tooltip of a hover target {kind, l, i, j}; side: the input image's width in pixels. */
export function tipContent(f, t, { editable = false, side = 1 } = {}) {
  if (t.kind === "node") return nodeTip(f, t.l, t.i);
  if (t.kind === "edge") return edgeTip(f, t.l, t.i, t.j, editable);
  if (t.kind === "bundle") return bundleTip(f, t.i);
  if (t.kind === "pixel") return pixelTip(f, t.i, side);
  return null;
}
