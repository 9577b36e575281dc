"""The chain rule written out for one weight: the sum over every path to the output is
∂cost/∂W for the example's own cost — the numerical derivative, backprop's δ·a — for
every pairing of output and loss, and the work counts are what enumerating would do."""

import itertools
from math import prod

import numpy as np
import pytest

from app.engine import Network
from app.engine.paths import MAX_PATHS, chain_rule_paths, work_counts

PAIRINGS = [("sigmoid", "cross_entropy"), ("softmax", "cross_entropy"),
            ("linear", "mse"), ("sigmoid", "mse"), ("softmax", "mse")]


def example(sizes: list[int], output: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=sizes[0])
    if output == "linear":
        return x, rng.normal(size=sizes[-1])
    y = np.zeros(sizes[-1])
    y[rng.integers(sizes[-1])] = 1.0
    return x, y


def numerical(net: Network, x, y, layer: int, to: int, frm: int, eps: float = 1e-5) -> float:
    """(cost(W + ε) − cost(W − ε)) / 2ε for the one example, no penalty."""
    W = net.weights[layer]
    keep = W[to, frm]
    W[to, frm] = keep + eps
    plus = net.cost(x[None, :], y[None, :])
    W[to, frm] = keep - eps
    minus = net.cost(x[None, :], y[None, :])
    W[to, frm] = keep
    return (plus - minus) / (2 * eps)


def every_weight(sizes):
    for layer in range(len(sizes) - 1):
        for to in range(sizes[layer + 1]):
            for frm in range(sizes[layer]):
                yield layer, to, frm


@pytest.mark.parametrize("output,loss", PAIRINGS)
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "linear"])
@pytest.mark.parametrize("sizes", [[3, 2], [2, 4, 3], [3, 3, 2, 2], [2, 3, 2, 3, 2]])
def test_the_sum_of_the_paths_is_the_derivative_of_the_examples_cost(sizes, activation, output, loss):
    net = Network(sizes, activation=activation, output=output, loss=loss, init="uniform",
                  init_epsilon=1.0, seed=3)
    x, y = example(sizes, output)
    dW, _ = net.gradients(x[None, :], y[None, :])      # backprop on the one example (m = 1)
    for layer, to, frm in every_weight(sizes):
        p = chain_rule_paths(net, x, y, layer, to, frm)
        assert p.enumerated and p.count == prod(sizes[layer + 2:])
        assert p.total == pytest.approx(dW[layer][to, frm], rel=1e-9, abs=1e-12)
        assert p.total == pytest.approx(p.backprop, rel=1e-9, abs=1e-12)
        assert p.total == pytest.approx(numerical(net, x, y, layer, to, frm), rel=1e-5, abs=1e-8)
        assert p.cost == pytest.approx(net.cost(x[None, :], y[None, :]), rel=1e-12)


def test_each_path_is_the_product_of_its_factors_in_the_order_of_its_units():
    sizes = [2, 3, 4, 2]
    net = Network(sizes, activation="tanh", output="softmax", seed=1)
    x, y = example(sizes, "softmax")
    t = net.trace(x[None, :], y[None, :])
    gp = [None] + [net.g_prime(t.z[k], t.a[k])[0] for k in (1, 2)]
    p = chain_rule_paths(net, x, y, 0, 2, 1, show=5)
    # An independent enumeration: every (unit of layer 2, unit of layer 3) after unit 2 of layer 1.
    expected = []
    for k2, k3 in itertools.product(range(4), range(2)):
        factors = [t.a[0][0, 1], gp[1][2], net.weights[1][k2, 2], gp[2][k2], net.weights[2][k3, k2],
                   t.delta[3][0, k3]]
        expected.append(((2, k2, k3), factors))
    assert p.count == 8 and len(p.shown) == 5
    for path, (units, factors) in zip(p.shown, expected):
        assert path.units == units
        assert [name for name, _ in path.factors] == ["a", "g'", "W", "g'", "W", "delta"]
        assert [v for _, v in path.factors] == pytest.approx(factors, rel=1e-15)
        assert path.product == pytest.approx(prod(factors), rel=1e-12)
    assert p.total == pytest.approx(sum(prod(f) for _, f in expected), rel=1e-12)
    assert p.a == t.a[0][0, 1] and p.delta == t.delta[1][0, 2]


