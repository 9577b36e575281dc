"""The engine's maths: backprop agrees with the numerical gradient, δ is ∂J/∂z,
symmetry needs random initialization, and defaults actually learn."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
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
    if activation == "relu":   # keep every z away from the kink where g′ does not exist
        assume(all(np.min(np.abs(z)) >= 1e-3 for z in net.forward(X).z[1:]))
    reg = {"l1": lam} if l1 else {"l2": lam}
    if l1:                       # |W| is not differentiable at 0
        assume(all(np.min(np.abs(W)) >= 1e-3 for W in net.weights))
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


def test_engine_imports_without_flask():
    """`from app.engine import Network` in a script or notebook needs no web stack."""
    import subprocess
    import sys
    code = "import sys, app.engine; assert 'flask' not in sys.modules, 'flask imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parent.parent)


@pytest.mark.parametrize("layout", ["course_slice", "fortran", "transposed_view"])
def test_numerical_gradients_work_on_any_array_layout(layout):
    """The course slices the bias column off Θ (Θ[:, 1:], a non-contiguous view): the
    numerical gradient must still nudge the real parameters, not a copy."""
    net, X, Y = course_network()
    theta = [np.column_stack([b, W]) for W, b in zip(net.weights, net.biases)]
    if layout == "course_slice":
        net.weights = [T[:, 1:] for T in theta]
    elif layout == "fortran":
        net.weights = [np.asfortranarray(T[:, 1:]) for T in theta]
    else:
        net.weights = [np.ascontiguousarray(T[:, 1:].T).T for T in theta]
    assert not all(W.flags.c_contiguous for W in net.weights)
    before = [W.copy() for W in net.weights]
    nW, nb = numerical_gradients(net, X, Y, l2=3.0)
    bW, bb = net.gradients(X, Y, l2=3.0)
    assert relative_difference(flat(nW + nb), flat(bW + bb)) < 1e-9
    assert all(np.array_equal(a, b) for a, b in zip(before, net.weights))   # put back exactly


def test_backprop_matches_hand_derived_gradients_of_a_2_2_1_net():
    """An independent reference: the chain rule written out by hand for one sigmoid
    2-2-1 network and one example (no engine code involved)."""
    W1, b1 = np.array([[0.1, -0.2], [0.4, 0.3]]), np.array([0.05, -0.1])
    W2, b2 = np.array([[0.7, -0.5]]), np.array([0.2])
    x, y = np.array([1.5, -0.5]), 1.0
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    h1 = [sig(W1[i, 0] * x[0] + W1[i, 1] * x[1] + b1[i]) for i in range(2)]
    out = sig(W2[0, 0] * h1[0] + W2[0, 1] * h1[1] + b2[0])
    d_out = out - y                                        # ∂J/∂z_out for cross-entropy
    dW2 = [d_out * h1[0], d_out * h1[1]]
    d_h = [d_out * W2[0, i] * h1[i] * (1 - h1[i]) for i in range(2)]
    dW1 = [[d_h[i] * x[j] for j in range(2)] for i in range(2)]
    net = Network([2, 2, 1], activation="sigmoid", output="sigmoid", loss="cross_entropy")
    net.weights, net.biases = [W1, W2], [b1, b2]
    gW, gb = net.gradients(x.reshape(1, 2), np.array([[y]]))
    np.testing.assert_allclose(gW[1][0], dW2, rtol=1e-12)
    np.testing.assert_allclose(gb[1], [d_out], rtol=1e-12)
    np.testing.assert_allclose(gW[0], dW1, rtol=1e-12)
    np.testing.assert_allclose(gb[0], d_h, rtol=1e-12)


def test_minibatch_gradients_average_to_the_full_batch_gradient_of_J():
    """The penalty's m is the training set's: D_batch = Δ/m_batch + (λ/M)W, so the mean
    of the batch gradients over a partition is exactly ∇J of the whole set."""
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(40, 2)), rng.integers(0, 2, (40, 1)).astype(float)
    net = Network([2, 3, 1], seed=2)
    for kind in ("l2", "l1"):
        full_W, full_b = net.gradients(X, Y, **{kind: 2.0})
        parts = [net.gradients(X[i:i + 10], Y[i:i + 10], **{kind: 2.0}, reg_m=40) for i in range(0, 40, 10)]
        for l in range(2):
            np.testing.assert_allclose(np.mean([p[0][l] for p in parts], axis=0), full_W[l], rtol=1e-12)
            np.testing.assert_allclose(np.mean([p[1][l] for p in parts], axis=0), full_b[l], rtol=1e-12)


def test_probe_slope_is_delta_on_the_batch_and_for_one_example():
    from app.engine import probe_delta
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(12, 2)), rng.integers(0, 2, (12, 1)).astype(float)
    net = Network([2, 4, 1], activation="tanh", init_epsilon=1.0, seed=3)
    for layer, unit in ((1, 2), (2, 0)):
        p = probe_delta(net, X, Y, layer, unit, 1e-5, focus=4, l2=1.0, reg_m=50)
        assert p.numerical == pytest.approx(p.delta, abs=1e-8)
        assert p.focus_numerical == pytest.approx(p.focus_delta, abs=1e-8)
        assert p.focus_delta == pytest.approx(net.trace(X, Y).delta[layer][4, unit], rel=1e-12)
