"""The training state of one session — network, optimizer, batch order, counters and the
cursor — and the commands that move it: a phase, an example, a batch.

This is the one mutable piece of the core (it owns the working arrays the hot loop
updates in place); everything it shows the world is an immutable `Moment` built by
`moment()`, and `restore(moment)` continues from one exactly.
"""

from __future__ import annotations

import time

import numpy as np

from app.engine import Network, make_optimizer
from app.engine.diagnosis import stalled_layer
from app.engine.training import Workspace, fast_update

from . import cursor as c
from .moment import BatchState, Moment, frozen_arrays

WEIGHT_LIMIT = 1e6
CHECK_EVERY = 16      # updates between blow-up checks (one costs ~20 % of a small update)


class BatchOrder:
    """Shuffled mini-batches, epoch after epoch, from a seeded generator whose state
    (with the epoch's order and position) is part of every moment."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.order: np.ndarray | None = None
        self.position = 0

    def next(self, m: int, batch_size: int) -> np.ndarray:
        if self.order is None or self.position >= len(self.order):
            self.order = self.rng.permutation(m) if batch_size < m else np.arange(m)
            self.position = 0
        batch = self.order[self.position:self.position + batch_size]
        self.position += len(batch)
        return batch

    def state(self) -> BatchState:
        return BatchState(rng=self.rng.bit_generator.state,
                          order=None if self.order is None else self.order.copy(),
                          position=self.position)

    def restore(self, state: BatchState) -> None:
        self.rng.bit_generator.state = state.rng
        self.order = None if state.order is None else np.array(state.order)
        self.position = state.position


class Trainer:
    def __init__(self, network: Network, X: np.ndarray, Y: np.ndarray, config: dict) -> None:
        self.network, self.X, self.Y = network, X, Y
        self.optimizer = make_optimizer(config["optimizer"], config["learning_rate"])
        self.batches = BatchOrder(config["seed"] + 1)
        self.configure(config)
        self.step = 0
        self.examples_seen = 0
        self.cursor: c.Cursor = None
        self.workspace = Workspace(network)
        self._last: c.Update | None = None
        self._unread: tuple[int, float] | None = None   # (m, α) of an update still in the workspace

    def apply_live(self, old: dict, new: dict) -> None:
        """Settings changed while training, without a rebuild."""
        if (new["activation"], new["loss"]) != (old["activation"], old["loss"]):
            self.network.set_functions(new["activation"], new["output"], new["loss"])
            self.cursor = None
        if new["optimizer"] != old["optimizer"]:
            self.optimizer = make_optimizer(new["optimizer"], new["learning_rate"])
        self.configure(new)

    def configure(self, config: dict) -> None:
        """Settings that apply live: regularisation, batch size, learning rate."""
        lam = config["lambda"]
        self.reg = c.Regularization(l2=lam if config["regularization"] == "l2" else 0.0,
                                    l1=lam if config["regularization"] == "l1" else 0.0,
                                    m=len(self.X))
        self.batch_size = len(self.X) if config["optimizer"] == "gd" else config["batch_size"]
        self.optimizer.learning_rate = config["learning_rate"]

    # -- the commands ---------------------------------------------------------------
    def _update(self, indices: np.ndarray, grad_W, grad_b) -> None:
        self._last, self._unread = c.apply_update(self.network, self.optimizer, grad_W, grad_b,
                                                  len(indices)), None
        self.step += 1
        self.examples_seen += len(indices)

    def train_batch(self) -> None:
        """One update on the next batch (finishing a half-walked one first), by the engine's
        fast path: nothing of it is kept but the weights and the workspace's D and ΔW, read
        into an `Update` only if a moment is made before the next one (see `last`)."""
        if self.settle():
            return
        idx = self.batches.next(len(self.X), self.batch_size)
        fast_update(self.network, self.X.take(idx, axis=0), self.Y.take(idx, axis=0), self.optimizer,
                    self.workspace, self.reg.l2, self.reg.l1, self.reg.m)
        self._last, self._unread = None, (len(idx), self.optimizer.learning_rate)
        self.step += 1
        self.examples_seen += len(idx)

    @property
    def last(self) -> c.Update | None:
        """The last update made: its gradient D and the change it made."""
        if self._unread is not None:
            (m, rate), (grad_W, grad_b), (change_W, change_b) = \
                self._unread, self._frozen_layers(self.workspace.grad), self._frozen_layers(self.workspace.change)
            self._last = c.Update(grad_W=grad_W, grad_b=grad_b, change_W=change_W, change_b=change_b,
                                  m=m, learning_rate=rate)
            self._unread = None
        return self._last

    def _frozen_layers(self, flat: np.ndarray) -> tuple[tuple, tuple]:
        """A read-only copy of a workspace array, as (per weight layer, per bias layer): one
        copy for all layers (a moment is made up to 60 times a second)."""
        flat = flat.copy()
        flat.flags.writeable = False
        return tuple(map(tuple, self.workspace.layers(flat)))

    def step_phase(self) -> None:
        walk = self.cursor
        if not isinstance(walk, c.PhaseWalk) or walk.applied:
            self.settle()
            idx = self.batches.next(len(self.X), self.batch_size)
            self.cursor = c.begin_walk(self.network, self.X, self.Y, idx, self.reg)
            return
        self.cursor = walk = c.advance(walk)
        if walk.applied:
            self._update(walk.indices, walk.trace.grad_W, walk.trace.grad_b)

    def step_example(self) -> int:
        """The next example of the course's loop; returns its row (the new focus)."""
        loop = self.cursor
        if not isinstance(loop, c.ExampleLoop):
            self.settle()
            loop = c.begin_loop(self.network, self.batches.next(len(self.X), self.batch_size))
        loop = c.accumulate(loop, self.network, self.X, self.Y)
        row = int(loop.indices[loop.done - 1])
        self.cursor = loop
        if loop.done == len(loop.indices):
            self._update(loop.indices, *c.loop_gradient(loop, self.network, self.reg))
            self.cursor = None
        return row

    def settle(self) -> bool:
        """Finish a half-walked batch (so batch/epoch steps and play start clean); True
        when that made an update."""
        cur, self.cursor = self.cursor, None
        if cur is None or (isinstance(cur, c.PhaseWalk) and cur.applied):
            return False
        if isinstance(cur, c.PhaseWalk):
            self._update(cur.indices, cur.trace.grad_W, cur.trace.grad_b)
        else:   # the rest of the examples: the batch gradient is the same sum
            t = self.network.trace(self.X[cur.indices], self.Y[cur.indices], self.reg.l2,
                                   self.reg.l1, self.reg.m)
            self._update(cur.indices, t.grad_W, t.grad_b)
        return True

    def steps(self, unit: str, count: int, deadline: float) -> tuple[int, int | None]:
        """Up to `count` steps of phase|example|batch|epoch before `deadline` or a blow-up;
        (how many were done, the new focus row of an example step or None)."""
        done, focus = 0, None
        while done < count and time.monotonic() < deadline and self.blown_up() is None:
            if unit == "phase":
                self.step_phase()
            elif unit == "example":
                focus = self.step_example()
            elif unit == "batch":
                self.train_batch()
            else:
                target = self.epoch_number + 1
                self.train_until(deadline, target)    # returns at the deadline or a blow-up
                if self.epoch_number < target:
                    break
            done += 1
        return done, focus

    def train_until(self, deadline: float, epoch: int | None = None) -> bool:
        """Batches until `deadline` (or the start of `epoch`); False if the weights blew up."""
        n = 0
        while time.monotonic() < deadline and (epoch is None or self.epoch_number < epoch):
            self.train_batch()
            n += 1
            if n % CHECK_EVERY == 0 and self.blown_up() is not None:
                return False
        return self.blown_up() is None

    def forget_cursor(self) -> None:
        """The weights or the functions changed under a walked batch: drop it."""
        self.cursor = None

    @property
    def epoch_number(self) -> int:
        return self.examples_seen // len(self.X)

    def blown_up(self) -> str | None:
        """Where and why the weights blew up: the first unit whose incoming weights or
        bias are NaN, infinite or above 1e6 (NaN compares false: one test for all three)."""
        ws = self.workspace
        if ws.holds(self.network) and (np.abs(ws.params) < WEIGHT_LIMIT).all():
            return None     # the usual answer, from all the parameters at once
        for l, (W, b) in enumerate(zip(self.network.weights, self.network.biases)):
            ok = (np.abs(W) < WEIGHT_LIMIT).all(axis=1) & (np.abs(b) < WEIGHT_LIMIT)
            if not ok.all():
                unit = int(np.flatnonzero(~ok)[0])
                return (f"the weights into unit {unit + 1} of layer {l + 2} became NaN, infinite "
                        f"or larger than 1e6 at step {self.step}: each update overshot the "
                        "minimum and the next gradient was bigger still")
        return None

    def stalled_layer(self) -> str | None:
        """A hidden layer that passes no gradient back (dead ReLUs, saturated units), said in
        words: training has silently stopped without diverging."""
        return stalled_layer(self.network, self.X, self.Y)

    # -- moments ---------------------------------------------------------------------
    def fields(self) -> dict:
        """This trainer's part of a Moment."""
        weights, biases = (self._frozen_layers(self.workspace.params) if self.workspace.holds(self.network)
                           else (frozen_arrays(self.network.weights), frozen_arrays(self.network.biases)))
        return {"step": self.step, "examples_seen": self.examples_seen, "weights": weights, "biases": biases,
                "cursor": self.cursor, "last": self.last,
                "optimizer": self.optimizer.state(), "batches": self.batches.state()}

    def restore(self, m: Moment, keep_optimizer: bool = True) -> None:
        self.network.set_params([W.copy() for W in m.weights], [b.copy() for b in m.biases])
        self.step, self.examples_seen = m.step, m.examples_seen
        self.cursor, self._last, self._unread = m.cursor, m.last, None
        if keep_optimizer:
            self.optimizer.load_state(dict(m.optimizer))
        self.batches.restore(m.batches)
