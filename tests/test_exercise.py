"""Check your own backprop: the problem a student downloads (JSON, Octave CSVs, .npz) and
the check of their numbers. The "student" below is an independent NumPy implementation
of the course's ex4 (Θ layout, bias column first), correct or with one classic mistake;
the check must say ok to the first and name each mistake."""

import io
import zipfile

import numpy as np
import pytest

from app.engine import Network
from app.engine.exercise import (
    MISTAKES,
    TOLERANCE,
    backprop,
    check,
    mistaken_costs,
    mistaken_gradients,
    read_gradients,
    theta_with_bias_delta,
    to_theta,
)

CONFIG = {"regularization": "l2", "lambda": 1.0, "activation": "tanh", "layers": [4, 3], "seed": 3}
GRADIENT_MISTAKES = ["regularized_bias", "missing_1_over_m", "sign_flipped", "transposed", "no_regularization",
                     "lambda_scale", "missing_g_prime", "delta_of_bias_unit_kept", "wrong_activation_derivative"]


# -- the student: the course's algorithm, written out with its own NumPy ----------------------
def sigmoid(z):
    return 1 / (1 + np.exp(-z))


G = {"sigmoid": (sigmoid, lambda z: sigmoid(z) * (1 - sigmoid(z))),
     "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
     "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0) * 1.0)}


def arrays(problem: dict):
    """Θ matrices, X, Y and λ from the problem as downloaded (JSON)."""
    thetas = [np.column_stack([np.array(b), np.array(W)]) for W, b in zip(problem["weights"], problem["biases"])]
    return thetas, np.array(problem["X"]), np.array(problem["Y"]), problem["lambda"]


def student(thetas, X, Y, lam, activation, output="sigmoid", mistake=None):
    """(J, [Θ-gradients]) by the course's recipe; `mistake` makes one classic slip."""
    g, g_prime = G[activation]
    m = len(X)
    ones = np.ones((m, 1))
    a, z = [np.column_stack([ones, X])], [None]
    for l, T in enumerate(thetas):
        z.append(a[l] @ T.T)
        if l < len(thetas) - 1:
            a.append(np.column_stack([ones, g(z[-1])]))
    if output == "softmax":
        e = np.exp(z[-1] - z[-1].max(axis=1, keepdims=True))
        h = e / e.sum(axis=1, keepdims=True)
        per_example = -np.sum(Y * np.log(h), axis=1)
    else:
        h = sigmoid(z[-1])
        per_example = np.sum(-Y * np.log(h) - (1 - Y) * np.log(1 - h), axis=1)
    squares = sum(np.sum(T[:, 1:] ** 2) for T in thetas)
    J = per_example.sum() / m + lam / (2 * m) * squares
    if mistake == "regularized_bias":
        J += lam / (2 * m) * sum(np.sum(T[:, 0] ** 2) for T in thetas)
    elif mistake == "missing_1_over_m":
        J = per_example.sum() + lam / (2 * m) * squares
    elif mistake == "sign_flipped":
        J = -per_example.sum() / m + lam / (2 * m) * squares
    elif mistake == "no_regularization":
        J = per_example.sum() / m
    elif mistake == "lambda_scale":
        J = per_example.sum() / m + lam / m * squares

    d = (Y - h) if mistake == "sign_flipped" else (h - Y)
    d_used = d                       # the δ that Δ is built from (with δ₀ when it is kept)
    grads = [None] * len(thetas)
    for l in range(len(thetas) - 1, -1, -1):
        Delta = d_used.T @ a[l]
        grad = Delta if mistake == "missing_1_over_m" else Delta / m
        reg = lam / m * thetas[l]
        if mistake == "no_regularization":
            reg = 0 * reg
        elif mistake == "lambda_scale":
            reg = 2 * reg
        if mistake != "regularized_bias":
            reg[:, 0] = 0
        grad[-len(reg):] += reg
        grads[l] = grad.T if mistake == "transposed" else grad
        if l == 0:
            break
        back = d @ thetas[l]
        if mistake == "missing_g_prime":
            d_full = back
        elif mistake == "wrong_activation_derivative":
            d_full = back * g_prime(a[l])                      # g′ of a (bias unit included)
        else:
            d_full = back * np.column_stack([ones, g_prime(z[l])])
        d = d_full[:, 1:]
        d_used = d_full if mistake == "delta_of_bias_unit_kept" else d
    return J, grads


def body(J, grads, layout="theta"):
    if layout == "theta":
        return {"cost": float(J), "weights": [g.tolist() for g in grads]}
    return {"cost": float(J), "weights": [g[:, 1:].tolist() for g in grads],
            "biases": [g[:, 0].tolist() for g in grads]}


@pytest.fixture
def session_id(client):
    r = client.post("/api/sessions", json=CONFIG)
    assert r.status_code == 201, r.json
    return r.json["id"]


def problem_of(client, sid):
    r = client.get(f"/api/sessions/{sid}/problem")
    assert r.status_code == 200
    return r.json


# -- the engine ------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "linear"])
@pytest.mark.parametrize("output, loss", [("sigmoid", "cross_entropy"), ("softmax", "cross_entropy"),
                                          ("linear", "mse"), ("sigmoid", "mse")])
def test_backprop_without_a_mistake_is_the_engines(activation, output, loss):
    net = Network([3, 4, 3, 2], activation=activation, output=output, loss=loss, seed=2)
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(9, 3)), rng.random((9, 2))
    for l2, l1 in ((0.0, 0.0), (0.8, 0.0), (0.0, 0.4)):
        ours, theirs = backprop(net, X, Y, l2, l1), net.gradients(X, Y, l2=l2, l1=l1)
        for a, b in zip([*ours[0], *ours[1]], [*theirs[0], *theirs[1]]):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("sizes", [[3, 4, 3, 2], [3, 3, 3, 3], [2, 1]])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_each_mistake_is_named_and_only_it(sizes, activation, mistake):
    net = Network(sizes, activation=activation, output="sigmoid", seed=1)
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(8, sizes[0])), (rng.random((8, sizes[-1])) > 0.5) * 1.0
    seen = 0
    for dW, db in mistaken_gradients(net, X, Y, mistake, l2=0.7):
        result = check(net, X, Y, 0.7, 0.0, None, read_gradients(net, dW, db))
        if not result.ok:
            assert list(result.findings) == [mistake]
            seen += 1
    for J in mistaken_costs(net, X, Y, mistake, l2=0.7):
        result = check(net, X, Y, 0.7, 0.0, J, None)
        assert not result.ok and list(result.findings) == [mistake]
        seen += 1
    if mistake == "delta_of_bias_unit_kept" and len(sizes) > 2:
        result = check(net, X, Y, 0.7, 0.0, None, read_gradients(net, theta_with_bias_delta(net, X, Y, 0.7), None))
        assert not result.ok and result.findings == {mistake: list(range(len(sizes) - 2))}
        seen += 1
    # relu: g′(a) = g′(z); a 1-unit output layer leaves nothing to transpose by value
    assert seen or (mistake == "wrong_activation_derivative" and activation == "relu") or len(sizes) == 2 or \
        (mistake == "transposed" and sizes[1] != sizes[0])


