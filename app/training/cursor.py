"""Where a session is inside one update, as typed immutable records, and the small state
machine that moves between them.

The course's step 2–6 for one batch, walked a phase at a time:
    forward 1 … forward L → cost → backward L … backward 1 → update
or the course's loop over examples (Δ += δ⁽ˡ⁺¹⁾(a⁽ˡ⁾)ᵀ one example at a time, then
D = Δ/m + (λ/M)W and the update). Every transition returns a new record; the maths is
the engine's own (`Network.trace`, `apply_gradients`), never a copy of it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from app.engine import Network, Trace
from app.engine.optimizers import Optimizer
from app.engine.training import apply_gradients

from .moment import record_types

PHASES = ("forward", "cost", "backward", "update")


@dataclass(frozen=True)
class Stop:
    """One stop of the phase cursor: a phase and the layer it is at (None for cost/update)."""

    phase: str
    layer: int | None


def stops(n_layers: int) -> tuple[Stop, ...]:
    """The cursor's stops for a network with layers 0..n_layers (0 = the input)."""
    return (*(Stop("forward", l) for l in range(1, n_layers + 1)), Stop("cost", None),
            *(Stop("backward", l) for l in range(n_layers, 0, -1)), Stop("update", None))


@dataclass(frozen=True)
class Regularization:
    """The penalty of J: λ for L2 and L1 (0 = off) and its m, the training-set size."""

    l2: float
    l1: float
    m: int


@dataclass(frozen=True, eq=False)
class PhaseWalk:
    """A batch walked phase by phase. Its trace (every z, a, δ and D of the batch) is
    computed once, at the first stop, and revealed stop by stop; the update is applied
    when the walk reaches the "update" stop, which then stays on screen."""

    indices: np.ndarray     # (m,) rows of the training set in this batch
    trace: Trace            # the batch's forward and backward pass
    position: int           # index into `stops`
    stops: tuple[Stop, ...]

    @property
    def stop(self) -> Stop:
        return self.stops[self.position]

    @property
    def applied(self) -> bool:
        """True once the walk stands at "update": its update has been made."""
        return self.stop.phase == "update"


@dataclass(frozen=True, eq=False)
class ExampleLoop:
    """The course's loop over the examples of one batch, `done` of them so far."""

    indices: np.ndarray          # (m,) rows of the training set in this batch
    done: int                    # examples accumulated into Δ
    sum_W: tuple[np.ndarray, ...]   # Δ⁽ˡ⁾ = Σ δ⁽ˡ⁺¹⁾(a⁽ˡ⁾)ᵀ over those examples, per layer
    sum_b: tuple[np.ndarray, ...]   # Σ δ⁽ˡ⁺¹⁾ over those examples (the bias column of Δ)


@dataclass(frozen=True, eq=False)
class Update:
    """The last update: the gradient D it followed and the change it made."""

    grad_W: tuple[np.ndarray, ...]    # D⁽ˡ⁾ = ∂J/∂W⁽ˡ⁾ estimated on the batch, per layer
    grad_b: tuple[np.ndarray, ...]    # ∂J/∂b⁽ˡ⁾
    change_W: tuple[np.ndarray, ...]  # ΔW⁽ˡ⁾ = W_after − W_before (−α·D for gradient descent)
    change_b: tuple[np.ndarray, ...]
    m: int                            # examples the gradient averaged over
    learning_rate: float              # α at the time


Cursor = PhaseWalk | ExampleLoop | None
record_types(Stop, Regularization, PhaseWalk, ExampleLoop, Update)


def begin_walk(net: Network, X: np.ndarray, Y: np.ndarray, indices: np.ndarray,
               reg: Regularization) -> PhaseWalk:
    """Stop 0 (forward, layer 1) of a new batch."""
    trace = net.trace(X[indices], Y[indices], reg.l2, reg.l1, reg.m)
    return PhaseWalk(indices=indices, trace=trace, position=0, stops=stops(len(net.sizes) - 1))


def advance(walk: PhaseWalk) -> PhaseWalk:
    return replace(walk, position=walk.position + 1)


def begin_loop(net: Network, indices: np.ndarray) -> ExampleLoop:
    return ExampleLoop(indices=indices, done=0, sum_W=tuple(np.zeros_like(W) for W in net.weights),
                       sum_b=tuple(np.zeros_like(b) for b in net.biases))


def accumulate(loop: ExampleLoop, net: Network, X: np.ndarray, Y: np.ndarray) -> ExampleLoop:
    """One more example: with m = 1 the engine's D is δ⁽ˡ⁺¹⁾(a⁽ˡ⁾)ᵀ itself (no penalty)."""
    i = loop.indices[loop.done]
    t = net.trace(X[i:i + 1], Y[i:i + 1])
    return replace(loop, done=loop.done + 1,
                   sum_W=tuple(s + g for s, g in zip(loop.sum_W, t.grad_W)),
                   sum_b=tuple(s + g for s, g in zip(loop.sum_b, t.grad_b)))


def loop_gradient(loop: ExampleLoop, net: Network, reg: Regularization) -> tuple[list, list]:
    """D = Δ/m + (λ/M)·W (L2) or (λ/M)·sign(W) (L1) from a finished loop."""
    m = len(loop.indices)
    grad_W = [s / m + (reg.l2 / reg.m) * W + (reg.l1 / reg.m) * np.sign(W)
              for s, W in zip(loop.sum_W, net.weights)]
    return grad_W, [s / m for s in loop.sum_b]


def apply_update(net: Network, optimizer: Optimizer, grad_W, grad_b, m: int) -> Update:
    """Step 6 through the engine's optimizer; the record of what it did."""
    change_W, change_b = apply_gradients(net, optimizer, list(grad_W), list(grad_b))
    return Update(grad_W=tuple(grad_W), grad_b=tuple(grad_b), change_W=tuple(change_W),
                  change_b=tuple(change_b), m=m, learning_rate=optimizer.learning_rate)
