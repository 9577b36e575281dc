"""Activation functions g(z) and their derivatives g′(z), by name.

Each entry is a pair (g, g_prime). g′ takes both z and a = g(z) because for
sigmoid and tanh the derivative is cheapest written with a: σ′(z) = a(1 − a).
"""

from collections.abc import Callable

import numpy as np

Array = np.ndarray


def sigmoid(z: Array) -> Array:
    # tanh form: exact, overflow-free for large |z|, and one ufunc.
    return 0.5 * (np.tanh(0.5 * z) + 1.0)


def softmax(z: Array) -> Array:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


HIDDEN: dict[str, tuple[Callable[[Array], Array], Callable[[Array, Array], Array]]] = {
    "sigmoid": (sigmoid, lambda z, a: a * (1.0 - a)),
    "tanh": (np.tanh, lambda z, a: 1.0 - a * a),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0.0).astype(z.dtype)),
    "linear": (lambda z: z, lambda z, a: np.ones_like(z)),
}

OUTPUT: dict[str, Callable[[Array], Array]] = {
    "sigmoid": sigmoid,
    "softmax": softmax,
    "linear": lambda z: z,
}
