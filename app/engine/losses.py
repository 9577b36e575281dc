"""The unregularised cost J and the output-layer error δ⁽ᴸ⁾ = ∂J/∂z⁽ᴸ⁾.

Costs are averaged over the m examples. Cross-entropy with sigmoid outputs sums
over the output units (the course's one-vs-all J); with softmax it is the usual
categorical cross-entropy. MSE is (1/2m)·Σ‖h − y‖².

For the "matching" pairs (sigmoid or softmax with cross-entropy, linear with
MSE) the output error is simply δ⁽ᴸ⁾ = a⁽ᴸ⁾ − y, as in the course; other pairs
get the full chain rule.
"""

import numpy as np

from .activations import sigmoid

LOSSES = ("cross_entropy", "mse")


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def example_costs(output: str, loss: str, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each example's cost, summed over output units, shape (m,); uses z so that
    log h never sees h = 0."""
    if loss == "mse":
        return 0.5 * np.sum((a - y) ** 2, axis=1)
    if output == "sigmoid":
        # −y·log σ(z) − (1−y)·log(1−σ(z)) = y·softplus(−z) + (1−y)·softplus(z)
        return np.sum(y * _softplus(-z) + (1.0 - y) * _softplus(z), axis=1)
    # softmax: −Σ y·log softmax(z), with log softmax = z − logsumexp(z)
    log_h = z - np.logaddexp.reduce(z, axis=1, keepdims=True)
    return -np.sum(y * log_h, axis=1)


def cost(output: str, loss: str, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> float:
    """J(h, y): the examples' costs averaged over the m examples."""
    return float(np.sum(example_costs(output, loss, z, a, y)) / y.shape[0])


def output_g_prime(output: str, z: np.ndarray, a: np.ndarray) -> np.ndarray | None:
    """g′(z⁽ᴸ⁾) of an elementwise output function; None for softmax (not elementwise)."""
    if output == "sigmoid":
        return a * (1.0 - a)
    if output == "linear":
        return np.ones_like(z)
    return None


def output_delta(output: str, loss: str, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """δ⁽ᴸ⁾ per example: ∂(cost of example i)/∂z⁽ᴸ⁾, shape (m, n_out)."""
    if loss == "cross_entropy" or output == "linear":
        return a - y
    dJ_da = a - y  # MSE with a squashing output: multiply by the output's g′
    if output == "sigmoid":
        return dJ_da * a * (1.0 - a)
    # softmax Jacobian: ∂a_k/∂z_j = a_k(δ_kj − a_j)
    return a * (dJ_da - np.sum(dJ_da * a, axis=1, keepdims=True))


__all__ = ["LOSSES", "cost", "example_costs", "output_delta", "output_g_prime", "sigmoid"]
