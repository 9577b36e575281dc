"""POST /api/sessions/<id>/fork: a new session from the parent's current moment, with an
optional config patch. Without a patch the two stay identical step for step; a live
patch (α, optimizer, λ…) makes them differ from the next update on; a structural patch
restarts both from step 0 of the same seed."""

import time

import numpy as np
import pytest

from app import create_app
from app.training import Limits


@pytest.fixture
def app(tmp_path):
    """The durable default store (SQLite), in a file of this test's own."""
    app = create_app({"TESTING": True, "STREAM_HEARTBEAT": 0.5, "STREAM_MAX_SECONDS": 5.0,
                      "STORE": f"sqlite:///{tmp_path / 'sessions.db'}"})
    yield app
    app.extensions["sessions"].close_all()


BASE = {"seed": 7, "dataset": "circle", "points": 200, "layers": [4, 2], "batch_size": 10}


def create(client, **config) -> dict:
    r = client.post("/api/sessions", json={**BASE, **config})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def fork(client, sid: str, patch=None):
    if patch is None:
        return client.post(f"/api/sessions/{sid}/fork")
    return client.post(f"/api/sessions/{sid}/fork", json=patch)


def step(client, sid: str, unit: str = "batch", count: int = 1) -> dict:
    r = client.post(f"/api/sessions/{sid}/step", json={"unit": unit, "count": count})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def params(client, sid: str) -> list[np.ndarray]:
    p = client.get(f"/api/sessions/{sid}/params").get_json()
    return [np.array(a, dtype=float) for a in (*p["weights"], *p["biases"])]


def summary(client, sid: str) -> dict:
    r = client.get(f"/api/sessions/{sid}")
    assert r.status_code == 200
    return r.get_json()


def assert_same_params(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.shape == y.shape
        assert np.array_equal(x, y)   # exactly: same floats, not merely close


# -- no patch: an exact copy that stays exact ---------------------------------------

def test_fork_answers_201_with_the_same_shape_as_a_new_session(client):
    parent = create(client)
    step(client, parent["id"], count=3)
    r = fork(client, parent["id"])
    assert r.status_code == 201
    child = r.get_json()
    assert set(child) == set(parent)
    assert child["id"] != parent["id"] and len(child["id"]) >= 22   # ≥ 128 random bits
    assert child["config"] == summary(client, parent["id"])["config"]
    assert child["step"] == 3 and child["epoch"] == summary(client, parent["id"])["epoch"]


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "gd"])
def test_without_a_patch_parent_and_fork_stay_identical_step_for_step(client, optimizer):
    parent = create(client, optimizer=optimizer, learning_rate=0.1)["id"]
    step(client, parent, count=7)                 # mid-epoch: the batch order must carry over
    child = fork(client, parent, {}).get_json()["id"]
    assert_same_params(params(client, parent), params(client, child))
    for unit, count in (("batch", 5), ("epoch", 2), ("batch", 13)):
        a, b = step(client, parent, unit, count), step(client, child, unit, count)
        assert a["step"] == b["step"] and a["epoch"] == b["epoch"]
        assert a["loss"] == b["loss"]
        assert_same_params(params(client, parent), params(client, child))
    assert a["step"] >= 7 + 5 + 2 + 13        # (gd makes one update an epoch, sgd several)


def test_an_empty_body_and_an_empty_object_are_both_no_patch(client):
    parent = create(client)["id"]
    step(client, parent, count=4)
    for r in (fork(client, parent), fork(client, parent, {})):
        assert r.status_code == 201
        child = r.get_json()["id"]
        step(client, child, count=6)
    step(client, parent, count=6)
    assert_same_params(params(client, parent), params(client, child))


def test_a_fork_in_the_middle_of_a_phase_walk_walks_on_identically(client):
    parent = create(client)["id"]
    step(client, parent, count=2)
    step(client, parent, "phase", 3)              # inside the forward pass of a batch
    child = fork(client, parent).get_json()["id"]
    for _ in range(12):                           # through cost, backward, update and on
        step(client, parent, "phase")
        step(client, child, "phase")
        assert_same_params(params(client, parent), params(client, child))
    assert summary(client, parent)["step"] == summary(client, child)["step"] >= 3


def test_parent_and_fork_are_independent_sessions(client):
    parent = create(client)["id"]
    child = fork(client, parent).get_json()["id"]
    step(client, child, count=5)
    assert summary(client, parent)["step"] == 0 and summary(client, child)["step"] == 5
    assert client.delete(f"/api/sessions/{parent}").status_code == 204
    assert summary(client, child)["step"] == 5
    assert client.post(f"/api/sessions/{parent}/fork").status_code == 404


