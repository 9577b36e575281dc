"""Check your own backprop: the exercise's problem (JSON, Octave CSVs, NumPy .npz) and
the check of a student's J and gradients. Thin: the numbers come from the session's
network and `app.engine.exercise`; nothing a user sends is executed, only compared."""

import hashlib
import io
import zipfile

import numpy as np
from flask import Blueprint, current_app, jsonify, request

from app.engine import Network
from app.engine.exercise import MISTAKES, TOLERANCE, ExerciseError, check, problem_batch, read_gradients, to_theta
from app.training import SessionError

from .api import error_response, json_body, with_session

bp = Blueprint("exercise", __name__, url_prefix="/api")

MAX_EXAMPLES = 100   # the exercise's fixed small batch
SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def theta(l: int) -> str:
    """Θ⁽ˡ⁾ in the course's numbering for our weight layer l (0-based)."""
    return f"Θ⁽{str(l + 1).translate(SUPERSCRIPT)}⁾"


def _snapshot(session) -> dict:
    """The problem as arrays, read once under the session's lock."""
    with session.lock:
        net = session.network
        X, Y = problem_batch(session.X_train, session.Y_train, MAX_EXAMPLES)
        reg = session.config["regularization"]
        lam = session.l1 if reg == "l1" else session.l2
        weights = [np.array(W) for W in net.weights]
        biases = [np.array(b) for b in net.biases]
        functions = {"activation": net.activation, "output": net.output, "loss": net.loss}
    return {"weights": weights, "biases": biases, "X": np.array(X), "Y": np.array(Y),
            "lambda": float(lam), "regularization": reg, **functions, "m": len(X)}


def _fingerprint(p: dict) -> str:
    """Names this exact problem, so a check knows whether the network moved since."""
    h = hashlib.sha256()
    for a in (*p["weights"], *p["biases"], p["X"], p["Y"]):
        h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    h.update(repr((p["lambda"], p["regularization"], p["activation"], p["output"], p["loss"])).encode())
    return h.hexdigest()[:20]


def _as_json(p: dict) -> dict:
    def plain(key, value):
        if key in ("weights", "biases"):
            return [a.tolist() for a in value]
        return value.tolist() if isinstance(value, np.ndarray) else value
    return {k: plain(k, v) for k, v in p.items()}


def _attachment(response, filename: str):
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _with_tag(response, p: dict):
    response.headers["ETag"] = f'"{_fingerprint(p)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/sessions/<session_id>/problem")
@with_session
def problem(session):
    """The exact problem: current weights, the first ≤ 100 training examples, λ."""
    p = _snapshot(session)
    response = _with_tag(jsonify(_as_json(p)), p)
    if request.args.get("download"):
        _attachment(response, "backprop-lens-problem.json")
    return response


OCTAVE_README = """Backprop Lens — the exercise's problem in the course's layout (Octave / MATLAB)

  X.csv        m × n inputs, one example a row ({m} × {n_in})
  Y.csv        m × K targets, one-hot rows as in ex4 ({m} × {n_out})
  Theta1.csv … the weights, Theta{{l}} is s_(l+1) × (s_l + 1) with the BIAS COLUMN FIRST
  problem.txt  lambda, regularization, activation, output and loss

Network: {sizes}, hidden activation {activation}, output {output}, loss {loss},
regularization {regularization} with lambda = {lam}. J averages over the m = {m} examples
(J = (1/m)·Σ cost + lambda/(2m)·ΣΘ², bias column not regularised).

Load:
  X = csvread('X.csv');  Y = csvread('Y.csv');  lambda = {lam};
{loads}
Check: write your J and gradients (Θ layout, bias column first) to one JSON file
(Octave 7+ / MATLAB R2016b+), then upload it on the page:
  s = struct('cost', J, 'weights', {{{{{grads}}}}});
  fid = fopen('check.json', 'w'); fprintf(fid, '%s', jsonencode(s)); fclose(fid);
or save each gradient with dlmwrite('Theta1_grad.csv', Theta1_grad, 'precision', '%.17g')
and drop the CSV files on the page with your J.
"""


def _csv(a: np.ndarray) -> str:
    rows = np.atleast_2d(a)
    return "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows)


