"""The stream frame: what the page draws, built from a session (see docs/frames.md).

Only what is drawn goes in: one focus example, per-layer summaries, and per-unit
heatmaps quantised to bytes. Floats are sent as float32 (7 significant digits, far
more than the 3 a person is shown) and non-finite values as null.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import numpy as np
import orjson

from app.data import FEATURE_LABELS

if TYPE_CHECKING:
    from .session import Session

OPTIONS = orjson.OPT_SERIALIZE_NUMPY


def _f32(arrays) -> list:
    return [None if a is None else np.asarray(a, dtype=np.float32) for a in arrays]


def _quantise(values: np.ndarray, lo: float, hi: float) -> str:
    scaled = (np.nan_to_num(values, nan=0.5 * (lo + hi)) - lo) * (255.0 / (hi - lo))
    return base64.b64encode(np.clip(scaled, 0, 255).astype(np.uint8).tobytes()).decode("ascii")


def _value_range(kind: str, values: np.ndarray) -> tuple[float, float]:
    """Bytes 0..255 map onto this range: fixed for squashing units, symmetric otherwise."""
    if kind in ("sigmoid", "softmax"):
        return 0.0, 1.0
    if kind == "tanh":
        return -1.0, 1.0
    finite = values[np.isfinite(values)]
    top = float(np.abs(finite).max()) if finite.size else 1.0
    top = top if top > 1e-12 else 1.0
    return (0.0, top) if kind == "relu" else (-top, top)


def _heatmaps(s: Session) -> tuple[dict | None, dict | None]:
    if s.grid is None:
        return None, None
    net = s.network
    kinds = ["linear", *[net.activation] * (len(net.sizes) - 2), net.output]
    res, G = s.grid["unit"]
    a = net.forward(G).a
    # Inputs get a range per unit (x₁ spans ±6, x₁² 0…36); other layers share one.
    inputs = [_value_range("linear", a[0][:, i]) for i in range(a[0].shape[1])]
    ranges = [[list(r) for r in inputs]]
    layers = [[_quantise(a[0][:, i], *inputs[i]) for i in range(a[0].shape[1])]]
    for kind, values in zip(kinds[1:], a[1:]):
        lo, hi = _value_range(kind, values)
        ranges.append([lo, hi])
        layers.append([_quantise(values[:, i], lo, hi) for i in range(values.shape[1])])
    extent = list(s.data.extent)
    heatmaps = {"res": res, "extent": extent, "range": ranges, "layers": layers}

    res, G = s.grid["boundary"]
    h = net.predict(G)
    if s.data.problem == "regression":
        lo, hi = _value_range("linear", h)
        lo, hi = min(lo, -1.0), max(hi, 1.0)
        values = h[:, 0]
    elif h.shape[1] == 1:
        lo, hi, values = 0.0, 1.0, h[:, 0]
    elif h.shape[1] == 2:
        lo, hi, values = 0.0, 1.0, h[:, 1]
    else:
        lo, hi, values = 0.0, float(h.shape[1] - 1), h.argmax(axis=1).astype(float)
    boundary = {"res": res, "extent": extent, "range": [lo, hi], "data": _quantise(values, lo, hi)}
    return heatmaps, boundary


def _cursor_and_focus(s: Session) -> tuple[dict, dict]:
    """The focus example's z, a, δ — masked to what the current phase has computed."""
    t = s.focus_trace()
    z, a, delta = list(t.z), list(t.a), list(t.delta)
    p = s.pending
    cursor = {"phase": "idle", "layer": None}
    n_layers = len(z) - 1
    if p is not None and "phases" in p:
        phase, layer = p["phases"][p["cursor"]]
        cursor = {"phase": phase, "layer": layer}
        if phase == "forward":
            z = [v if l <= layer else None for l, v in enumerate(z)]
            a = [v if l <= layer else None for l, v in enumerate(a)]
        if phase in ("forward", "cost"):
            delta = [None] * (n_layers + 1)
        elif phase == "backward":
            delta = [v if l >= layer else None for l, v in enumerate(delta)]
    elif p is not None and "accumulated" in p:
        cursor = {"phase": "backward", "layer": 1, "example": p["k"], "of": len(p["idx"])}
    i = s.focus
    focus = {"index": i, "x": s.X_train[i], "y": s.Y_train[i],
             "z": _f32(v if v is None else v[0] for v in z),
             "a": _f32(v if v is None else v[0] for v in a),
             "delta": _f32(v if v is None else v[0] for v in delta)}
    return cursor, focus