def test_an_output_weight_has_one_path_a_times_delta():
    sizes = [2, 3, 2]
    net = Network(sizes, activation="relu", output="linear", loss="mse", seed=2)
    x, y = example(sizes, "linear")
    p = chain_rule_paths(net, x, y, 1, 1, 2)
    assert p.count == 1 and len(p.shown) == 1
    assert [name for name, _ in p.shown[0].factors] == ["a", "delta"]
    assert p.total == p.backprop == p.shown[0].product


def test_beyond_the_cap_the_paths_are_summed_layer_by_layer_to_the_same_value():
    sizes = [3, 16, 16, 16, 4]
    net = Network(sizes, activation="sigmoid", output="sigmoid", seed=4)
    x, y = example(sizes, "sigmoid")
    written = chain_rule_paths(net, x, y, 0, 5, 2)
    summed = chain_rule_paths(net, x, y, 0, 5, 2, cap=100)
    assert written.count == summed.count == 16 * 16 * 4 <= MAX_PATHS
    assert written.enumerated and not summed.enumerated
    assert summed.total == pytest.approx(written.total, rel=1e-10)
    assert summed.total == pytest.approx(numerical(net, x, y, 0, 5, 2), rel=1e-5)
    assert [q.factors for q in summed.shown] == [q.factors for q in written.shown]
    assert len(summed.shown) == 3


def test_bad_indices_name_the_argument():
    net = Network([2, 3, 1], seed=0)
    x, y = np.zeros(2), np.ones(1)
    for args, name in [((2, 0, 0), "layer"), ((0, 3, 0), "to"), ((1, 0, 3), "frm"), ((-1, 0, 0), "layer")]:
        with pytest.raises(ValueError, match=f"^{name}:"):
            chain_rule_paths(net, x, y, *args)


def test_work_counts_by_hand_for_a_2_4_1_net():
    # Forward z = Wa: 8 + 4. Directly: 8 weights × 1 path × 3 (a·g′·W·δ) + 4 × 1 × 1 (a·δ).
    # Backprop: δ of the hidden layer 4 (Wᵀδ) + 4 (⊙g′), and D = δaᵀ 8 + 4.
    w = work_counts([2, 4, 1])
    assert (w.weights, w.paths, w.direct, w.backprop) == (12, 12, 12 + 28, 12 + 8 + 12)


@pytest.mark.parametrize("sizes", [[2, 1], [2, 4, 2, 1], [3, 2, 3, 2], [2, 5, 5, 5, 3]])
def test_work_counts_are_what_writing_out_every_path_does(sizes):
    net = Network(sizes, seed=0)
    x, y = example(sizes, "sigmoid")
    paths, products = 0, 0
    for layer, to, frm in every_weight(sizes):
        p = chain_rule_paths(net, x, y, layer, to, frm, show=MAX_PATHS)
        paths += p.count
        products += sum(len(q.factors) - 1 for q in p.shown)
    w = work_counts(sizes)
    assert w.paths == paths
    assert w.direct == w.weights + products          # the forward pass, then every path's product
    if len(sizes) > 2:
        assert w.direct > w.backprop


def test_direct_work_multiplies_with_depth_while_backprops_adds():
    shallow, deep = work_counts([2, 16, 1]), work_counts([2] + [16] * 6 + [1])
    assert deep.paths / shallow.paths > 16 ** 4
    assert deep.backprop / shallow.backprop < 50
    assert deep.direct / deep.backprop > 1e4


