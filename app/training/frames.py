"""The stream frame: what the page draws, as a pure function of a moment, the problem,
and what takes a pass over all the data — losses (`measure`) and heatmaps (`Pictures`),
of the moment's weights or, while training, of a recent step's (see docs/frames.md).
Nothing here reads or writes a session.

Only what is drawn goes in: one focus example, per-layer summaries, and per-unit
heatmaps quantised to bytes. Floats are sent as float32 (7 significant digits, far
more than the 3 a person is shown) and non-finite values as null.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import orjson

from app.engine import THRESHOLD, Network
from app.engine.losses import output_g_prime

from .cursor import ExampleLoop, PhaseWalk
from .moment import Moment
from .problem import Problem

OPTIONS = orjson.OPT_SERIALIZE_NUMPY


def _f32(arrays) -> list:
    return [None if a is None else np.asarray(a, dtype=np.float32) for a in arrays]


def _quantise(values: np.ndarray, lo, hi) -> list[str]:
    """Each column of `values` (one per unit) as bytes 0..255 over [lo, hi] (NaN: the
    middle) in base64; lo and hi are numbers or one per column. A layer in one pass."""
    scaled = (np.where(np.isnan(values), 0.5 * (lo + hi), values) - lo) * (255.0 / (hi - lo))
    columns = np.clip(scaled, 0, 255).astype(np.uint8).T.copy()
    return [base64.b64encode(c.tobytes()).decode("ascii") for c in columns]


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


def network_of(moment: Moment, problem: Problem) -> Network:
    """The moment's network: its functions and weights (no random initialisation)."""
    c = moment.config
    net = Network(list(problem.sizes), activation=c["activation"], output=c["output"],
                  loss=c["loss"], init="zeros")
    return net.with_params(moment.weights, moment.biases)


def regularization(config: Mapping) -> tuple[float, float]:
    """(λ of L2, λ of L1) — 0 for the one that is off."""
    lam, kind = config["lambda"], config["regularization"]
    return (lam if kind == "l2" else 0.0), (lam if kind == "l1" else 0.0)


def heatmaps(net: Network, problem: Problem) -> tuple[dict | None, dict | None]:
    if problem.grid is None:
        return None, None
    kinds = ["linear", *[net.activation] * (len(net.sizes) - 2), net.output]
    res, G = problem.grid["unit"]
    a = net.forward(G).a
    # Inputs get a range per unit (x₁ spans ±6, x₁² 0…36); other layers share one.
    inputs = [_value_range("linear", a[0][:, i]) for i in range(a[0].shape[1])]
    ranges = [[list(r) for r in inputs]]
    layers = [_quantise(a[0], *np.array(inputs).T)]
    for kind, values in zip(kinds[1:], a[1:]):
        lo, hi = _value_range(kind, values)
        ranges.append([lo, hi])
        layers.append(_quantise(values, lo, hi))
    extent = list(problem.data.extent)
    units = {"res": res, "extent": extent, "range": ranges, "layers": layers}

    res, G = problem.grid["boundary"]
    h = net.predict(G)
    if problem.data.problem == "regression":
        lo, hi = _value_range("linear", h)
        lo, hi = min(lo, -1.0), max(hi, 1.0)
        values = h[:, 0]
    elif h.shape[1] == 1:
        lo, hi, values = 0.0, 1.0, h[:, 0]
    elif h.shape[1] == 2:
        lo, hi, values = 0.0, 1.0, h[:, 1]
    else:
        lo, hi, values = 0.0, float(h.shape[1] - 1), h.argmax(axis=1).astype(float)
    boundary = {"res": res, "extent": extent, "range": [lo, hi], "data": _quantise(values[:, None], lo, hi)[0]}
    return units, boundary


@dataclass(frozen=True)
class Revealed:
    """How far the current pass has got: what the focus example's values may show."""

    phase: str            # idle | forward | cost | backward | update
    layer: int | None
    forward_to: int       # a and z are known up to this layer
    backward_to: int      # δ is known from this layer up (n_layers + 1: none yet)


def revealed(moment: Moment, n_layers: int) -> tuple[Revealed, dict]:
    cur = moment.cursor
    if isinstance(cur, PhaseWalk):
        stop = cur.stop
        forward_to = stop.layer if stop.phase == "forward" else n_layers
        backward_to = {"forward": n_layers + 1, "cost": n_layers + 1,
                       "backward": stop.layer}.get(stop.phase, 1)
        return Revealed(stop.phase, stop.layer, forward_to, backward_to), \
            {"phase": stop.phase, "layer": stop.layer}
    if isinstance(cur, ExampleLoop):
        return Revealed("backward", 1, n_layers, 1), \
            {"phase": "backward", "layer": 1, "example": cur.done, "of": len(cur.indices)}
    return Revealed("idle", None, n_layers, 1), {"phase": "idle", "layer": None}


