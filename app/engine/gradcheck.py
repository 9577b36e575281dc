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
                        eps: float = 1e-4, l1: float = 0.0) -> tuple[list, list]:
    """(∂J/∂W, ∂J/∂b) by central differences (J(θ+ε) − J(θ−ε)) / 2ε, every parameter."""
    grads = _central_differences(net, X, Y, l2, l1, eps, None)
    n = len(net.weights)
    return grads[:n], grads[n:]


def _central_differences(net: Network, X: np.ndarray, Y: np.ndarray, l2: float, l1: float,
                         eps: float, mask: list | None) -> list[np.ndarray]:
    """Numerical gradient of every parameter (or only where mask is True; NaN elsewhere)."""
    grads = []
    for k, p in enumerate(_params(net)):
        g = np.full(p.shape, np.nan) if mask is not None else np.zeros(p.shape)
        flat, gflat = p.reshape(-1), g.reshape(-1)
        indices = np.flatnonzero(mask[k]) if mask is not None else range(flat.size)
        for i in indices:
            old = flat[i]
            flat[i] = old + eps
            plus = net.cost(X, Y, l2, l1)
            flat[i] = old - eps
            minus = net.cost(X, Y, l2, l1)
            flat[i] = old
            gflat[i] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads


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


def gradient_check(net: Network, X: np.ndarray, Y: np.ndarray, l2: float = 0.0,
                   l1: float = 0.0, eps: float = 1e-4, max_params: int | None = None,
                   seed: int = 0) -> GradientCheck:
    """Backprop vs central differences; checks a random sample of max_params parameters
    when the network has more, so a large network does not stall the server."""
    params = _params(net)
    total = sum(p.size for p in params)
    mask = None
    if max_params is not None and max_params < total:
        chosen = np.zeros(total, dtype=bool)
        chosen[np.random.default_rng(seed).choice(total, size=max_params, replace=False)] = True
        sizes = np.cumsum([p.size for p in params])[:-1]
        mask = [m.reshape(p.shape) for m, p in zip(np.split(chosen, sizes), params)]

    start = time.perf_counter()
    dW, db = net.gradients(X, Y, l2, l1)
    backprop_seconds = time.perf_counter() - start
    backprop = [*dW, *db]

    start = time.perf_counter()
    numerical = _central_differences(net, X, Y, l2, l1, eps, mask)
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
