"""The course's exercise, checked: a student's own J and gradients against ours, and the
classic mistakes of ex4's nnCostFunction named by the numbers they produce.

The correct reference is always the engine's own `Network.cost` / `Network.gradients`.
Each mistake is backprop walked again (the engine's forward pass, g′ and output error)
with one deliberate change, so a student's wrong numbers can be matched to the mistake
that makes them. Nothing a student sends is executed: only their numbers are compared.

Layouts: ours is W⁽ˡ⁾ (n_out, n_in) and b⁽ˡ⁾ (n_out,); the course's is Θ⁽ˡ⁾ =
[b⁽ˡ⁾ W⁽ˡ⁾], the bias column first, (n_out, n_in + 1). Both are read, told apart by shape.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .losses import output_delta
from .network import Network

# A student's float64 backprop differs from ours only by rounding order (~1e-15); the
# course's 1e-9 is for *numerical* gradients (ε = 1e-4). 1e-7 also passes numbers written
# out with 9+ significant digits (CSV, Octave's jsonencode), while the nearest classic
# mistake on a small network (λ/2m for λ/m with a small λ) is still ~1e-4 away.
TOLERANCE = 1e-7

# The course's words for each mistake (what was done, and what the formula says).
MISTAKES: dict[str, str] = {
    "regularized_bias": "The bias terms were regularised. The bias column Θ⁽ˡ⁾(:, 1) (our b⁽ˡ⁾) is "
                        "not regularised: ∂J/∂b = (1/m)·Σ δ⁽ˡ⁺¹⁾, with no λ term.",
    "missing_1_over_m": "The 1/m is missing: D⁽ˡ⁾ = (1/m)·Δ⁽ˡ⁾ + (λ/m)·W⁽ˡ⁾ averages the accumulated "
                        "Δ over the m examples (and J = (1/m)·Σ cost).",
    "sign_flipped": "The sign is flipped. J = −(1/m)·Σ[y·log h + (1 − y)·log(1 − h)] has a minus "
                    "in front, and δ⁽ᴸ⁾ = a⁽ᴸ⁾ − y (not y − a⁽ᴸ⁾).",
    "transposed": "The gradient is transposed. Δ⁽ˡ⁾ += δ⁽ˡ⁺¹⁾·(a⁽ˡ⁾)ᵀ has one row per unit of layer "
                  "l+1 and one column per unit of layer l — the shape of Θ⁽ˡ⁾.",
    "no_regularization": "The regularisation term is missing: with λ > 0, D⁽ˡ⁾ = (1/m)·Δ⁽ˡ⁾ + (λ/m)·W⁽ˡ⁾ "
                         "and J adds λ/(2m)·ΣW².",
    "lambda_scale": "The regularisation has the wrong scale: J adds λ/(2m)·ΣW², so its derivative adds "
                    "(λ/m)·W — not λ/(2m)·W, and not λ/m·ΣW² in J.",
    "missing_g_prime": "δ is missing g′(z): δ⁽ˡ⁾ = (W⁽ˡ⁾)ᵀδ⁽ˡ⁺¹⁾ ⊙ g′(z⁽ˡ⁾) — multiply element-wise "
                       "by the derivative of the activation.",
    "delta_of_bias_unit_kept": "δ of the bias unit was kept: δ₀⁽ˡ⁾ belongs to the bias unit, which has no "
                               "input; drop it (delta2 = delta2(2:end)) before Δ⁽ˡ⁻¹⁾ += δ⁽ˡ⁾(a⁽ˡ⁻¹⁾)ᵀ.",
    "wrong_activation_derivative": "g′ was taken of a instead of z: g′(z⁽ˡ⁾) is e.g. a⁽ˡ⁾(1 − a⁽ˡ⁾) "
                                   "for the sigmoid — sigmoidGradient(z), not sigmoidGradient(a).",
}


class ExerciseError(ValueError):
    """A student's array that cannot be read (wrong shape, not numbers); names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