def focus_values(net: Network, problem: Problem, moment: Moment, shown: Revealed) -> dict:
    """The focus example's z, a, δ, g′(z), own cost and output error, masked to what the
    current phase has computed (None = not computed yet)."""
    i = moment.focus
    x, y = problem.X_train[i:i + 1], problem.Y_train[i:i + 1]
    t = net.trace(x, y)
    L = len(t.z) - 1
    g_prime = [None] + [net.g_prime(t.z[l], t.a[l]) for l in range(1, L)] + \
        [output_g_prime(net.output, t.z[L], t.a[L])]
    fwd = lambda l: l <= shown.forward_to        # noqa: E731
    back = lambda l: l >= shown.backward_to      # noqa: E731
    cost_known = shown.phase not in ("forward",)
    row = lambda v: None if v is None else v[0]  # noqa: E731
    return {"index": i, "x": problem.X_train[i], "y": problem.Y_train[i],
            "z": _f32(row(v) if fwd(l) else None for l, v in enumerate(t.z)),
            "a": _f32(row(v) if fwd(l) else None for l, v in enumerate(t.a)),
            "g_prime": _f32(row(v) if fwd(l) else None for l, v in enumerate(g_prime)),
            "delta": _f32(row(v) if back(l) else None for l, v in enumerate(t.delta)),
            "cost": float(net.example_costs(t, y)[0]) if cost_known else None,
            "error": (t.a[L] - y)[0].astype(np.float32) if cost_known else None}


def gradients(moment: Moment, shown: Revealed) -> tuple[dict | None, dict | None, list, int | None]:
    """(∂J/∂W and ∂J/∂b shown, the last change ΔW, ‖∂J/∂W‖ per layer, the m they average)."""
    cur = moment.cursor
    if isinstance(cur, PhaseWalk) and shown.phase == "backward":
        t, layer = cur.trace, shown.layer
        visible = lambda arrays: _f32(g if l >= layer - 1 else None  # noqa: E731 (null: not yet)
                                      for l, g in enumerate(arrays))
        return ({"W": visible(t.grad_W), "b": visible(t.grad_b)}, None,
                [float(np.linalg.norm(g)) for g in t.grad_W], len(cur.indices))
    last = moment.last
    if last is None:
        return None, None, [], None
    return ({"W": _f32(last.grad_W), "b": _f32(last.grad_b)},
            {"W": _f32(last.change_W), "b": _f32(last.change_b)},
            [float(np.linalg.norm(g)) for g in last.grad_W], last.m)


def symmetry(net: Network) -> list[float]:
    """Per hidden layer: the largest difference between two units' incoming weights
    and biases. Zero means every unit of the layer computes the same function."""
    spreads = []
    for W, b in zip(net.weights[:-1], net.biases[:-1]):
        incoming = np.column_stack([W, b])
        spreads.append(float(np.max(np.abs(incoming - incoming[0]))) if len(incoming) > 1 else 0.0)
    return spreads


def confusion(net: Network, problem: Problem) -> dict | None:
    """Counts of (true class, predicted class) on the test set, for every classification."""
    d = problem.data
    if d.problem != "classification" or not len(problem.X_test):
        return None
    h = net.predict(problem.X_test)
    predicted = (h[:, 0] >= 0.5).astype(np.int64) if h.shape[1] == 1 else h.argmax(axis=1)
    k = max(d.classes, 2)
    matrix = np.bincount(d.y_test * k + predicted, minlength=k * k).reshape(k, k)
    names = getattr(d, "class_names", None) or tuple(str(c) for c in range(k))
    return {"labels": list(names), "matrix": matrix.tolist()}


def measure(net: Network, problem: Problem, config: Mapping, step: int) -> dict:
    """What takes a pass over all the data, for the weights of `step`: J and accuracy on
    the training and test sets (`Problem.evaluate`), and the test set's confusion matrix."""
    return {**problem.evaluate(net, *regularization(config)), "confusion": confusion(net, problem),
            "loss_step": step}