# -- a live patch: same moment, different from the next update on -------------------

def test_a_tenfold_learning_rate_makes_a_tenfold_first_update(client):
    parent = create(client, optimizer="sgd", learning_rate=0.03)["id"]
    step(client, parent, count=9)
    r = fork(client, parent, {"learning_rate": 0.3})
    assert r.status_code == 201
    child = r.get_json()
    assert child["step"] == 9 and child["config"]["learning_rate"] == 0.3
    assert summary(client, parent)["config"]["learning_rate"] == 0.03   # the parent keeps its α
    before = params(client, parent)
    assert_same_params(before, params(client, child["id"]))

    step(client, parent)
    step(client, child["id"])
    moved_a = [p - q for p, q in zip(params(client, parent), before)]
    moved_b = [p - q for p, q in zip(params(client, child["id"]), before)]
    # The same weights and the same batch give the same gradient D, so W ← W − αD moves
    # the fork exactly ten times as far.
    for da, db in zip(moved_a, moved_b):
        assert np.abs(da).max() > 0
        np.testing.assert_allclose(db, 10 * da, rtol=1e-9, atol=1e-15)
    step(client, parent, count=20)
    step(client, child["id"], count=20)
    assert summary(client, parent)["loss"] != summary(client, child["id"])["loss"]


def test_a_live_patch_keeps_the_step_and_the_data(client):
    parent = create(client)["id"]
    step(client, parent, count=6)
    child = fork(client, parent, {"regularization": "l2", "lambda": 1.0}).get_json()
    assert child["step"] == 6
    assert child["config"]["lambda"] == 1.0 and child["config"]["regularization"] == "l2"
    assert summary(client, parent)["step"] == 6
    data_a = client.get(f"/api/sessions/{parent}/data").get_json()
    data_b = client.get(f"/api/sessions/{child['id']}/data").get_json()
    assert data_a["train"] == data_b["train"] and data_a["test"] == data_b["test"]


# -- a structural patch: both from step 0 of the same seed ---------------------------

def fresh(client, config: dict, steps: int = 0) -> list[np.ndarray]:
    """The weights a brand-new session with this configuration has after `steps` batches."""
    sid = client.post("/api/sessions", json=config).get_json()["id"]
    if steps:
        step(client, sid, count=steps)
    weights = params(client, sid)
    client.delete(f"/api/sessions/{sid}")
    return weights


def test_a_structural_patch_restarts_both_from_step_0_of_the_same_seed(client):
    parent = create(client, learning_rate=0.03)
    step(client, parent["id"], count=12)
    r = fork(client, parent["id"], {"learning_rate": 0.3, "layers": [8]})
    assert r.status_code == 201
    child = r.get_json()
    after = summary(client, parent["id"])
    assert child["step"] == 0 and after["step"] == 0 and after["epoch"] == 0
    assert after["config"] == parent["config"]                     # the parent is reset, not changed
    assert child["config"]["seed"] == parent["config"]["seed"] == 7
    assert child["config"]["layers"] == [8] and child["config"]["learning_rate"] == 0.3
    assert child["sizes"] == [2, 8, 1] and after["sizes"] == [2, 4, 2, 1]

    # "The same seed": the same data points, and each run's initial weights exactly those a
    # brand-new session with its configuration starts from …
    data_a = client.get(f"/api/sessions/{parent['id']}/data").get_json()
    data_b = client.get(f"/api/sessions/{child['id']}/data").get_json()
    assert data_a["train"] == data_b["train"] and data_a["test"] == data_b["test"]
    assert_same_params(params(client, parent["id"]), fresh(client, parent["config"]))
    assert_same_params(params(client, child["id"]), fresh(client, child["config"]))
    # … and the same batch order from there: each run replays its brand-new twin exactly.
    step(client, parent["id"], count=15)
    step(client, child["id"], count=15)
    assert_same_params(params(client, parent["id"]), fresh(client, parent["config"], 15))
    assert_same_params(params(client, child["id"]), fresh(client, child["config"], 15))


