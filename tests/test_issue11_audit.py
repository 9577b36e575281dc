"""Issue 11's maths and failure findings, checked on the session (not only the bare engine):
λ has one scale everywhere — the batch gradient the session steps with is the gradient of
the J it plots, with the penalty divided by m_train, on the phase walk and on the
course's example loop alike; the probe gives the focus example's δ beside the batch's;
the tour's divergence recipe diverges for most seeds and says where; ReLU's failure at a
large learning rate is named as dead units; the course's 64-25-10 net is buildable and
32 is the cap; the tour opens in the course's setting."""

import re
from pathlib import Path

import numpy as np
import orjson
import pytest

from app.training.session import Session

ROOT = Path(__file__).parent.parent
LAMBDA = 1.5


def frame_of(s: Session) -> dict:
    with s.lock:
        return orjson.loads(s.events().frame)


def shown_J(s: Session, weights: list) -> float:
    """The J the page plots (the loss chart, the maths panel's J), for other weights."""
    net = s.network.with_params(weights, s.network.biases)
    return s.problem.evaluate(net, s.l2, s.l1)["loss"]["train"]


def numerical_gradient_of_shown_J(s: Session, eps: float = 1e-5) -> list:
    weights = [W.copy() for W in s.network.weights]
    grads = []
    for W in weights:
        g = np.zeros_like(W)
        for i in np.ndindex(W.shape):
            old = W[i]
            W[i] = old + eps
            plus = shown_J(s, weights)
            W[i] = old - eps
            minus = shown_J(s, weights)
            W[i] = old
            g[i] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads


