"""Step 5: gradient checking. The numerical gradient nudges every parameter by ±ε and
re-runs the forward pass — 2 passes per parameter — where backprop gets all of them
from one forward and one backward pass. Both are timed so the page can show why
backprop is used for training and the numerical gradient only to check it.
"""

import time
from dataclasses import dataclass

import numpy as np

from .network import Network


def _params(net: Network) -> list[np.ndarray]:
    return [*net.weights, *net.biases]


def numerical_gradients(net: Network, X: np.ndarray, Y: np.ndarray, l2: float = 0.0,
                        eps: float = 1e-4, l1: float = 0.0,
                        reg_m: int | None = None) -> tuple[list, list]:
    """(∂J/∂W, ∂J/∂b) by central differences (J(θ+ε) − J(θ−ε)) / 2ε, every parameter;
    reg_m is the penalty's m as in `Network.cost`."""
    grads = _central_differences(net, X, Y, l2, l1, eps, None, reg_m)
    n = len(net.weights)
    return grads[:n], grads[n:]


def _central_differences(net: Network, X: np.ndarray, Y: np.ndarray, l2: float, l1: float,
                         eps: float, mask: list | None, reg_m: int | None) -> list[np.ndarray]:
    """Numerical gradient of every parameter (or only where mask is True; NaN elsewhere).

    Each parameter is nudged through its own index, never through a reshaped copy, so
    any array the user assigned works: a slice such as the course's Θ[:, 1:], a
    transposed or Fortran-ordered array. A read-only array is nudged in a copy."""
    grads = []
    for k, p in enumerate(_params(net)):
        if not p.flags.writeable:
            p = _replace_param(net, k, p.copy())
        g = np.full(p.shape, np.nan) if mask is not None else np.zeros(p.shape)
        chosen = zip(*np.nonzero(mask[k])) if mask is not None else np.ndindex(p.shape)
        for i in chosen:
            old = p[i]
            p[i] = old + eps
            plus = net.cost(X, Y, l2, l1, reg_m)
            p[i] = old - eps
            minus = net.cost(X, Y, l2, l1, reg_m)
            p[i] = old
            g[i] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads


def _replace_param(net: Network, k: int, array: np.ndarray) -> np.ndarray:
    n = len(net.weights)
    if k < n:
        net.weights[k] = array
    else:
        net.biases[k - n] = array
    return array


def relative_difference(numerical: np.ndarray, backprop: np.ndarray) -> float:
    """‖n − b‖ / ‖n + b‖, the course's measure (0 when both are zero)."""
    denominator = np.linalg.norm(numerical + backprop)
    if denominator == 0:
        return 0.0
    return float(np.linalg.norm(numerical - backprop) / denominator)


@dataclass
class GradientCheck:
    """Result of comparing backprop with the numerical gradient on one batch."""

    relative_difference: float
    backprop: list            # ∂J/∂W then ∂J/∂b per layer, by backprop
    numerical: list           # same shapes; NaN where a parameter was not sampled
    backprop_seconds: float
    numerical_seconds: float
    forward_passes: dict      # {"backprop": 1 forward + 1 backward ≈ 2, "numerical": 2·checked}
    parameters: int           # total parameters in the network
    checked: int              # parameters checked numerically (all, unless capped)


# Backprop vs central differences (ε = 1e-4, the course's): below this, backprop is right.
# The course quotes 1e-9 for its tiny debug network (weights ≈ 0.1); central differences
# themselves err by ≈ ε²·J‴/6, which on our networks and data (inputs up to ±6, trained
# weights) measures 1e-9 … 1.4e-7 for a correct backprop, while each classic mistake
# gives 1e-3 or more (tests/test_exercise.py). 1e-6 keeps both sides clear.
THRESHOLD = 1e-6


