"""The engine's maths: backprop agrees with the numerical gradient, δ is ∂J/∂z,
symmetry needs random initialization, and defaults actually learn."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine import (
    ACTIVATIONS,
    OUTPUTS,
    Network,
    accuracy,
    gradient_check,
    make_optimizer,
    numerical_gradients,
    one_hot_targets,
    relative_difference,
    train_epoch,
)
from app.engine.training import train_step


def flat(arrays) -> np.ndarray:
    return np.concatenate([np.ravel(a) for a in arrays])


def rel_diff(net, X, Y, **reg) -> float:
    bW, bb = net.gradients(X, Y, **reg)
    nW, nb = numerical_gradients(net, X, Y, **reg)
    return relative_difference(flat(nW + nb), flat(bW + bb))


def course_network() -> tuple[Network, np.ndarray, np.ndarray]:
    """The course's checkNNGradients: 3-5-3, m = 5, everything filled with sin(1..n)/10."""
    net = Network([3, 5, 3], activation="sigmoid", output="sigmoid", loss="cross_entropy")

    def debug_weights(n_out: int, n_in: int) -> np.ndarray:
        # The course fills Θ (bias column first) column-major with sin(1..n)/10.
        return np.sin(np.arange(1, n_out * (n_in + 1) + 1)).reshape(n_in + 1, n_out).T / 10

    theta1, theta2 = debug_weights(5, 3), debug_weights(3, 5)
    net.weights = [theta1[:, 1:].copy(), theta2[:, 1:].copy()]
    net.biases = [theta1[:, 0].copy(), theta2[:, 0].copy()]
    X = debug_weights(5, 2)  # the course reuses its weight filler for X: (m=5, 3 inputs)
    labels = 1 + np.arange(1, 6) % 3
    Y = one_hot_targets(labels - 1, 3)
    return net, X, Y


@pytest.mark.parametrize("lam", [0.0, 3.0])
def test_course_gradient_check_below_1e9(lam):
    net, X, Y = course_network()
    assert rel_diff(net, X, Y, l2=lam) < 1e-9


def test_course_cost_matches_hand_computed_J():
    net, X, Y = course_network()
    t = net.forward(X)
    h = t.a[-1]
    J = -np.sum(Y * np.log(h) + (1 - Y) * np.log(1 - h)) / 5
    reg = 3.0 / (2 * 5) * sum(np.sum(W ** 2) for W in net.weights)
    assert net.cost(X, Y) == pytest.approx(J, rel=1e-12)
    assert net.cost(X, Y, l2=3.0) == pytest.approx(J + reg, rel=1e-12)


COMBOS = [(o, lo) for o in OUTPUTS for lo in ("cross_entropy", "mse")
          if not (o == "linear" and lo == "cross_entropy")]


@settings(max_examples=120, deadline=None)
@given(
    hidden=st.lists(st.integers(1, 6), min_size=0, max_size=3),
    n_in=st.integers(1, 6), n_out=st.integers(1, 4),
    activation=st.sampled_from(ACTIVATIONS), combo=st.sampled_from(COMBOS),
    lam=st.sampled_from([0.0, 0.1, 1.0]), l1=st.booleans(), seed=st.integers(0, 10_000),
)
def test_backprop_matches_numerical_gradient_everywhere(hidden, n_in, n_out, activation,
                                                       combo, lam, l1, seed):
    output, loss = combo
    if output == "softmax" and n_out == 1:
        n_out = 2
    net = Network([n_in, *hidden, n_out], activation=activation, output=output, loss=loss,
                  init="uniform", init_epsilon=1.0, seed=seed)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(7, n_in))
    if output == "linear":
        Y = rng.normal(size=(7, n_out))
    else:
        Y = one_hot_targets(rng.integers(0, max(n_out, 2), 7) % max(n_out, 2), n_out) \
            if n_out > 1 else rng.integers(0, 2, (7, 1)).astype(float)
    if activation == "relu":
        # keep every z away from the kink where the derivative does not exist
        for t in [net.forward(X)]:
            if any(np.min(np.abs(z)) < 1e-3 for z in t.z[1:]):
                return
    reg = {"l1": lam} if l1 else {"l2": lam}
    if l1 and any(np.min(np.abs(W)) < 1e-3 for W in net.weights):
        return  # |W| is not differentiable at 0
    assert rel_diff(net, X, Y, **reg) < 1e-7


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_delta_equals_dcost_dz(activation):
    """δ⁽ˡ⁾ (batch-averaged) is exactly how fast J moves when z⁽ˡ⁾ is nudged."""
    rng = np.random.default_rng(3)
    net = Network([2, 4, 3, 1], activation=activation, init_epsilon=1.0, seed=5)
    X, Y = rng.normal(size=(9, 2)), rng.integers(0, 2, (9, 1)).astype(float)
    t = net.trace(X, Y)
    h = 1e-5
    for layer in (1, 2, 3):
        for unit in range(net.sizes[layer]):
            z_plus, z_minus = t.z[layer].copy(), t.z[layer].copy()
            z_plus[:, unit] += h
            z_minus[:, unit] -= h
            numeric = (net.cost_from_z(layer, z_plus, Y) - net.cost_from_z(layer, z_minus, Y)) / (2 * h)
            assert numeric == pytest.approx(t.delta[layer][:, unit].mean(), abs=1e-8)


