"""A multilayer perceptron trained by backpropagation, written as the course's algorithm.

Notation (Andrew Ng, Machine Learning, week 5), with layers counted from 0 here:
  a[0] = x                                  the input layer
  z[l+1] = a[l] Wᵀ[l] + b[l]                weighted input of layer l+1
  a[l+1] = g(z[l+1])                        its activation (the output layer uses its own g)
  δ[L] = a[L] − y                           error of the output layer
  δ[l] = (δ[l+1] W[l]) ⊙ g′(z[l])           error of a hidden layer, carried backwards
  Δ[l] = Σᵢ δ[l+1]ᵢ a[l]ᵢᵀ                  accumulated over the m examples
  D[l] = Δ[l]/m + (λ/m) W[l]                ∂J/∂W[l]; biases are not regularised

Rows of every array are examples, so a whole batch goes through each line at once.

Mini-batches: J is the cost of the whole training set, J = (1/M)Σ cost + λ/(2M)ΣW².
A batch of m examples estimates its gradient as Δ/m + (λ/M)·W, so the penalty's M
(`reg_m`) is the training-set size while Δ is averaged over the batch. With the full
batch (the course's gradient descent) M = m and this is exactly D above.
"""

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .activations import HIDDEN, OUTPUT
from .initializers import INITS, init_layer
from .losses import LOSSES, cost, example_costs, output_delta

MAX_HIDDEN_LAYERS = 6


@dataclass
class Trace:
    """What one forward (and optionally backward) pass computed, per layer l (0 = input).

    z[l]      (m, sizes[l])  weighted input of layer l; z[0] is None
    a[l]      (m, sizes[l])  activation of layer l; a[0] is the input x
    delta[l]  (m, sizes[l])  δ: ∂(cost of example i)/∂z[l] for each example i; delta[0] is None
    grad_W[l] (sizes[l+1], sizes[l])  ∂J/∂W[l] over the batch, regularisation included (D)
    grad_b[l] (sizes[l+1],)           ∂J/∂b[l] over the batch
    """

    z: list
    a: list
    delta: list | None = None
    grad_W: list | None = None
    grad_b: list | None = None


def _check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f"{name}: unknown value {value!r}; choose one of {', '.join(choices)}")


