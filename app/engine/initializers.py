"""Initial weights. Random ones break the symmetry between hidden units; zeros and
constant exist to show what goes wrong without it (every unit of a layer computes
the same thing and receives the same update, forever)."""

import numpy as np

INITS = ("uniform", "glorot", "he", "zeros", "constant")


def init_layer(kind: str, n_in: int, n_out: int, epsilon: float | str,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(W, b) for one layer: W of shape (n_out, n_in), b of shape (n_out,)."""
    if kind == "uniform":
        # The course: Θ uniform in [−ε, ε], bias column included; "auto" picks
        # ε = √6/√(L_in + L_out) for this layer.
        eps = np.sqrt(6.0) / np.sqrt(n_in + n_out) if epsilon == "auto" else float(epsilon)
        theta = rng.uniform(-eps, eps, size=(n_out, n_in + 1))
        return theta[:, 1:].copy(), theta[:, 0].copy()
    if kind == "glorot":
        return rng.normal(0.0, np.sqrt(2.0 / (n_in + n_out)), (n_out, n_in)), np.zeros(n_out)
    if kind == "he":
        return rng.normal(0.0, np.sqrt(2.0 / n_in), (n_out, n_in)), np.zeros(n_out)
    if kind == "zeros":
        return np.zeros((n_out, n_in)), np.zeros(n_out)
    if kind == "constant":
        c = 0.5 if epsilon == "auto" else float(epsilon)
        return np.full((n_out, n_in), c), np.full(n_out, c)
    raise ValueError(f"init: unknown initializer {kind!r}; choose one of {', '.join(INITS)}")
