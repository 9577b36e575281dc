"""Training loops and the small glue between labels and the output layer."""

import operator

import numpy as np

from .losses import output_delta
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


class Workspace:
    """Every parameter of one network in one flat array (the network's weights and biases
    become views of it), and an update's gradient D and change ΔW in two more, laid out
    the same way. A loop of thousands of small updates (batch 1 on 2-8×6-1) spends its
    time in NumPy's per-call overhead, not in arithmetic: this lets `fast_update` take the
    step of all layers in one call and write D and ΔW without new arrays."""

    def __init__(self, net: Network) -> None:
        shapes = [W.shape for W in net.weights] + [b.shape for b in net.biases]
        sizes = [int(np.prod(s)) for s in shapes]
        ends = np.cumsum(sizes).tolist()
        self.slots = [(end - size, end, shape) for shape, size, end in zip(shapes, sizes, ends)]
        self.params, self.grad, self.change = (np.zeros(ends[-1]) for _ in range(3))
        self.W, self.b = self.layers(self.params)
        self.grad_W, self.grad_b = self.layers(self.grad)          # D⁽ˡ⁾ and ∂J/∂b⁽ˡ⁾ of the last update
        self.change_W, self.change_b = self.layers(self.change)    # ΔW⁽ˡ⁾ and Δb⁽ˡ⁾ it made
        self.b_row = [b.reshape(1, -1) for b in self.b]     # (1, n): a batch of 1 adds without broadcasting

    def layers(self, flat: np.ndarray) -> tuple[list, list]:
        """A flat array laid out like `params` as views shaped like (weights, biases)."""
        views = [flat[start:end].reshape(shape) for start, end, shape in self.slots]
        n = len(views) // 2
        return views[:n], views[n:]

    def holds(self, net: Network) -> bool:
        """Whether `net`'s weights and biases are this workspace's views (so `params` is them)."""
        return all(map(operator.is_, net.weights + net.biases, self.W + self.b))

    def bind(self, net: Network) -> None:
        """Make `net`'s weights and biases this workspace's views, with their values, unless
        they already are (assigning new arrays to `net.weights` stays allowed)."""
        if self.holds(net):
            return
        for view, p in zip(self.W + self.b, net.weights + net.biases):
            view[...] = p
        net.weights, net.biases = list(self.W), list(self.b)


def fast_update(net: Network, X: np.ndarray, Y: np.ndarray, optimizer: Optimizer, ws: Workspace,
                l2: float = 0.0, l1: float = 0.0, reg_m: int | None = None) -> None:
    """`train_step`'s update without its trace: the same lines as Network.forward and
    backward and the optimizer's step, in the same order and so bit for bit the same
    weights (tests/test_training.py), with fewer NumPy calls: products by np.dot
    (half matmul's call overhead on small arrays), D and ∂J/∂b written into the
    workspace, Δ/m and Σᵢ skipped when m = 1 (exact), and one gradient-descent step for all
    layers when the optimizer keeps no per-parameter state. Afterwards ws.grad_W,
    ws.grad_b hold D and ws.change_W, ws.change_b the change made."""
    ws.bind(net)
    m, L = X.shape[0], len(ws.W)
    M = reg_m or m
    z, a = [None], [X]
    for l in range(L):                                   # step 2: forward propagation
        zl = np.dot(a[l], ws.W[l].T)
        zl += ws.b_row[l]
        z.append(zl)
        a.append(net.g_out(zl) if l == L - 1 else net.g(zl))
    delta = output_delta(net.output, net.loss, z[L], a[L], Y)
    for l in range(L - 1, -1, -1):                       # step 4: δ⁽ˡ⁺¹⁾ → D⁽ˡ⁾, then δ⁽ˡ⁾
        D, db = ws.grad_W[l], ws.grad_b[l]
        np.dot(delta.T, a[l], out=D)
        if m == 1:                                       # Σᵢ δᵢ of one row is that row
            db[...] = delta[0]
        else:
            np.add.reduce(delta, axis=0, out=db)         # np.sum, without its wrapper's cost
            D /= m
            db /= m
        if l2:
            D += (l2 / M) * ws.W[l]
        if l1:
            D += (l1 / M) * np.sign(ws.W[l])
        if l:
            delta = np.dot(delta, ws.W[l]) * net.g_prime(z[l], a[l])
    if optimizer.per_parameter_state:                    # step 6
        changes = optimizer.step(ws.W + ws.b, ws.grad_W + ws.grad_b)
        for view, change in zip(ws.change_W + ws.change_b, changes):
            view[...] = change
    else:
        ws.change[...] = optimizer.step([ws.params], [ws.grad])[0]


def train_epoch(net: Network, X: np.ndarray, Y: np.ndarray, optimizer: Optimizer,
                batch_size: int, rng: np.random.Generator, l2: float = 0.0,
                l1: float = 0.0) -> int:
    """One pass over the training set in shuffled mini-batches; returns the updates made.
    The network's own arrays are updated in place, as `train_step` does."""
    weights, biases = net.weights, net.biases
    ws = Workspace(net)
    steps = 0
    for idx in minibatches(len(X), batch_size, rng):   # take: X[idx] without fancy indexing's cost
        fast_update(net, X.take(idx, axis=0), Y.take(idx, axis=0), optimizer, ws, l2, l1, reg_m=len(X))
        steps += 1
    for p, view in zip(weights + biases, ws.W + ws.b):
        p[...] = view
    net.weights, net.biases = weights, biases
    return steps