def test_theta_layout_and_ours_are_told_apart_by_shape():
    net = Network([2, 4, 1], seed=0)
    X, Y = np.ones((3, 2)), np.ones((3, 1))
    dW, db = net.gradients(X, Y)
    g = read_gradients(net, to_theta(dW, db), None)
    assert g.layout == ["theta", "theta"] and not g.findings
    np.testing.assert_array_equal(g.biases[0], db[0])
    g = read_gradients(net, [dW[0].T, dW[1]], db)
    assert g.layout == ["W", "W"] and g.findings == {"transposed": [0]}


# -- the problem -------------------------------------------------------------------------------
def test_problem_is_the_current_weights_and_the_first_training_examples(client, app, session_id):
    p = problem_of(client, session_id)
    assert set(p) == {"weights", "biases", "X", "Y", "lambda", "regularization", "activation", "output", "loss", "m"}
    session = app.extensions["sessions"].get(session_id)
    with session.lock:
        m = min(100, len(session.X_train))
        np.testing.assert_array_equal(np.array(p["X"]), session.X_train[:m])
        np.testing.assert_array_equal(np.array(p["Y"]), session.Y_train[:m])
        for W, ours in zip(p["weights"], session.network.weights):
            np.testing.assert_array_equal(np.array(W), ours)
    assert p["m"] == m == len(p["X"]) and p["lambda"] == 1.0 and p["regularization"] == "l2"
    assert (p["activation"], p["output"], p["loss"]) == ("tanh", "sigmoid", "cross_entropy")