def test_a_structural_patch_of_the_data_keeps_the_initial_weights(client):
    """Same seed, same shapes: the two runs start from identical weights on different data."""
    parent = create(client)["id"]
    step(client, parent, count=5)
    child = fork(client, parent, {"learning_rate": 0.3, "noise": 20}).get_json()
    assert child["step"] == 0 and summary(client, parent)["step"] == 0
    assert_same_params(params(client, parent), params(client, child["id"]))
    data_a = client.get(f"/api/sessions/{parent}/data").get_json()
    data_b = client.get(f"/api/sessions/{child['id']}/data").get_json()
    assert data_a["train"] != data_b["train"]


def test_random_vs_constant_init_compares_like_with_like(client):
    parent = create(client)["id"]
    step(client, parent, count=5)
    child = fork(client, parent, {"init": "constant"}).get_json()["id"]
    assert summary(client, parent)["step"] == summary(client, child)["step"] == 0
    assert client.get(f"/api/sessions/{parent}/data").get_json()["train"] == \
        client.get(f"/api/sessions/{child}/data").get_json()["train"]
    rows = params(client, child)[0]                # first hidden layer's incoming weights
    assert np.all(rows == rows[0])                 # every unit starts the same: the symmetry
    assert not np.all(params(client, parent)[0] == params(client, parent)[0][0])


def test_a_new_seed_in_the_patch_is_a_different_run(client):
    parent = create(client)["id"]
    child = fork(client, parent, {"seed": 8}).get_json()
    assert child["config"]["seed"] == 8
    assert client.get(f"/api/sessions/{parent}/data").get_json()["train"] != \
        client.get(f"/api/sessions/{child['id']}/data").get_json()["train"]


# -- errors ---------------------------------------------------------------------------

def test_an_unknown_session_is_404(client):
    r = fork(client, "no-such-session", {})
    assert r.status_code == 404
    assert r.get_json()["error"]["field"] == "id"


@pytest.mark.parametrize("patch, field", [
    ({"learning_rate": "fast"}, "learning_rate"),
    ({"learning_rate": -1}, "learning_rate"),
    ({"layers": [4, 2], "activation": "swish"}, "activation"),
    ({"layers": [0]}, "layers"),
    ({"optimizer": 3}, "optimizer"),
])
def test_a_bad_patch_is_400_naming_the_field_and_changes_nothing(client, patch, field):
    parent = create(client)["id"]
    step(client, parent, count=5)
    before = params(client, parent)
    r = fork(client, parent, {**patch, "init": "zeros"})   # a structural change rides along
    assert r.status_code == 400
    assert r.get_json()["error"]["field"] == field
    assert r.get_json()["error"]["message"]
    assert summary(client, parent)["step"] == 5          # the parent was not reset
    assert_same_params(before, params(client, parent))


@pytest.mark.parametrize("body", [b"[1, 2]", b'"lr"', b"{not json", b"3"])
def test_a_body_that_is_not_a_json_object_is_400(client, body):
    parent = create(client)["id"]
    r = client.post(f"/api/sessions/{parent}/fork", data=body, content_type="application/json")
    assert r.status_code == 400
    assert r.get_json()["error"]["field"] == "body"


def test_a_cross_origin_fork_is_refused(client):
    parent = create(client)["id"]
    r = client.post(f"/api/sessions/{parent}/fork", json={}, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403


# -- forks are sessions: the cap and expiry apply ----------------------------------

@pytest.fixture
def small_app(tmp_path):
    app = create_app({"TESTING": True, "LIMITS": Limits(max_sessions=2, session_ttl=0.4),
                      "STORE": f"sqlite:///{tmp_path / 'sessions.db'}"})
    yield app
    app.extensions["sessions"].close_all()


def test_forks_count_against_the_session_cap(small_app):
    client = small_app.test_client()
    parent = create(client)["id"]
    child = fork(client, parent).get_json()["id"]
    r = fork(client, parent)
    assert r.status_code == 429
    assert r.get_json()["error"]["message"]
    assert client.post("/api/sessions", json={}).status_code == 429
    assert client.delete(f"/api/sessions/{child}").status_code == 204
    assert fork(client, parent).status_code == 201


def test_an_idle_fork_expires_like_any_session(small_app):
    client = small_app.test_client()
    parent = create(client)["id"]
    child = fork(client, parent).get_json()["id"]
    end = time.monotonic() + 1.5                  # TTL 0.4 s: keep only the parent in use
    while time.monotonic() < end:
        summary(client, parent)
        time.sleep(0.05)
    assert client.get(f"/api/sessions/{child}").status_code == 404
    assert client.get(f"/api/sessions/{parent}").status_code == 200