def test_the_api_answers_for_the_focus_example_of_the_current_moment(client, app):
    sid = client.post("/api/sessions", json={"seed": 1, "layers": [4, 3], "dataset": "circle",
                                             "output": "softmax"}).get_json()["id"]
    client.post(f"/api/sessions/{sid}/step", json={"unit": "batch", "count": 3})
    client.post(f"/api/sessions/{sid}/focus", json={"index": 7})
    r = client.get(f"/api/sessions/{sid}/paths?layer=0&to=2&from=1")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    session = app.extensions["sessions"].get(sid)
    net, x, y = session.network, session.X_train[7], session.Y_train[7]
    dW, _ = net.gradients(x[None, :], y[None, :])
    assert (body["step"], body["focus"], body["layer"], body["to"], body["from"]) == (3, 7, 0, 2, 1)
    assert body["count"] == 3 * 2 and body["enumerated"] is True and len(body["shown"]) == 3
    assert body["sum"] == pytest.approx(dW[0][2, 1], rel=1e-9)
    assert body["backprop"] == pytest.approx(body["sum"], rel=1e-9)
    assert body["sum"] == pytest.approx(numerical(net, x, y, 0, 2, 1), rel=1e-5, abs=1e-9)
    first = body["shown"][0]
    assert [f["name"] for f in first["factors"]] == ["a", "g'", "W", "g'", "W", "delta"]
    assert first["units"] == [2, 0, 0]
    assert first["product"] == pytest.approx(prod(f["value"] for f in first["factors"]), rel=1e-12)
    sizes = [2, 4, 3, 2]
    assert [row["sizes"] for row in body["work"]] == [sizes, [2] + [16] * 6 + [2]]
    w = work_counts(sizes)
    assert body["work"][0] == {"sizes": sizes, "weights": w.weights, "paths": w.paths,
                               "direct": w.direct, "backprop": w.backprop}


@pytest.mark.parametrize("query,field", [
    ("to=0&from=0", "layer"), ("layer=3&to=0&from=0", "layer"), ("layer=-1&to=0&from=0", "layer"),
    ("layer=0&to=x&from=0", "to"), ("layer=1&to=3&from=0", "to"), ("layer=0&to=0&from=2", "from"),
    ("layer=0&to=0&from=1.5", "from"), ("layer=0&to=0&from=99999999999999999999", "from"),
    ("layer=--1&to=0&from=0", "layer"), ("layer=%D9%A1&to=0&from=0", "layer"), ("layer=0&to=&from=0", "to"),
])
def test_the_api_names_a_bad_index(client, query, field):
    sid = client.post("/api/sessions", json={"seed": 1, "layers": [4, 3]}).get_json()["id"]
    r = client.get(f"/api/sessions/{sid}/paths?{query}")
    assert r.status_code == 400
    assert r.get_json()["error"]["field"] == field, r.get_json()
    assert client.get("/api/sessions/nope/paths?layer=0&to=0&from=0").status_code == 404


def test_the_api_answers_for_a_moment_of_the_timeline(client, app):
    sid = client.post("/api/sessions", json={"seed": 2, "layers": [3]}).get_json()["id"]
    for _ in range(3):
        client.post(f"/api/sessions/{sid}/step", json={"unit": "batch", "count": 5})
    steps = client.get(f"/api/sessions/{sid}/timeline").get_json()["steps"]
    assert steps[-1] == 15 and 5 in steps
    past = client.get(f"/api/sessions/{sid}/paths?layer=0&to=1&from=0&step=5").get_json()
    now = client.get(f"/api/sessions/{sid}/paths?layer=0&to=1&from=0").get_json()
    assert (past["step"], now["step"]) == (5, 15) and past["sum"] != now["sum"]
    session = app.extensions["sessions"].get(sid)
    then = next(m for m in session.history.snapshots if m.step == 5)
    net = session.network.with_params(then.weights, then.biases)
    x, y = session.X_train[then.focus], session.Y_train[then.focus]
    assert past["sum"] == pytest.approx(net.gradients(x[None, :], y[None, :])[0][0][1, 0], rel=1e-9)
    r = client.get(f"/api/sessions/{sid}/paths?layer=0&to=1&from=0&step=7")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "step"
