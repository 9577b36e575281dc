"""Training loops and the small glue between labels and the output layer."""

import numpy as np

from .network import Network
from .optimizers import Optimizer, minibatches


def one_hot_targets(y: np.ndarray, n_out: int) -> np.ndarray:
    """Labels → the Y matrix the output layer is trained against.

    One output unit (binary sigmoid, or regression): a column of the labels/targets.
    Several units: one-hot rows — one-vs-all with sigmoid outputs, as in the course,
    or a distribution for softmax.
    """
    if n_out == 1:
        return np.asarray(y, dtype=np.float64).reshape(-1, 1)
    Y = np.zeros((len(y), n_out))
    Y[np.arange(len(y)), np.asarray(y, dtype=np.int64)] = 1.0
    return Y


def accuracy(net: Network, X: np.ndarray, y: np.ndarray) -> float:
    """Share of rows whose predicted class (threshold 0.5, or the largest output) is y."""
    h = net.predict(X)
    predicted = (h[:, 0] >= 0.5).astype(np.int64) if h.shape[1] == 1 else h.argmax(axis=1)
    return float(np.mean(predicted == y))


def apply_gradients(net: Network, optimizer: Optimizer, grad_W: list, grad_b: list) -> tuple[list, list]:
    """Step 6 on the network's own arrays: W ← W − α·D (or the optimizer's direction).
    Returns the changes (ΔW, Δb) it made."""
    changes = optimizer.step([*net.weights, *net.biases], [*grad_W, *grad_b])
    n = len(net.weights)
    return changes[:n], changes[n:]


def train_step(net: Network, X: np.ndarray, Y: np.ndarray, optimizer: Optimizer,
               l2: float = 0.0, l1: float = 0.0, reg_m: int | None = None):
    """One update from one batch: backprop (steps 2–4) then gradient descent (step 6)."""
    t = net.trace(X, Y, l2, l1, reg_m)
    changes = apply_gradients(net, optimizer, t.grad_W, t.grad_b)
    return t, [*changes[0], *changes[1]]


def train_epoch(net: Network, X: np.ndarray, Y: np.ndarray, optimizer: Optimizer,
                batch_size: int, rng: np.random.Generator, l2: float = 0.0,
                l1: float = 0.0) -> int:
    """One pass over the training set in shuffled mini-batches; returns the updates made."""
    steps = 0
    for idx in minibatches(len(X), batch_size, rng):
        train_step(net, X[idx], Y[idx], optimizer, l2, l1, reg_m=len(X))
        steps += 1
    return steps
