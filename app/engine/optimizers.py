"""Step 6: gradient descent and its variants. Each optimizer updates the network's
arrays in place and returns the change it made (ΔW, Δb) so the page can flash it.

"gd" is the course's full-batch gradient descent, "sgd" the same rule on
mini-batches; the batching itself lives in `train_epoch`.
"""

from collections.abc import Iterator

import numpy as np

OPTIMIZERS = ("gd", "sgd", "momentum", "adam")


class Optimizer:
    """W ← W − α·D."""

    # False: the rule is the same for every element and remembers nothing, so one step
    # over all parameters in one flat array is the same as a step per layer.
    per_parameter_state = False

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = learning_rate

    def direction(self, i: int, grad: np.ndarray) -> np.ndarray:
        return grad

    def state(self) -> dict[str, np.ndarray]:
        """What the optimizer remembers between updates, as named arrays (copies)."""
        return {}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Continue from a `state()` (a fork, a restored session)."""

    def step(self, params: list, grads: list) -> list:
        changes = []
        for i, (p, g) in enumerate(zip(params, grads)):
            change = -self.learning_rate * self.direction(i, g)
            p += change
            changes.append(change)
        return changes


class Momentum(Optimizer):
    """v ← βv + D; W ← W − α·v."""

    per_parameter_state = True

    def __init__(self, learning_rate: float, beta: float = 0.9) -> None:
        super().__init__(learning_rate)
        self.beta = beta
        self.velocity: dict[int, np.ndarray] = {}

    def direction(self, i: int, grad: np.ndarray) -> np.ndarray:
        v = self.velocity.get(i)
        v = grad.copy() if v is None else self.beta * v + grad
        self.velocity[i] = v
        return v

    def state(self) -> dict[str, np.ndarray]:
        return {f"v{i}": v.copy() for i, v in self.velocity.items()}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.velocity = {int(k[1:]): np.array(v) for k, v in state.items()}


class Adam(Optimizer):
    """Adam (Kingma & Ba): per-parameter steps from running moments of D."""

    per_parameter_state = True

    def __init__(self, learning_rate: float, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8) -> None:
        super().__init__(learning_rate)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.moments: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}

    def direction(self, i: int, grad: np.ndarray) -> np.ndarray:
        m, v, t = self.moments.get(i, (np.zeros_like(grad), np.zeros_like(grad), 0))
        t += 1
        m = self.beta1 * m + (1 - self.beta1) * grad
        v = self.beta2 * v + (1 - self.beta2) * grad * grad
        self.moments[i] = (m, v, t)
        m_hat = m / (1 - self.beta1 ** t)
        v_hat = v / (1 - self.beta2 ** t)
        return m_hat / (np.sqrt(v_hat) + self.eps)

    def state(self) -> dict[str, np.ndarray]:
        out = {}
        for i, (m, v, t) in self.moments.items():
            out[f"m{i}"], out[f"v{i}"], out[f"t{i}"] = m.copy(), v.copy(), np.array(t)
        return out

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        ids = {int(k[1:]) for k in state}
        self.moments = {i: (np.array(state[f"m{i}"]), np.array(state[f"v{i}"]), int(state[f"t{i}"]))
                        for i in ids}


def make_optimizer(name: str, learning_rate: float) -> Optimizer:
    if name in ("gd", "sgd"):
        return Optimizer(learning_rate)
    if name == "momentum":
        return Momentum(learning_rate)
    if name == "adam":
        return Adam(learning_rate)
    raise ValueError(f"optimizer: unknown value {name!r}; choose one of {', '.join(OPTIMIZERS)}")


def minibatches(m: int, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Index arrays covering 0..m−1 once, shuffled, batch_size at a time (the last may be short)."""
    if batch_size < 1:
        raise ValueError(f"batch_size: must be at least 1, got {batch_size}")
    order = rng.permutation(m) if batch_size < m else np.arange(m)
    for start in range(0, m, batch_size):
        yield order[start:start + batch_size]