def test_problem_follows_a_step(client, session_id):
    before = problem_of(client, session_id)
    client.post(f"/api/sessions/{session_id}/step", json={"unit": "batch", "count": 1})
    assert problem_of(client, session_id)["weights"] != before["weights"]


def test_digits_problem_is_one_hot_as_the_course_codes_it(client):
    sid = client.post("/api/sessions", json={"dataset": "digits", "layers": [16], "activation": "sigmoid"}).json["id"]
    p = problem_of(client, sid)
    Y = np.array(p["Y"])
    assert p["m"] == 100 and Y.shape == (100, 10) and set(np.unique(Y)) == {0.0, 1.0}
    assert np.all(Y.sum(axis=1) == 1)
    J, grads = student(*arrays(p), p["activation"])
    r = client.post(f"/api/sessions/{sid}/check", json=body(J, grads))
    assert r.status_code == 200 and r.json["ok"], r.json


# -- the check -----------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", ["theta", "W"])
def test_a_correct_student_is_ok(client, session_id, layout):
    p = problem_of(client, session_id)
    J, grads = student(*arrays(p), p["activation"])
    r = client.post(f"/api/sessions/{session_id}/check", json=body(J, grads, layout))
    assert r.status_code == 200
    reply = r.json
    assert reply["ok"] is True and reply["diagnosis"] == []
    assert reply["cost"]["ok"] and reply["cost"]["yours"] == pytest.approx(reply["cost"]["ours"], rel=1e-12)
    assert len(reply["layers"]) == 3
    for layer in reply["layers"]:
        for part in ("weights", "biases"):
            assert layer[part]["ok"] and layer[part]["relative_difference"] < TOLERANCE


@pytest.mark.parametrize("mistake", GRADIENT_MISTAKES)
def test_each_classic_mistake_is_named_in_the_course_words(client, session_id, mistake):
    p = problem_of(client, session_id)
    J, grads = student(*arrays(p), p["activation"], mistake=mistake)
    r = client.post(f"/api/sessions/{session_id}/check", json=body(J, grads))
    assert r.status_code == 200, r.json
    reply = r.json
    assert reply["ok"] is False
    codes = [d["code"] for d in reply["diagnosis"]]
    assert codes == [mistake], reply["diagnosis"]
    assert reply["diagnosis"][0]["message"].startswith(MISTAKES[mistake])
    cost_mistakes = {"regularized_bias", "missing_1_over_m", "sign_flipped", "no_regularization", "lambda_scale"}
    assert reply["cost"]["ok"] is (mistake not in cost_mistakes)
    wrong = [(l, part) for l, layer in enumerate(reply["layers"]) for part in layer if not layer[part]["ok"]]
    if mistake in ("missing_g_prime", "wrong_activation_derivative"):
        assert {l for l, _ in wrong} == {0, 1}         # the layers before the last hidden δ
    if mistake == "regularized_bias":
        assert {part for _, part in wrong} == {"biases"}
    for l, part in wrong:
        assert reply["layers"][l][part]["differs"], (l, part)


def test_the_cost_alone_can_be_checked_first_as_in_ex4(client, session_id):
    p = problem_of(client, session_id)
    J, _ = student(*arrays(p), p["activation"], mistake="no_regularization")
    reply = client.post(f"/api/sessions/{session_id}/check", json={"cost": J}).json
    assert reply["ok"] is False and reply["layers"] == []
    assert [d["code"] for d in reply["diagnosis"]] == ["no_regularization"]