def _grads(s: Session, cursor: dict) -> tuple[dict | None, dict | None, list]:
    p = s.pending
    if p is not None and "phases" in p and cursor["phase"] == "backward" and not p.get("done"):
        t, layer = p["trace"], cursor["layer"]
        shown = lambda arrays: _f32(g if l >= layer - 1 else None  # noqa: E731  (null: not computed yet)
                                    for l, g in enumerate(arrays))
        grads = {"W": shown(t.grad_W), "b": shown(t.grad_b)}
        return grads, None, [float(np.linalg.norm(g)) for g in t.grad_W]
    if s.last is None:
        return None, None, []
    last = s.last
    return ({"W": _f32(last["W"]), "b": _f32(last["b"])},
            {"W": _f32(last["dW"]), "b": _f32(last["db"])},
            [float(np.linalg.norm(g)) for g in last["W"]])


def _symmetry(net) -> list[float]:
    """Per hidden layer: the largest difference between two units' incoming weights
    and biases. Zero means every unit of the layer computes the same function."""
    spreads = []
    for W, b in zip(net.weights[:-1], net.biases[:-1]):
        incoming = np.column_stack([W, b])
        spreads.append(float(np.max(np.abs(incoming - incoming[0]))) if len(incoming) > 1 else 0.0)
    return spreads


def _confusion(s: Session) -> dict | None:
    """Counts of (true class, predicted class) on the test set, for multi-class problems."""
    if s.data.problem != "classification" or s.data.classes <= 2 or not len(s.X_test):
        return None
    predicted = s.network.predict(s.X_test).argmax(axis=1)
    k = s.data.classes
    matrix = np.bincount(s.data.y_test * k + predicted, minlength=k * k).reshape(k, k)
    return {"labels": [str(c) for c in range(k)], "matrix": matrix}


def build_frame(s: Session) -> dict:
    """The frame dict for the session's current state (call with the session locked)."""
    net = s.network
    cursor, focus = _cursor_and_focus(s)
    grads, update, norms = _grads(s, cursor)
    heatmaps, boundary = _heatmaps(s)
    stats = s.stats()
    names = (tuple(FEATURE_LABELS.get(f, f) for f in s.config["features"]) if s.data.is_2d
             else s.data.input_names)
    return {
        "seq": s.seq, "step": s.step_count, "epoch": s.epoch, "status": s.status,
        "message": s.message, "structure": s.structure, "generation": s.generation, "sizes": net.sizes,
        "activation": net.activation, "output": net.output, "problem": s.data.problem,
        "dataset": s.config["dataset"], "feature_names": list(names),
        "loss": stats["loss"], "accuracy": stats["accuracy"], "cursor": cursor,
        "weights": _f32(net.weights), "biases": _f32(net.biases), "focus": focus,
        "grads": grads, "update": update, "grad_norms": norms,
        "heatmaps": heatmaps, "boundary": boundary, "symmetry": _symmetry(net),
        "confusion": _confusion(s), "init": s.config["init"],
        # what the formulas D = Δ/m + (λ/m)W and W − αD need
        "m": len(s.pending["idx"]) if s.pending else (s.last["m"] if s.last else s.batch_size),
        **{k: s.config[k] for k in ("learning_rate", "optimizer", "regularization", "lambda")},
    }


def encode(obj: dict) -> bytes:
    return orjson.dumps(obj, option=OPTIONS)


def _phase_event(frame: dict) -> dict | None:
    """Step mode: the phase, its layer and that layer's values only."""
    cursor = frame["cursor"]
    if cursor["phase"] == "idle":
        return None
    layer, focus = cursor["layer"], frame["focus"]
    values = {}
    if layer is not None:
        values = {k: focus[k][layer] for k in ("z", "a", "delta")}
        if cursor["phase"] == "backward" and frame["grads"] is not None:
            values["grad_W"] = frame["grads"]["W"][layer - 1]
            values["grad_b"] = frame["grads"]["b"][layer - 1]
    elif cursor["phase"] == "cost":
        values = {"loss": frame["loss"]}
    elif cursor["phase"] == "update" and frame["update"] is not None:
        values = {"update_W": frame["update"]["W"], "update_b": frame["update"]["b"]}
    return {"phase": cursor["phase"], "layer": layer, "values": values}


class Encoded:
    """The events of one state, encoded once however many readers send them."""

    __slots__ = ("seq", "frame", "phase", "status", "cursor")

    def __init__(self, s: Session) -> None:
        frame = build_frame(s)
        self.seq = s.seq
        self.frame = encode(frame)
        phase = _phase_event(frame)
        self.phase = encode(phase) if phase else None
        self.cursor = (frame["cursor"]["phase"], frame["cursor"]["layer"], frame["step"])
        self.status = encode({"status": s.status, "message": s.message})


def encoded_frame(s: Session) -> Encoded:
    """The current state's encoded events (call with the session locked)."""
    cached = getattr(s, "_encoded", None)
    if cached is None or cached.seq != s.seq:
        cached = s._encoded = Encoded(s)
    return cached