@pytest.mark.parametrize("regularization", ["l2", "l1"])
def test_the_batch_gradient_penalty_is_lambda_over_m_train_and_follows_the_plotted_J(regularization):
    s = Session("m", {"seed": 3, "layers": [3], "optimizer": "sgd", "batch_size": 10,
                      "regularization": regularization, "lambda": LAMBDA})
    m_train = len(s.X_train)
    assert m_train == 250
    s.step("phase", 1)                      # the walk of the first batch begins
    walk = s.trainer.cursor
    idx = walk.indices
    assert len(idx) == 10
    net = s.network
    plain_W, _ = net.gradients(s.X_train[idx], s.Y_train[idx])   # Δ/m_batch, no penalty
    for l, W in enumerate(net.weights):
        penalty = walk.trace.grad_W[l] - plain_W[l]
        expected = LAMBDA / m_train * (W if regularization == "l2" else np.sign(W))
        np.testing.assert_allclose(penalty, expected, rtol=1e-9, atol=1e-15)
        # not the batch's m: that would be 25× stronger than the J on screen
        assert not np.allclose(penalty, LAMBDA / 10 * (W if regularization == "l2" else np.sign(W)))

    # The penalty J shows is λ/(2·m_train)·ΣW² (or λ/m_train·Σ|W|), and so is the maths
    # panel's: both read the frame, whose m's say which is which.
    s.step("phase", 4)                      # forward 1, 2, cost, backward 2
    f = frame_of(s)
    assert f["cursor"]["phase"] == "backward"
    assert f["maths"]["m_batch"] == 10 and f["maths"]["m_train"] == m_train
    squares = sum(float(np.sum(W * W)) for W in net.weights)
    sizes = sum(float(np.sum(np.abs(W))) for W in net.weights)
    want = LAMBDA / (2 * m_train) * squares if regularization == "l2" else LAMBDA / m_train * sizes
    assert f["maths"]["penalty"] == pytest.approx(want, rel=1e-12)
    assert f["loss"]["train"] == pytest.approx(shown_J(s, net.weights), rel=1e-12)

    # Averaged over one epoch's partition into batches, the session's batch gradients are
    # exactly the gradient of the plotted J: the same J, one convention.
    reg = s.trainer.reg
    order = np.random.default_rng(0).permutation(m_train)
    parts = [net.trace(s.X_train[b], s.Y_train[b], reg.l2, reg.l1, reg.m).grad_W
             for b in np.split(order, m_train // 10)]
    numerical = numerical_gradient_of_shown_J(s)
    for l in range(len(net.weights)):
        np.testing.assert_allclose(np.mean([p[l] for p in parts], axis=0), numerical[l], rtol=1e-5, atol=1e-8)


def test_full_batch_gradient_descent_steps_along_the_gradient_of_the_plotted_J():
    s = Session("m", {"seed": 4, "layers": [3], "optimizer": "gd", "regularization": "l2",
                      "lambda": LAMBDA})
    s.step("phase", 1)
    walk = s.trainer.cursor
    assert len(walk.indices) == len(s.X_train)
    numerical = numerical_gradient_of_shown_J(s)
    for l in range(len(s.network.weights)):
        np.testing.assert_allclose(walk.trace.grad_W[l], numerical[l], rtol=1e-5, atol=1e-8)


def test_the_course_example_loop_divides_the_penalty_by_m_train_too():
    s = Session("m", {"seed": 5, "layers": [3], "optimizer": "sgd", "batch_size": 10,
                      "regularization": "l2", "lambda": LAMBDA})
    s.step("example", 9)
    loop = s.trainer.cursor
    before = [W.copy() for W in s.network.weights]
    s.step("example", 1)                    # the 10th example: D = Δ/m + (λ/m_train)·W, then the update
    assert s.trainer.cursor is None and s.trainer.step == 1
    net = s.network.with_params(before, [b - db for b, db in zip(s.network.biases, s.trainer.last.change_b)])
    want = net.gradients(s.X_train[loop.indices], s.Y_train[loop.indices], l2=LAMBDA, reg_m=len(s.X_train))[0]
    for got, expected in zip(s.trainer.last.grad_W, want):
        np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_the_probe_gives_the_focus_examples_delta_beside_the_batch_average(app, client):
    sid = client.post("/api/sessions", json={"seed": 2, "layers": [4]}).get_json()["id"]
    assert client.post(f"/api/sessions/{sid}/focus", json={"index": 7}).status_code == 200
    client.post(f"/api/sessions/{sid}/step", json={"unit": "phase", "count": 5})   # forward 1, 2, cost, backward 2, 1
    s = app.extensions["sessions"].get(sid)
    f = frame_of(s)
    assert f["focus"]["index"] == 7 and f["cursor"]["phase"] == "backward"
    body = client.post(f"/api/sessions/{sid}/probe", json={"layer": 1, "unit": 2, "h": 1e-5}).get_json()
    assert body["focus"] == 7 and body["m"] == 10
    # the focus example's own δ is the one the maths panel shows (the frame's focus δ) ...
    assert body["focus_delta"] == pytest.approx(f["focus"]["delta"][1][2], rel=1e-5)
    assert body["focus_numerical"] == pytest.approx(body["focus_delta"], abs=1e-8)
    # ... and the batch's is the mean of its examples' δs, a different number
    walk = s.trainer.cursor
    assert body["delta"] == pytest.approx(walk.trace.delta[1][:, 2].mean(), rel=1e-9)
    assert body["numerical"] == pytest.approx(body["delta"], abs=1e-8)
    assert body["delta"] != pytest.approx(body["focus_delta"], rel=1e-3)


def tour() -> str:
    return (ROOT / "docs" / "tour.md").read_text()


@pytest.mark.parametrize("optimizer", ["gd", "sgd"])   # the tour's setting and the page's default
def test_the_tours_divergence_recipe_diverges_for_most_seeds_and_says_where(optimizer):
    text = " ".join(tour().split())
    assert "**plane** and a learning rate of 3" in text      # the recipe the page's tour gives
    diverged = 0
    for seed in range(10):
        s = Session("m", {"seed": seed, "dataset": "plane", "learning_rate": 3.0, "optimizer": optimizer})
        s.step("epoch", 20)
        if s.status != "diverged":
            continue
        diverged += 1
        assert re.search(r"unit \d+ of layer \d+ .* at step \d+", s.message), s.message
        assert "learning rate" in s.message
        # the divergence screen's numbers are the true ones: J as computed, the real max |w|
        f = frame_of(s)
        assert f["status"] == "diverged"
        true_J = s.problem.evaluate(s.network, s.l2, s.l1)["loss"]["train"]
        assert f["loss"]["train"] == pytest.approx(true_J, rel=1e-9)
        true_max = max(float(np.abs(W).max()) for W in s.network.weights)
        shown_max = max(float(np.nanmax(np.abs(np.array(W, dtype=float)))) for W in f["weights"])
        if np.isfinite(true_max) and true_max < 3e38:        # what float32 can carry
            assert shown_max == pytest.approx(true_max, rel=1e-6)
            assert true_max > 1e6
    assert diverged >= 8, f"only {diverged} of 10 seeds diverged"


def test_relu_at_learning_rate_3_dies_and_the_message_names_the_dead_layer():
    assert "ReLU at a learning rate of 3 on **circle** with Optimizer `sgd`" in " ".join(tour().split())
    named = 0
    for seed in range(10):
        s = Session("m", {"seed": seed, "activation": "relu", "learning_rate": 3.0, "optimizer": "sgd"})
        s.step("epoch", 20)
        assert s.status != "diverged"
        if s.message and re.search(r"units? of hidden layer \d+ output 0 for every training example", s.message):
            named += 1
            assert "dead ReLU" in s.message and "no gradient flows back" in s.message
    assert named >= 8, f"only {named} of 10 seeds named the dead layer"


def test_the_courses_64_25_10_network_is_buildable_and_32_units_is_the_cap(client):
    r = client.post("/api/sessions", json={"dataset": "digits", "layers": [25], "seed": 1})
    assert r.status_code == 201 and r.get_json()["sizes"] == [64, 25, 10]
    assert client.post("/api/sessions", json={"layers": [32, 32]}).status_code == 201
    r = client.post("/api/sessions", json={"layers": [33]})
    assert r.status_code == 400
    assert r.get_json()["error"]["field"] == "layers" and "32" in r.get_json()["error"]["message"]


def test_the_tour_opens_in_the_courses_setting(client):
    """The tour's first link is full-batch gradient descent, as the course trains."""
    link = re.search(r"<(http://127\.0\.0\.1:5000/\?[^>]*)>", tour())
    assert link, "the tour opens the page with a link that holds the course's setting"
    query = dict(p.split("=", 1) for p in link.group(1).split("?", 1)[1].split("&"))
    assert query.get("optimizer") == "gd"
    r = client.post("/api/sessions", json={"optimizer": query["optimizer"]})
    assert r.status_code == 201
    sid = r.get_json()["id"]
    client.post(f"/api/sessions/{sid}/step", json={"unit": "batch", "count": 1})
    body = client.get(f"/api/sessions/{sid}").get_json()
    assert body["config"]["optimizer"] == "gd" and body["epoch"] == 1     # one update = the whole training set


def test_a_saturated_layer_is_named_when_the_run_stalls_and_a_trained_one_is_not():
    from app.engine.diagnosis import stalled_layer

    named = 0
    for seed in range(10):
        s = Session("m", {"seed": seed, "learning_rate": 10.0})     # tanh at α = 10: stuck near chance
        s.step("epoch", 20)
        assert s.status != "diverged"
        said = stalled_layer(s.network, s.X_train, s.Y_train)
        if said:
            named += 1
            assert s.message == said          # the session says it (the page shows the session's message)
            assert re.search(r"tanh units of hidden layer \d+ are saturated: more than 95 % of their z", said), said
            assert "no better than guessing a constant (J = 0.69" in said and "lower learning rate" in said
    assert named >= 8, f"only {named} of 10 stalled runs were named"
    # Trained networks saturate units too (up to 96 % at α = 1), but learned: nothing to say.
    for seed, rate in ((0, 0.03), (1, 0.3), (2, 1.0), (3, 1.0)):
        s = Session("m", {"seed": seed, "learning_rate": rate})
        s.step("epoch", 300)
        assert stalled_layer(s.network, s.X_train, s.Y_train) is None, (seed, rate)


def test_the_dead_relu_diagnosis_is_the_sessions_own():
    from app.engine.diagnosis import stalled_layer

    s = Session("m", {"seed": 0, "activation": "relu", "learning_rate": 3.0, "optimizer": "sgd"})
    s.step("epoch", 20)
    assert "dead ReLUs" in s.message
    assert stalled_layer(s.network, s.X_train, s.Y_train) == s.message


def test_gradient_checking_checks_the_gradient_of_the_same_j(app, client):
    sid = client.post("/api/sessions", json={"seed": 6, "regularization": "l2", "lambda": LAMBDA}).get_json()["id"]
    body = client.post(f"/api/sessions/{sid}/gradcheck").get_json()
    s = app.extensions["sessions"].get(sid)
    assert body["m"] == 100 and body["checked"] == body["parameters"]
    assert body["relative_difference"] < body["threshold"]
    dW, db = s.network.gradients(s.X_train[:100], s.Y_train[:100], l2=LAMBDA, reg_m=len(s.X_train))
    np.testing.assert_allclose(body["backprop"], np.concatenate([g.ravel() for g in [*dW, *db]]), rtol=1e-12)


def test_a_dead_layers_message_goes_once_the_weights_no_longer_stall_it():
    """Dead ReLUs named, then the student imports live weights (PUT /params): after three
    checks in a row find no stalled layer, the message goes; before that it stays."""
    for seed in range(10):
        s = Session("m", {"seed": seed, "activation": "relu", "learning_rate": 3.0, "optimizer": "sgd"})
        s.step("epoch", 20)
        if s.message and "dead ReLUs" in s.message:
            break
    else:
        pytest.fail("no seed of 10 killed its ReLUs")
    dead = s.message
    s.step("batch")
    assert s.message == dead                              # still dead: still said
    fresh = Session("f", {"seed": seed, "activation": "relu"}).params()
    s.update_config({"learning_rate": 0.03})
    s.set_params(fresh["weights"], fresh["biases"])       # check 1 without a stalled layer
    assert s.message == dead
    s.step("batch")                                       # check 2
    assert s.message == dead
    s.step("batch")                                       # check 3: it goes
    assert s.message is None
    assert s.trainer.stalled_layer() is None