def test_octave_csv_round_trip(client, session_id):
    r = client.get(f"/api/sessions/{session_id}/problem.zip")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    z = zipfile.ZipFile(io.BytesIO(r.data))
    names = set(z.namelist())
    assert {"README.txt", "X.csv", "Y.csv", "Theta1.csv", "Theta2.csv", "Theta3.csv", "problem.txt"} <= names
    read = lambda name: np.loadtxt(io.StringIO(z.read(name).decode()), delimiter=",", ndmin=2)   # noqa: E731  csvread
    thetas = [read(f"Theta{l}.csv") for l in (1, 2, 3)]
    p = problem_of(client, session_id)
    for T, W, b in zip(thetas, p["weights"], p["biases"]):
        np.testing.assert_array_equal(T[:, 0], b)            # the bias column first, exactly
        np.testing.assert_array_equal(T[:, 1:], W)
    info = dict(line.split(",") for line in z.read("problem.txt").decode().splitlines())
    J, grads = student(thetas, read("X.csv"), read("Y.csv"), float(info["lambda"]), info["activation"])
    # dlmwrite(..., 'precision', '%.17g') and back, as an Octave user uploads them
    written = [np.loadtxt(io.StringIO("\n".join(",".join(f"{v:.17g}" for v in row) for row in g)), delimiter=",",
                          ndmin=2) for g in grads]
    reply = client.post(f"/api/sessions/{session_id}/check", json=body(J, written)).json
    assert reply["ok"] is True and reply["layout"] == ["theta"] * 3
    assert "csvread('Theta1.csv')" in z.read("README.txt").decode()


def test_npz_loads_without_pickle(client, session_id):
    r = client.get(f"/api/sessions/{session_id}/problem.npz")
    assert r.status_code == 200
    npz = np.load(io.BytesIO(r.data), allow_pickle=False)
    p = problem_of(client, session_id)
    assert int(npz["layers"]) == 3 and float(npz["lambda"]) == p["lambda"] and str(npz["activation"]) == "tanh"
    np.testing.assert_array_equal(npz["W2"], np.array(p["weights"][1]))
    np.testing.assert_array_equal(npz["b1"], np.array(p["biases"][0]))
    np.testing.assert_array_equal(npz["X"], np.array(p["X"]))


def test_json_download_is_an_attachment(client, session_id):
    r = client.get(f"/api/sessions/{session_id}/problem?download=1")
    assert "attachment" in r.headers["Content-Disposition"] and r.json["m"] == 100


def test_a_wrong_shape_is_a_400_naming_the_expected_shape(client, session_id):
    p = problem_of(client, session_id)
    _, grads = student(*arrays(p), p["activation"])
    grads[1] = np.zeros((5, 5))
    r = client.post(f"/api/sessions/{session_id}/check", json=body(1.0, grads))
    assert r.status_code == 400
    error = r.json["error"]
    assert error["field"] == "weights" and "(3, 4)" in error["message"] and "(3, 5)" in error["message"]
    r = client.post(f"/api/sessions/{session_id}/check", json=body(1.0, grads[:2]))
    assert r.status_code == 400 and "3 layers" in r.json["error"]["message"]


@pytest.mark.parametrize("payload, field", [
    ({"cost": "0.5"}, "cost"),
    ({"cost": True}, "cost"),
    ({"weights": "[[1]]"}, "weights"),
    ({"weights": [[["1", 2]]]}, "weights[0]"),
    ({"weights": [[[1, 2], [3]]]}, "weights[0]"),
    ({"weights": [[[[1]]]]}, "weights[0]"),
    ({}, "weights"),
])
def test_bad_input_is_a_400_naming_the_field(client, session_id, payload, field):
    r = client.post(f"/api/sessions/{session_id}/check", json=payload)
    assert r.status_code == 400 and r.json["error"]["field"] == field, r.json


def test_biases_are_needed_with_our_layout(client, session_id):
    p = problem_of(client, session_id)
    _, grads = student(*arrays(p), p["activation"])
    r = client.post(f"/api/sessions/{session_id}/check", json={"weights": [g[:, 1:].tolist() for g in grads]})
    assert r.status_code == 400 and r.json["error"]["field"] == "biases"


def test_a_problem_the_network_has_moved_away_from_is_a_409(client, session_id):
    r = client.get(f"/api/sessions/{session_id}/problem")
    tag = r.headers["ETag"].strip('"')
    J, grads = student(*arrays(r.json), r.json["activation"])
    assert client.post(f"/api/sessions/{session_id}/check", json={**body(J, grads), "problem": tag}).json["ok"]
    client.post(f"/api/sessions/{session_id}/step", json={"unit": "batch", "count": 1})
    r = client.post(f"/api/sessions/{session_id}/check", json={**body(J, grads), "problem": tag})
    assert r.status_code == 409 and r.json["error"]["field"] == "problem"


def test_an_unknown_session_is_a_404(client):
    assert client.get("/api/sessions/nope/problem").status_code == 404
    assert client.post("/api/sessions/nope/check", json={"cost": 1}).status_code == 404