def gradient_check(net: Network, X: np.ndarray, Y: np.ndarray, l2: float = 0.0,
                   l1: float = 0.0, eps: float = 1e-4, max_params: int | None = None,
                   seed: int = 0, reg_m: int | None = None) -> GradientCheck:
    """Backprop vs central differences; checks a random sample of max_params parameters
    when the network has more, so a large network does not stall the server. reg_m: the
    penalty's m (the training set's, when (X, Y) is a batch of it)."""
    params = _params(net)
    total = sum(p.size for p in params)
    mask = None
    if max_params is not None and max_params < total:
        chosen = np.zeros(total, dtype=bool)
        chosen[np.random.default_rng(seed).choice(total, size=max_params, replace=False)] = True
        sizes = np.cumsum([p.size for p in params])[:-1]
        mask = [m.reshape(p.shape) for m, p in zip(np.split(chosen, sizes), params)]

    start = time.perf_counter()
    dW, db = net.gradients(X, Y, l2, l1, reg_m)
    backprop_seconds = time.perf_counter() - start
    backprop = [*dW, *db]

    start = time.perf_counter()
    numerical = _central_differences(net, X, Y, l2, l1, eps, mask, reg_m)
    numerical_seconds = time.perf_counter() - start

    n_flat = np.concatenate([g.ravel() for g in numerical])
    b_flat = np.concatenate([g.ravel() for g in backprop])
    checked = np.isfinite(n_flat)
    return GradientCheck(
        relative_difference=relative_difference(n_flat[checked], b_flat[checked]),
        backprop=backprop, numerical=numerical,
        backprop_seconds=backprop_seconds, numerical_seconds=numerical_seconds,
        forward_passes={"backprop": 2, "numerical": 2 * int(checked.sum())},
        parameters=total, checked=int(checked.sum()),
    )


@dataclass
class Probe:
    """δ of one unit next to the slope of J when its z is nudged: δ = ∂J/∂z."""

    numerical: float          # (J(z+h) − J(z−h)) / 2h on the batch, z of every example nudged
    delta: float              # the batch's mean δ of that unit (what the batch J's slope is)
    cost_plus: float
    cost_minus: float
    focus_numerical: float    # the same for the focus example alone: its own cost's slope
    focus_delta: float        # its own δ
    m: int


def probe_delta(net: Network, X: np.ndarray, Y: np.ndarray, layer: int, unit: int, h: float,
                focus: int = 0, l2: float = 0.0, l1: float = 0.0,
                reg_m: int | None = None) -> Probe:
    """Nudge z⁽ˡᵃʸᵉʳ⁾ of `unit` by ±h and watch J: on the batch (X, Y) — whose slope is the
    batch's mean δ — and on the focus example (row `focus`) alone, whose slope is its δ."""
    t = net.trace(X, Y, l2, l1, reg_m)

    def slope(rows: slice) -> tuple[float, float, float]:
        plus, minus = t.z[layer][rows].copy(), t.z[layer][rows].copy()
        plus[:, unit] += h
        minus[:, unit] -= h
        j_plus = net.cost_from_z(layer, plus, Y[rows], l2, l1, reg_m)
        j_minus = net.cost_from_z(layer, minus, Y[rows], l2, l1, reg_m)
        return (j_plus - j_minus) / (2 * h), j_plus, j_minus

    numerical, j_plus, j_minus = slope(slice(None))
    focus_numerical = slope(slice(focus, focus + 1))[0]
    return Probe(numerical=numerical, delta=float(t.delta[layer][:, unit].mean()),
                 cost_plus=j_plus, cost_minus=j_minus, focus_numerical=focus_numerical,
                 focus_delta=float(t.delta[layer][focus, unit]), m=len(X))


def cost_sweep(sizes: list[int], X: np.ndarray, Y: np.ndarray, activation: str, output: str,
               loss: str, seed: int = 0, widths: tuple[int, ...] = (1, 2, 4, 8, 16),
               sample: int = 60) -> list[dict]:
    """How both methods' cost grows with the network: the same depth, every hidden layer
    set to each width. Backprop is timed (repeated to ~10 ms); the numerical gradient is
    timed on a sample of parameters and scaled to all of them ("sampled" says so)."""
    rows = []
    for width in widths:
        hidden = [width] * (len(sizes) - 2)
        net = Network([sizes[0], *hidden, sizes[-1]], activation=activation, output=output,
                      loss=loss, seed=seed)
        checked = min(net.n_params, sample)
        check = gradient_check(net, X, Y, max_params=checked)
        repeats = max(1, int(0.01 / max(check.backprop_seconds, 1e-6)))
        start = time.perf_counter()
        for _ in range(repeats):
            net.gradients(X, Y)
        backprop = (time.perf_counter() - start) / repeats
        rows.append({"width": width, "parameters": net.n_params, "backprop_seconds": backprop,
                     "numerical_seconds": check.numerical_seconds * net.n_params / checked,
                     "forward_passes": {"backprop": 2, "numerical": 2 * net.n_params},
                     "sampled": checked < net.n_params})
    return rows