def hidden_rows_identical(net: Network) -> bool:
    return all(np.allclose(W, W[0]) for W in net.weights[:-1]) and \
        all(np.allclose(b, b[0]) for b in net.biases[:-1]) and \
        all(np.allclose(W.T, W.T[0]) for W in net.weights[1:])


@pytest.mark.parametrize("init", ["zeros", "constant"])
def test_symmetric_init_keeps_hidden_units_identical(init):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    Y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    net = Network([2, 4, 3, 1], activation="tanh", init=init, init_epsilon=0.5, seed=1)
    opt = make_optimizer("gd", 0.5)
    for _ in range(100):
        train_step(net, X, Y, opt)
    assert hidden_rows_identical(net)


def test_random_init_breaks_symmetry():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    Y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    net = Network([2, 4, 3, 1], activation="tanh", seed=1)
    opt = make_optimizer("gd", 0.5)
    for _ in range(100):
        train_step(net, X, Y, opt)
    assert not hidden_rows_identical(net)
    assert np.min(np.ptp(net.weights[0], axis=0)) > 1e-3


def test_no_hidden_layer_is_logistic_regression():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 3))
    y = rng.integers(0, 2, 30).astype(float)
    net = Network([3, 1], output="sigmoid", loss="cross_entropy", init_epsilon=1.0, seed=0)
    h = 1 / (1 + np.exp(-(X @ net.weights[0][0] + net.biases[0][0])))
    dW, db = net.gradients(X, y.reshape(-1, 1))
    np.testing.assert_allclose(dW[0][0], X.T @ (h - y) / 30, rtol=1e-12)
    np.testing.assert_allclose(db[0][0], np.mean(h - y), rtol=1e-12)


def test_gradient_check_reports_passes_time_and_caps():
    net, X, Y = course_network()
    full = gradient_check(net, X, Y)
    assert full.relative_difference < 1e-9
    assert full.forward_passes == {"backprop": 2, "numerical": 2 * net.n_params}
    assert full.checked == full.parameters == 38
    assert full.numerical_seconds > full.backprop_seconds > 0
    capped = gradient_check(net, X, Y, max_params=10)
    assert capped.checked == 10 and capped.forward_passes["numerical"] == 20
    assert capped.relative_difference < 1e-9
    assert np.isnan(flat(capped.numerical)).sum() == 28


@pytest.mark.parametrize("kwargs, field", [
    ({"sizes": [2, 0, 1]}, "sizes"), ({"sizes": [2]}, "sizes"),
    ({"sizes": [2, 1], "activation": "swish"}, "activation"),
    ({"sizes": [2, 1], "output": "tanh"}, "output"),
    ({"sizes": [2, 1], "loss": "hinge"}, "loss"),
    ({"sizes": [2, 1], "init": "orthogonal"}, "init"),
    ({"sizes": [2, 1], "output": "linear", "loss": "cross_entropy"}, "loss"),
])
def test_bad_arguments_name_the_argument(kwargs, field):
    with pytest.raises(ValueError, match=field):
        Network(**kwargs)


def test_shape_mismatch_names_x_or_y():
    net = Network([2, 3, 1])
    with pytest.raises(ValueError, match="X"):
        net.cost(np.zeros((4, 3)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match="Y"):
        net.gradients(np.zeros((4, 2)), np.zeros((5, 1)))


def test_same_seed_same_weights_different_seed_different():
    a, b, c = Network([2, 4, 1], seed=7), Network([2, 4, 1], seed=7), Network([2, 4, 1], seed=8)
    assert all(np.array_equal(x, y) for x, y in zip(a.weights, b.weights))
    assert not np.array_equal(a.weights[0], c.weights[0])


def test_auto_epsilon_bounds_each_layer():
    net = Network([2, 8, 1], init="uniform", init_epsilon="auto", seed=0)
    assert np.abs(net.weights[0]).max() <= np.sqrt(6 / 10)
    assert np.abs(net.weights[1]).max() <= np.sqrt(6 / 9)


@pytest.mark.parametrize("name, rate", [("momentum", 0.05), ("adam", 0.05), ("sgd", 0.5)])
def test_optimizers_reduce_the_cost(name, rate):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2))
    Y = (X[:, :1] + X[:, 1:] > 0).astype(float)
    net = Network([2, 3, 1], seed=0)
    before = net.cost(X, Y)
    opt = make_optimizer(name, rate)
    for _ in range(20):
        train_epoch(net, X, Y, opt, 10, rng)
    assert net.cost(X, Y) < 0.5 * before
    assert accuracy(net, X, Y[:, 0]) > 0.9