@dataclass(frozen=True, eq=False)
class Pictures:
    """The heatmaps of the hidden units and the output over the input plane, for the
    weights of one step, with their JSON made once. While training they change a few
    times a second and frames go out 60 times, so a frame carries the latest pictures
    as they are, and a stream that has sent these already leaves them out."""

    step: int
    heatmaps: dict | None
    boundary: dict | None
    json: bytes           # the frame's members ',"heatmaps":…,"boundary":…'

    @classmethod
    def draw(cls, net: Network, problem: Problem, step: int) -> Pictures:
        units, boundary = heatmaps(net, problem)
        return cls(step, units, boundary,
                   b',"heatmaps":' + encode(units) + b',"boundary":' + encode(boundary))

    def looks_like(self, other: Pictures | None) -> bool:
        """The same bytes on screen (quantised values, ranges)."""
        return other is not None and self.json == other.json


def build_frame(moment: Moment, problem: Problem, stats: Mapping, pictures: Pictures | None = None) -> dict:
    """The frame of one moment. `stats` is `measure` of its weights or of an earlier step's
    (`stats["loss_step"]`), `pictures` those of its weights (drawn here if not given) or an
    earlier step's: while training the session refreshes both at their own pace."""
    net = network_of(moment, problem)
    c = moment.config
    shown, cursor = revealed(moment, len(net.sizes) - 1)
    grads, update, norms, m_grads = gradients(moment, shown)
    pictures = pictures or Pictures.draw(net, problem, moment.step)
    m_batch = m_grads or (len(moment.cursor.indices) if moment.cursor is not None else
                          (len(problem.X_train) if c["optimizer"] == "gd" else
                           min(c["batch_size"], len(problem.X_train))))
    return {
        "seq": moment.seq, "step": moment.step, "epoch": moment.epoch, "status": moment.status,
        "message": moment.message, "structure": moment.structure, "generation": moment.generation,
        "sizes": net.sizes, "activation": net.activation, "output": net.output,
        "problem": problem.data.problem, "dataset": c["dataset"],
        "feature_names": list(problem.feature_names),
        "loss": stats["loss"], "accuracy": stats["accuracy"], "loss_step": stats["loss_step"],
        "cursor": cursor,
        "weights": _f32(net.weights), "biases": _f32(net.biases),
        "focus": focus_values(net, problem, moment, shown),
        "grads": grads, "update": update, "grad_norms": norms,
        "heatmaps": pictures.heatmaps, "boundary": pictures.boundary, "heatmaps_step": pictures.step,
        "symmetry": symmetry(net), "confusion": stats["confusion"], "init": c["init"], "m": m_batch,
        **{k: c[k] for k in ("learning_rate", "optimizer", "regularization", "lambda")},
        # what the formulas J = (1/M)Σcost + λ/(2M)ΣW², D = Δ/m + (λ/M)W, W − αD need
        "maths": {"loss": c["loss"], "output": c["output"], "activation": c["activation"],
                  "regularization": c["regularization"], "lambda": c["lambda"],
                  "learning_rate": c["learning_rate"], "optimizer": c["optimizer"],
                  "m_batch": m_batch, "m_train": len(problem.X_train),
                  "penalty": stats.get("penalty"), "gradcheck_threshold": THRESHOLD,
                  "averages": {"focus": "example", "grads": "batch", "loss": "train"}},
    }


def encode(obj) -> bytes:
    return orjson.dumps(obj, option=OPTIONS)


def phase_event(frame: dict) -> dict | None:
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
        values = {"loss": frame["loss"], "cost": focus["cost"]}
    elif cursor["phase"] == "update" and frame["update"] is not None:
        values = {"update_W": frame["update"]["W"], "update_b": frame["update"]["b"]}
    return {"phase": cursor["phase"], "layer": layer, "values": values}


@dataclass(frozen=True)
class Encoded:
    """The stream events of one moment, encoded once however many readers send them."""

    seq: int
    frame: bytes          # the whole frame
    light: bytes          # the frame without "heatmaps" and "boundary", for a reader that has `pictures`
    pictures: Pictures
    phase: bytes | None
    status: bytes
    cursor: tuple


def encode_events(moment: Moment, problem: Problem, stats: Mapping, pictures: Pictures | None = None) -> Encoded:
    pictures = pictures or Pictures.draw(network_of(moment, problem), problem, moment.step)
    frame = build_frame(moment, problem, stats, pictures)
    phase = phase_event(frame)
    light = encode({k: v for k, v in frame.items() if k not in ("heatmaps", "boundary")})
    return Encoded(seq=moment.seq, frame=light[:-1] + pictures.json + b"}", light=light, pictures=pictures,
                   phase=encode(phase) if phase else None,
                   status=encode({"status": moment.status, "message": moment.message}),
                   cursor=(frame["cursor"]["phase"], frame["cursor"]["layer"], frame["step"]))
