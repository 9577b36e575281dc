"""Training with the defaults actually learns: the accuracy targets of the course's
problems, through the same Session the web page drives."""

import numpy as np
import pytest

from app.data import make_dataset
from app.engine import (
    ACTIVATIONS,
    LOSSES,
    OPTIMIZERS,
    OUTPUTS,
    Network,
    accuracy,
    make_optimizer,
    one_hot_targets,
    train_epoch,
)
from app.engine.training import Workspace, fast_update, train_step
from app.training import Session


@pytest.mark.parametrize("dataset", ["circle", "xor", "gaussians"])
def test_defaults_reach_97_percent(dataset):
    s = Session("t", {"dataset": dataset, "seed": 0})
    s.step("epoch", 200)
    assert s.summary()["accuracy"]["train"] >= 0.97


def test_spiral_with_a_larger_net_reaches_90_percent():
    s = Session("t", {"dataset": "spiral", "seed": 0, "layers": [8, 8, 8],
                      "optimizer": "adam", "learning_rate": 0.01,
                      "features": ["x1", "x2", "sinx1", "sinx2"]})
    s.step("epoch", 400)
    assert s.summary()["accuracy"]["train"] >= 0.90


def test_digits_64_25_10_reaches_95_percent():
    d = make_dataset("digits", train_ratio=0.7, seed=0)
    net = Network([64, 25, 10], activation="sigmoid", output="sigmoid", init_epsilon=0.12, seed=0)
    Y = one_hot_targets(d.y_train, 10)
    opt = make_optimizer("gd", 2.0)
    rng = np.random.default_rng(0)
    for _ in range(300):
        train_epoch(net, d.X_train, Y, opt, len(Y), rng, l2=1.0)
    assert accuracy(net, d.X_train, d.y_train) >= 0.95
    assert accuracy(net, d.X_test, d.y_test) >= 0.85


# -- the engine's fast path (the one Session training uses) is the plain path ----------------
FAST_COMBOS = [(o, loss) for o in OUTPUTS for loss in LOSSES if not (o == "linear" and loss == "cross_entropy")]


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("output,loss", FAST_COMBOS)
def test_fast_update_gives_the_plain_paths_weights_over_1000_steps(activation, output, loss):
    """fast_update against train_step (trace, then apply_gradients) from the same start on
    the same batches, alternating batches of 1 and 4 rows (gd: all of them), for every
    regularization and optimizer: weights, D and ΔW agree to 1e-12 (they are bit-equal)."""
    rng = np.random.default_rng(7)
    n_out = 3 if output == "softmax" else 1
    X = rng.normal(size=(20, 2))
    Y = np.eye(3)[rng.integers(0, 3, 20)] if n_out == 3 else rng.random((20, 1))
    for regularization in ("none", "l2", "l1"):
        l2, l1 = (0.05 if regularization == "l2" else 0.0), (0.05 if regularization == "l1" else 0.0)
        for name in OPTIMIZERS:
            plain, fast = (Network([2, 4, 3, n_out], activation, output, loss, seed=1) for _ in range(2))
            start = [W.copy() for W in plain.weights]
            opt_plain, opt_fast = make_optimizer(name, 0.02), make_optimizer(name, 0.02)
            ws = Workspace(fast)
            for step in range(1000):
                idx = np.arange(20) if name == "gd" else (np.arange(4) + step) % 20 if step % 2 else [step % 20]
                t, changes = train_step(plain, X[idx], Y[idx], opt_plain, l2, l1, reg_m=20)
                fast_update(fast, X[idx], Y[idx], opt_fast, ws, l2, l1, reg_m=20)
            close = lambda a, b: np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)  # noqa: E731
            for a, b in zip(plain.weights + plain.biases, fast.weights + fast.biases):
                close(a, b)
            for a, b in zip(t.grad_W + t.grad_b + changes, ws.grad_W + ws.grad_b + ws.change_W + ws.change_b):
                close(a, b)
            assert all(np.isfinite(W).all() for W in plain.weights)
            assert any(not np.allclose(W, w0) for W, w0 in zip(plain.weights, start))


def test_train_epoch_updates_the_callers_arrays_in_place():
    d = make_dataset("circle", seed=0)
    net = Network([2, 4, 1], seed=0)
    W0 = net.weights[0]
    before = W0.copy()
    train_epoch(net, d.X_train, one_hot_targets(d.y_train, 1), make_optimizer("sgd", 0.1), 10,
                np.random.default_rng(0))
    assert net.weights[0] is W0 and not np.array_equal(W0, before)


def test_session_training_is_the_engines_plain_update_and_records_it():
    """A Session trains by the fast path; its weights and its last update (D, ΔW) are those
    of train_step on the same batches."""
    s = Session("t", {"seed": 4, "dataset": "xor", "layers": [5, 3], "batch_size": 1,
                      "optimizer": "momentum", "regularization": "l2", "lambda": 0.01})
    net = s.problem.network(s.config)
    opt = make_optimizer("momentum", s.config["learning_rate"])
    order = np.random.default_rng(s.config["seed"] + 1)
    X, Y, m = s.X_train, s.Y_train, len(s.X_train)
    s.step("batch", 300)
    steps = 0
    while steps < 300:
        for i in order.permutation(m)[:300 - steps]:
            t, changes = train_step(net, X[[i]], Y[[i]], opt, l2=0.01, reg_m=m)
            steps += 1
    last = s.moment().last
    for a, b in zip(net.weights + net.biases, s.network.weights + s.network.biases):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(t.grad_W + changes, [*last.grad_W, *last.change_W, *last.change_b]):
        np.testing.assert_array_equal(a, b)
    assert last.m == 1 and not last.grad_W[0].flags.writeable