@bp.get("/sessions/<session_id>/problem.zip")
@with_session
def problem_zip(session):
    """The problem as CSV matrices for Octave/MATLAB, Θ with the bias column first."""
    p = _snapshot(session)
    thetas = to_theta(p["weights"], p["biases"])
    sizes = [p["X"].shape[1], *(W.shape[0] for W in p["weights"])]
    n = len(thetas)
    readme = OCTAVE_README.format(
        m=p["m"], n_in=sizes[0], n_out=sizes[-1], sizes=" → ".join(map(str, sizes)), lam=repr(p["lambda"]),
        activation=p["activation"], output=p["output"], loss=p["loss"], regularization=p["regularization"],
        loads="".join(f"  Theta{l} = csvread('Theta{l}.csv');\n" for l in range(1, n + 1)),
        grads=", ".join(f"Theta{l}_grad" for l in range(1, n + 1)))
    info = "".join(f"{k},{p[k]}\n" for k in ("lambda", "regularization", "activation", "output", "loss", "m"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("README.txt", readme)
        z.writestr("problem.txt", info)
        z.writestr("X.csv", _csv(p["X"]))
        z.writestr("Y.csv", _csv(p["Y"]))
        for l, theta in enumerate(thetas, start=1):
            z.writestr(f"Theta{l}.csv", _csv(theta))
    response = _with_tag(current_app.response_class(buffer.getvalue(), mimetype="application/zip"), p)
    return _attachment(response, "backprop-lens-problem.zip")


@bp.get("/sessions/<session_id>/problem.npz")
@with_session
def problem_npz(session):
    """The problem for NumPy: X, Y, W1…, b1…, lambda and the function names."""
    p = _snapshot(session)
    arrays = {"X": p["X"], "Y": p["Y"], "layers": np.array(len(p["weights"]))}
    for l, (W, b) in enumerate(zip(p["weights"], p["biases"]), start=1):
        arrays[f"W{l}"], arrays[f"b{l}"] = W, b
    for key in ("lambda", "m", "regularization", "activation", "output", "loss"):
        arrays[key] = np.array(p[key])
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    response = _with_tag(current_app.response_class(buffer.getvalue(), mimetype="application/octet-stream"), p)
    return _attachment(response, "backprop-lens-problem.npz")


# -- the check ------------------------------------------------------------------------
def _number(value, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise SessionError(field, f"{field} must be a finite number, got {str(value)[:40]}")
    return float(value)


def _array(value, field: str) -> np.ndarray:
    """A JSON number, list of numbers or list of rows → float64 array; nothing else."""
    def leaves(v, depth: int):
        if isinstance(v, list):
            if depth == 2:
                raise SessionError(field, f"{field} must be a matrix (rows of numbers), not deeper lists")
            for item in v:
                yield from leaves(item, depth + 1)
        else:
            yield v
    for v in leaves(value, 0):
        _number(v, field)
    try:
        return np.array(value, dtype=np.float64)
    except ValueError:
        raise SessionError(field, f"{field}: every row must have the same length") from None


def _layers(body: dict, key: str, required: bool) -> list | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, list):
        raise SessionError(key, f"{key} must be a list with one array per layer")
    return [None if v is None else _array(v, f"{key}[{l}]") for l, v in enumerate(value)]


def _diagnosis(findings: dict, in_cost: list, unexplained: dict) -> list:
    out = []
    for code in MISTAKES:
        if code not in findings:
            continue
        layers = findings[code]
        places = (["J"] if code in in_cost else []) + [theta(l) for l in layers]
        where = " In " + (", ".join(places[:-1]) + " and " if len(places) > 1 else "") + places[-1] + "."
        entry = {"code": code, "message": MISTAKES[code] + where}
        if layers:
            entry["layer"], entry["layers"] = layers[0], layers
        out.append(entry)
    if unexplained.get("cost"):
        out.append({"code": "cost_mismatch", "message": "Your J differs from ours and matches none of the "
                    "classic mistakes: check J = (1/m)·Σᵢ Σₖ[−yₖ log hₖ − (1 − yₖ) log(1 − hₖ)] "
                    "+ λ/(2m)·ΣW² term by term (or MSE's (1/2m)·Σ‖h − y‖²)."})
    for l in sorted(k for k in unexplained if k != "cost"):
        parts = " and ".join("∂J/∂W" if p == "weights" else "∂J/∂b" for p in unexplained[l])
        out.append({"code": "gradient_mismatch", "layer": l, "layers": [l],
                    "message": f"{parts} of {theta(l)} differ from ours and match none of the "
                               f"classic mistakes: run gradient checking on your code to find which term is off."})
    return out


@bp.post("/sessions/<session_id>/check")
@with_session
def check_gradients(session):
    """The student's {"cost", "weights", "biases"} (or Θ-gradients) against ours."""
    body = json_body()
    cost = body.get("cost")
    cost = None if cost is None else _number(cost, "cost")
    weights = _layers(body, "weights", required=cost is None)
    biases = _layers(body, "biases", required=False)
    p = _snapshot(session)
    expected = body.get("problem")
    if expected is not None and expected != _fingerprint(p):
        return error_response(409, "The network has changed since you downloaded the problem (it trained "
                                   "or was edited): download it again and recompute", "problem")
    net = Network([p["X"].shape[1], *(W.shape[0] for W in p["weights"])],
                  activation=p["activation"], output=p["output"], loss=p["loss"])
    net.weights, net.biases = p["weights"], p["biases"]
    l2, l1 = (0.0, p["lambda"]) if p["regularization"] == "l1" else (p["lambda"], 0.0)
    try:
        grads = None if weights is None else read_gradients(net, weights, biases)
    except ExerciseError as e:
        raise SessionError(e.field, e.message) from None
    result = check(net, p["X"], p["Y"], l2, l1, cost, grads)
    return jsonify({
        "ok": result.ok, "cost": result.cost or {"yours": None, "ours": net.cost(p["X"], p["Y"], l2, l1), "ok": None},
        "layers": result.layers, "diagnosis": _diagnosis(result.findings, result.in_cost, result.unexplained),
        "tolerance": TOLERANCE, "layout": grads.layout if grads else None, "m": p["m"],
    })