# -- the problem --------------------------------------------------------------------
def problem_batch(X: np.ndarray, Y: np.ndarray, limit: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """The fixed small batch of the exercise: the first min(limit, m) examples."""
    return X[:limit], Y[:limit]


def to_theta(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Θ⁽ˡ⁾ = [b⁽ˡ⁾ W⁽ˡ⁾]: the course's layout, bias column first."""
    return [np.column_stack([b, W]) for W, b in zip(weights, biases)]


def from_theta(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(W⁽ˡ⁾, b⁽ˡ⁾) from Θ⁽ˡ⁾."""
    return theta[:, 1:], theta[:, 0]


# -- the mistakes -------------------------------------------------------------------
def _regularizer(p: np.ndarray, m: int, l2: float, l1: float) -> np.ndarray:
    """∂/∂p of the penalty λ/(2m)·Σp² (L2) or λ/m·Σ|p| (L1)."""
    return (l2 / m) * p + (l1 / m) * np.sign(p)


def backprop(net: Network, X: np.ndarray, Y: np.ndarray, l2: float = 0.0, l1: float = 0.0, *,
             g_prime: str | None = "z", over_m: bool = True, sign: float = 1.0,
             reg_scale: float = 1.0, reg_bias: bool = False) -> tuple[list, list]:
    """The course's backprop, with knobs for its classic mistakes (defaults = correct):
    g_prime "z" (g′(z)), "a" (g′ evaluated at a) or None (left out); over_m False keeps
    Δ undivided; sign −1 flips δ⁽ᴸ⁾; reg_scale scales (λ/m)·W; reg_bias regularises b."""
    m, t = len(X), net.forward(X)
    L = len(net.sizes) - 1
    delta = [None] * (L + 1)
    delta[L] = sign * output_delta(net.output, net.loss, t.z[L], t.a[L], Y)
    for l in range(L - 1, 0, -1):
        delta[l] = delta[l + 1] @ net.weights[l]
        if g_prime == "z":
            delta[l] = delta[l] * net.g_prime(t.z[l], t.a[l])
        elif g_prime == "a":
            delta[l] = delta[l] * net.g_prime(t.a[l], net.g(t.a[l]))
    n = m if over_m else 1
    grad_W = [delta[l + 1].T @ t.a[l] / n + reg_scale * _regularizer(W, m, l2, l1)
              for l, W in enumerate(net.weights)]
    grad_b = [delta[l + 1].sum(axis=0) / n + (_regularizer(b, m, l2, l1) if reg_bias else 0.0)
              for l, b in enumerate(net.biases)]
    return grad_W, grad_b


def mistaken_gradients(net: Network, X: np.ndarray, Y: np.ndarray, mistake: str,
                       l2: float = 0.0, l1: float = 0.0) -> list[tuple[list, list]]:
    """Every (∂J/∂W, ∂J/∂b) a student with this one mistake may compute."""
    walk = {
        "regularized_bias": [{"reg_bias": True}],
        "missing_1_over_m": [{"over_m": False}],
        "sign_flipped": [{"sign": -1.0}],
        "no_regularization": [{"reg_scale": 0.0}],
        "lambda_scale": [{"reg_scale": 0.5}, {"reg_scale": 2.0}],
        "missing_g_prime": [{"g_prime": None}],
        "wrong_activation_derivative": [{"g_prime": "a"}],
    }
    if mistake in walk:
        variants = [backprop(net, X, Y, l2, l1, **knobs) for knobs in walk[mistake]]
    else:
        variants = []
    dW, db = net.gradients(X, Y, l2=l2, l1=l1)
    if mistake == "missing_1_over_m":      # no 1/m anywhere: m·D
        variants.append(([len(X) * g for g in dW], [len(X) * g for g in db]))
    if mistake == "sign_flipped":          # the whole gradient negated
        variants.append(([-g for g in dW], [-g for g in db]))
    if mistake == "transposed":            # Δ += a·δᵀ: only visible by value when W is square
        variants.append(([g.T for g in dW], db))
    return variants


def mistaken_costs(net: Network, X: np.ndarray, Y: np.ndarray, mistake: str,
                   l2: float = 0.0, l1: float = 0.0) -> list[float]:
    """Every J a student with this one mistake may compute (none for mistakes J cannot show)."""
    m = len(X)
    J0, P = net.cost(X, Y), net.penalty(m, l2, l1)
    bias_penalty = l2 / (2 * m) * sum(float(b @ b) for b in net.biases) + \
        l1 / m * sum(float(np.abs(b).sum()) for b in net.biases)
    return {
        "regularized_bias": [J0 + P + bias_penalty],
        "missing_1_over_m": [m * J0 + P, m * (J0 + P)],
        "sign_flipped": [-J0 + P, -(J0 + P)],
        "no_regularization": [J0],
        "lambda_scale": [J0 + 2 * P, J0 + P / 2],
    }.get(mistake, [])


def theta_with_bias_delta(net: Network, X: np.ndarray, Y: np.ndarray, l2: float = 0.0,
                          l1: float = 0.0) -> list[np.ndarray]:
    """Θ-gradients as a student who keeps δ₀ gets them: every layer feeding a hidden layer
    has an extra first row, δ₀ of the bias unit (a₀ = 1 put through g′ like a unit)."""
    m, t = len(X), net.trace(X, Y, l2, l1)
    thetas = to_theta(t.grad_W, t.grad_b)
    one = np.ones((m, 1))
    for l in range(len(thetas) - 1):     # Θ⁽ˡ⁺¹⁾ feeds hidden layer l+1, whose bias unit is kept
        delta0 = (t.delta[l + 2] @ net.biases[l + 1][:, None]) * net.g_prime(one, one)
        thetas[l] = np.vstack([delta0.T @ np.column_stack([one, t.a[l]]) / m, thetas[l]])
    return thetas


# -- reading the student's arrays ---------------------------------------------------------
@dataclass
class Gradients:
    """The student's gradients in our layout, and what their layout said about them."""

    weights: list
    biases: list
    layout: list = field(default_factory=list)     # per layer: "W" or "theta"
    findings: dict = field(default_factory=dict)   # layout mistake code → layers


def _shape(shape: tuple) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ")"


def read_gradients(net: Network, weights: Sequence, biases: Sequence | None) -> Gradients:
    """Student gradients (W layout with biases, or Θ layout) → ours, by shape. Transposed
    and δ₀-kept layouts are undone and reported; any other shape names the one expected."""
    if len(weights) != len(net.weights):
        raise ExerciseError("weights", f"weights: expected {len(net.weights)} layers (one per "
                                       f"weight matrix), got {len(weights)}")
    out = Gradients([], [])
    for l, (W, g) in enumerate(zip(net.weights, weights)):
        n_out, n_in = W.shape
        hidden = l < len(net.weights) - 1
        note = None
        if g.ndim == 1:       # a one-row matrix as a flat list (Octave's jsonencode writes those)
            g = g.reshape(1, -1)
        if g.shape == (n_out, n_in + 1):
            layout = "theta"
        elif g.shape == (n_in + 1, n_out):
            layout, g, note = "theta", g.T, "transposed"
        elif hidden and g.shape == (n_out + 1, n_in + 1):
            layout, g, note = "theta", g[1:], "delta_of_bias_unit_kept"
        elif g.shape == (n_out, n_in):
            layout = "W"
        elif g.shape == (n_in, n_out):
            layout, g, note = "W", g.T, "transposed"
        else:
            raise ExerciseError("weights", f"weights[{l}]: expected shape {_shape((n_out, n_in))} "
                                           f"(∂J/∂W, our layout) or {_shape((n_out, n_in + 1))} "
                                           f"(Theta{l + 1}_grad, bias column first), got {_shape(g.shape)}")
        if note:
            out.findings.setdefault(note, []).append(l)
        if layout == "theta":
            gW, gb = from_theta(g)
        else:
            if biases is None or l >= len(biases) or biases[l] is None:
                raise ExerciseError("biases", f"biases[{l}]: needed with weights of shape "
                                              f"{_shape((n_out, n_in))}: ∂J/∂b of shape ({n_out},)")
            gW, gb = g, biases[l]
            if gb.size != n_out or gb.ndim > 2 or (gb.ndim == 2 and 1 not in gb.shape):
                raise ExerciseError("biases", f"biases[{l}]: expected shape ({n_out},), got {_shape(gb.shape)}")
            gb = gb.reshape(n_out)
        out.weights.append(gW)
        out.biases.append(gb)
        out.layout.append(layout)
    return out


# -- the check --------------------------------------------------------------------------
def relative_difference(yours, ours) -> float:
    """‖y − o‖ / (‖y‖ + ‖o‖): the course's ‖n − b‖/‖n + b‖ to within 2·itself when small,
    but bounded (1, not 0/0) for a gradient that is exactly ours negated."""
    yours, ours = np.asarray(yours, dtype=np.float64), np.asarray(ours, dtype=np.float64)
    scale = np.linalg.norm(yours) + np.linalg.norm(ours)
    return float(np.linalg.norm(yours - ours) / scale) if scale else 0.0


@dataclass
class Check:
    """The verdict: per part ok, relative differences, and the mistakes recognised."""

    ok: bool
    cost: dict | None                  # {"yours", "ours", "relative_difference", "ok"}
    layers: list                       # per layer {"weights": {...}, "biases": {...}}; weights sent
                                       # transposed or with δ₀ are not ok, all entries differ
    findings: dict                     # mistake code → the layers it shows in (sorted)
    in_cost: list                      # mistake codes J shows
    unexplained: dict                  # "cost" / layer → which parts match no mistake


def _differs(yours: np.ndarray, ours: np.ndarray) -> list:
    """Indices of the entries that differ by more than the tolerance (relative, per entry)."""
    scale = np.abs(yours) + np.abs(ours)
    bad = np.abs(yours - ours) > TOLERANCE * np.maximum(scale, 1e-12)
    return [list(map(int, i)) if len(i) > 1 else int(i[0]) for i in zip(*np.nonzero(bad))]


def check(net: Network, X: np.ndarray, Y: np.ndarray, l2: float = 0.0, l1: float = 0.0,
          cost: float | None = None, grads: Gradients | None = None) -> Check:
    """Compare the student's J and gradients with ours; name each mismatch's mistake."""
    findings: dict[str, set] = {code: set(layers) for code, layers in (grads.findings if grads else {}).items()}
    unexplained: dict = {}
    cost_report, in_cost = None, []
    if cost is not None:
        ours = net.cost(X, Y, l2=l2, l1=l1)
        diff = relative_difference(cost, ours)
        cost_report = {"yours": cost, "ours": ours, "relative_difference": diff, "ok": diff < TOLERANCE}
        if not cost_report["ok"]:
            codes = [c for c in MISTAKES if any(
                relative_difference(cost, v) < TOLERANCE < relative_difference(v, ours)
                for v in mistaken_costs(net, X, Y, c, l2, l1))]
            for c in codes:
                findings.setdefault(c, set())
            in_cost = codes
            if not codes:
                unexplained["cost"] = True
    layers = []
    if grads is not None:
        dW, db = net.gradients(X, Y, l2=l2, l1=l1)
        variants = {c: mistaken_gradients(net, X, Y, c, l2, l1) for c in MISTAKES}
        misplaced = {l for layers in grads.findings.values() for l in layers}
        for l in range(len(dW)):
            entry = {}
            for part, yours, ours in (("weights", grads.weights[l], dW[l]), ("biases", grads.biases[l], db[l])):
                diff = relative_difference(yours, ours)
                ok = diff < TOLERANCE
                entry[part] = {"relative_difference": diff, "ok": ok, "differs": [] if ok else _differs(yours, ours)}
                if part == "weights" and l in misplaced:   # right numbers in the wrong place: all of it
                    entry[part] |= {"ok": False, "differs": [list(i) for i in np.ndindex(ours.shape)]}
                if ok:
                    continue
                k = 0 if part == "weights" else 1
                codes = [c for c, vs in variants.items() if any(
                    v[k][l].shape == yours.shape
                    and relative_difference(yours, v[k][l]) < TOLERANCE < relative_difference(v[k][l], ours)
                    for v in vs)]
                for c in codes:
                    findings.setdefault(c, set()).add(l)
                if not codes:
                    unexplained.setdefault(l, []).append(part)
            layers.append(entry)
    ok = (cost_report is None or cost_report["ok"]) and all(e[p]["ok"] for e in layers for p in e)
    return Check(ok=ok, cost=cost_report, layers=layers,
                 findings={c: sorted(v) for c, v in findings.items()}, in_cost=in_cost,
                 unexplained=unexplained)


__all__ = ["MISTAKES", "TOLERANCE", "Check", "ExerciseError", "Gradients", "backprop", "check",
           "from_theta", "mistaken_costs", "mistaken_gradients", "problem_batch", "read_gradients",
           "relative_difference",
           "theta_with_bias_delta", "to_theta"]