class Network:
    """A fully connected network: sizes[0] inputs, sizes[-1] outputs, hidden layers between.

    weights[l] has shape (sizes[l+1], sizes[l]) — row i holds the weights *into* unit i
    of layer l+1 — and biases[l] has shape (sizes[l+1],).
    """

    def __init__(self, sizes: Sequence[int], activation: str = "tanh", output: str = "sigmoid",
                 loss: str = "cross_entropy", init: str = "uniform",
                 init_epsilon: float | str = 0.12, seed: int = 0) -> None:
        sizes = list(sizes)
        if len(sizes) < 2 or len(sizes) > MAX_HIDDEN_LAYERS + 2:
            raise ValueError(f"sizes: need an input and an output layer and at most "
                             f"{MAX_HIDDEN_LAYERS} hidden layers, got {sizes}")
        if any(not isinstance(n, (int, np.integer)) or n < 1 for n in sizes):
            raise ValueError(f"sizes: every layer needs at least 1 unit, got {sizes}")
        _check_choice("init", init, INITS)
        if init_epsilon != "auto" and not float(init_epsilon) >= 0:
            raise ValueError(f"init_epsilon: must be 'auto' or a number ≥ 0, got {init_epsilon!r}")
        self.sizes = [int(n) for n in sizes]
        self.set_functions(activation, output, loss)
        self.init, self.init_epsilon, self.seed = init, init_epsilon, seed
        rng = np.random.default_rng(seed)
        layers = [init_layer(init, n_in, n_out, init_epsilon, rng)
                  for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:])]
        self.weights = [W for W, _ in layers]
        self.biases = [b for _, b in layers]

    def set_functions(self, activation: str, output: str, loss: str) -> None:
        """Choose g (hidden), the output's g and the loss; weights are kept."""
        _check_choice("activation", activation, tuple(HIDDEN))
        _check_choice("output", output, tuple(OUTPUT))
        _check_choice("loss", loss, LOSSES)
        if output == "linear" and loss == "cross_entropy":
            raise ValueError("loss: cross_entropy needs a sigmoid or softmax output; use mse "
                             "with a linear output")
        self.activation, self.output, self.loss = activation, output, loss
        self.g, self.g_prime = HIDDEN[activation]
        self.g_out = OUTPUT[output]

    @property
    def n_params(self) -> int:
        return sum(W.size + b.size for W, b in zip(self.weights, self.biases))

    # -- checks -----------------------------------------------------------------
    def _check_xy(self, X: np.ndarray, Y: np.ndarray | None = None) -> None:
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(f"X: expected shape (m, {self.sizes[0]}), got {X.shape}")
        if Y is not None and (Y.ndim != 2 or Y.shape != (X.shape[0], self.sizes[-1])):
            raise ValueError(f"Y: expected shape ({X.shape[0]}, {self.sizes[-1]}), got {Y.shape}")

    # -- step 2: forward propagation ----------------------------------------------
    def forward(self, X: np.ndarray) -> Trace:
        """z and a for every layer, for every row of X."""
        self._check_xy(X)
        z: list = [None]
        a: list = [X]
        last = len(self.weights) - 1
        for l, (W, b) in enumerate(zip(self.weights, self.biases)):
            z.append(a[l] @ W.T + b)
            a.append(self.g_out(z[-1]) if l == last else self.g(z[-1]))
        return Trace(z=z, a=a)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """h(x) = a[L], the network's output for every row of X."""
        return self.forward(X).a[-1]

    # -- step 3: the cost J -----------------------------------------------------
    def penalty(self, m: int, l2: float = 0.0, l1: float = 0.0) -> float:
        """λ/(2m)·ΣW² (L2, the course's) and/or λ/m·Σ|W| (L1); biases excluded."""
        total = 0.0
        if l2:
            total += l2 / (2 * m) * sum(float(np.sum(W * W)) for W in self.weights)
        if l1:
            total += l1 / m * sum(float(np.sum(np.abs(W))) for W in self.weights)
        return total

    def cost(self, X: np.ndarray, Y: np.ndarray, l2: float = 0.0, l1: float = 0.0,
             reg_m: int | None = None) -> float:
        """J(W) on the batch (X, Y), averaged over its m rows; the penalty divides by
        reg_m (the training-set size) when given, else by m."""
        self._check_xy(X, Y)
        t = self.forward(X)
        return cost(self.output, self.loss, t.z[-1], t.a[-1], Y) + self.penalty(reg_m or len(X), l2, l1)

    def example_costs(self, t: Trace, Y: np.ndarray) -> np.ndarray:
        """Each example's own cost (unregularised), shape (m,): J is their mean + penalty."""
        return example_costs(self.output, self.loss, t.z[-1], t.a[-1], Y)

    def cost_from_z(self, layer: int, z: np.ndarray, Y: np.ndarray,
                    l2: float = 0.0, l1: float = 0.0, reg_m: int | None = None) -> float:
        """J when layer `layer`'s weighted input is forced to z: the rest of the forward pass.

        Nudging z and watching J move is what δ measures: δ = ∂J/∂z.
        """
        if not 1 <= layer < len(self.sizes):
            raise ValueError(f"layer: must be between 1 and {len(self.sizes) - 1}, got {layer}")
        last = len(self.weights) - 1
        a = self.g_out(z) if layer == last + 1 else self.g(z)
        for l in range(layer, last + 1):
            z = a @ self.weights[l].T + self.biases[l]
            a = self.g_out(z) if l == last else self.g(z)
        return cost(self.output, self.loss, z, a, Y) + self.penalty(reg_m or len(Y), l2, l1)

    # -- step 4: backpropagation --------------------------------------------------
    def backward(self, t: Trace, Y: np.ndarray, l2: float = 0.0, l1: float = 0.0,
                 reg_m: int | None = None) -> Trace:
        """Fill t.delta (δ per layer) and t.grad_W / t.grad_b (D) from a forward trace."""
        m = Y.shape[0]
        M = reg_m or m                                  # the penalty's m (see the top)
        L = len(self.sizes) - 1
        delta: list = [None] * (L + 1)
        delta[L] = output_delta(self.output, self.loss, t.z[L], t.a[L], Y)
        for l in range(L - 1, 0, -1):
            delta[l] = (delta[l + 1] @ self.weights[l]) * self.g_prime(t.z[l], t.a[l])
        grad_W, grad_b = [], []
        for l, W in enumerate(self.weights):
            D = delta[l + 1].T @ t.a[l] / m            # Δ/m
            if l2:
                D += (l2 / M) * W
            if l1:
                D += (l1 / M) * np.sign(W)
            grad_W.append(D)
            grad_b.append(delta[l + 1].sum(axis=0) / m)
        t.delta, t.grad_W, t.grad_b = delta, grad_W, grad_b
        return t

    def trace(self, X: np.ndarray, Y: np.ndarray, l2: float = 0.0, l1: float = 0.0,
              reg_m: int | None = None) -> Trace:
        """Forward then backward on (X, Y): every z, a, δ and D."""
        self._check_xy(X, Y)
        return self.backward(self.forward(X), Y, l2, l1, reg_m)

    def gradients(self, X: np.ndarray, Y: np.ndarray, l2: float = 0.0,
                  l1: float = 0.0, reg_m: int | None = None) -> tuple[list, list]:
        """(∂J/∂W, ∂J/∂b) by backpropagation, shaped like weights and biases."""
        t = self.trace(X, Y, l2, l1, reg_m)
        return t.grad_W, t.grad_b

    # -- helpers --------------------------------------------------------------------
    def with_params(self, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> "Network":
        """The same network (functions, sizes) with other parameters; self is unchanged.
        The arrays are used as they are, not copied (read-only ones are fine)."""
        other = copy.copy(self)
        other.weights, other.biases = list(weights), list(biases)
        return other

    def copy_params(self) -> tuple[list, list]:
        return [W.copy() for W in self.weights], [b.copy() for b in self.biases]

    def set_params(self, weights: Sequence, biases: Sequence) -> None:
        """Replace every parameter, checking shapes (used by import and the timeline)."""
        weights = [np.asarray(W, dtype=np.float64) for W in weights]
        biases = [np.asarray(b, dtype=np.float64) for b in biases]
        if len(weights) != len(self.weights) or len(biases) != len(self.biases):
            raise ValueError(f"weights: expected {len(self.weights)} layers, got {len(weights)}")
        for l, (W, b) in enumerate(zip(weights, biases)):
            if W.shape != self.weights[l].shape:
                raise ValueError(f"weights: layer {l} must have shape {self.weights[l].shape}, "
                                 f"got {W.shape}")
            if b.shape != self.biases[l].shape:
                raise ValueError(f"biases: layer {l} must have shape {self.biases[l].shape}, "
                                 f"got {b.shape}")
            if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
                raise ValueError(f"weights: layer {l} contains NaN or infinite values")
        self.weights, self.biases = weights, biases
