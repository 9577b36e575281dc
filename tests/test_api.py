"""The HTTP API contract: every route, its happy path and its errors."""

import json

import pytest


def create(client, **config):
    r = client.post("/api/sessions", json=config)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def error_of(r):
    body = r.get_json()
    assert "error" in body and body["error"]["message"], body
    return body["error"]


def test_create_with_defaults_and_read_back(client):
    s = create(client)
    assert len(s["id"]) >= 22                       # ≥ 128 random bits, url-safe
    assert s["config"]["layers"] == [4, 2] and s["status"] == "paused"
    r = client.get(f"/api/sessions/{s['id']}")
    body = r.get_json()
    assert r.status_code == 200 and body["step"] == 0 and body["epoch"] == 0
    assert set(body["loss"]) == {"train", "test"} and body["loss"]["train"] > 0


def test_same_seed_same_initial_loss(client):
    a, b = create(client, seed=42), create(client, seed=42)
    assert a["loss"] == b["loss"]
    assert create(client, seed=43)["loss"] != a["loss"]


@pytest.mark.parametrize("config, field", [
    ({"layers": [4, 0]}, "layers"), ({"layers": [33]}, "layers"), ({"layers": [1] * 7}, "layers"),
    ({"activation": "swish"}, "activation"), ({"learning_rate": -1}, "learning_rate"),
    ({"learning_rate": "fast"}, "learning_rate"), ({"batch_size": 0}, "batch_size"),
    ({"noise": 80}, "noise"), ({"features": ["x3"]}, "features"), ({"features": []}, "features"),
    ({"dataset": "mnist"}, "dataset"), ({"bogus": 1}, "bogus"), ({"seed": 1.5}, "seed"),
    ({"dataset": "plane", "output": "sigmoid"}, "output"), ({"lambda": True}, "lambda"),
])
def test_bad_config_is_400_naming_the_field(client, config, field):
    r = client.post("/api/sessions", json=config)
    assert r.status_code == 400
    assert error_of(r)["field"] == field


def test_body_must_be_an_object(client):
    r = client.post("/api/sessions", data="[1,2]", content_type="application/json")
    assert r.status_code == 400 and error_of(r)["field"] == "body"


def test_unknown_session_is_404(client):
    for method, path in [("get", ""), ("patch", ""), ("delete", ""), ("post", "/run"),
                         ("post", "/step"), ("get", "/params"), ("get", "/events")]:
        r = getattr(client, method)(f"/api/sessions/nope{path}", json={})
        assert r.status_code == 404, (method, path)
        assert error_of(r)["field"] == "id"


def test_patch_learning_rate_live_and_layers_rebuild(client):
    s = create(client, seed=1)
    sid = s["id"]
    client.post(f"/api/sessions/{sid}/step", json={"unit": "batch", "count": 5})
    r = client.patch(f"/api/sessions/{sid}", json={"learning_rate": 0.1})
    assert r.get_json()["step"] == 5 and r.get_json()["config"]["learning_rate"] == 0.1
    r = client.patch(f"/api/sessions/{sid}", json={"layers": [3]})
    body = r.get_json()
    assert body["sizes"] == [2, 3, 1] and body["step"] == 0
    r = client.patch(f"/api/sessions/{sid}", json={"layers": [3, 99]})
    assert r.status_code == 400 and error_of(r)["field"] == "layers"
    assert client.get(f"/api/sessions/{sid}").get_json()["sizes"] == [2, 3, 1]   # nothing lost


def test_dataset_change_follows_problem_type(client):
    sid = create(client)["id"]
    body = client.patch(f"/api/sessions/{sid}", json={"dataset": "plane"}).get_json()
    assert body["config"]["output"] == "linear" and body["config"]["loss"] == "mse"
    assert body["accuracy"] is None
    body = client.patch(f"/api/sessions/{sid}", json={"dataset": "digits", "layers": [16]}).get_json()
    assert body["sizes"] == [64, 16, 10] and body["config"]["output"] == "sigmoid"


@pytest.mark.parametrize("unit, steps", [("batch", 3), ("epoch", 75), ("example", 0)])
def test_step_units(client, unit, steps):
    sid = create(client, batch_size=10, seed=3)["id"]
    body = client.post(f"/api/sessions/{sid}/step", json={"unit": unit, "count": 3}).get_json()
    assert body["step"] == steps


def test_ten_example_steps_make_one_update_equal_to_the_batch_step(client):
    a = create(client, seed=5, optimizer="gd", points=20, train_ratio=0.5)["id"]
    b = create(client, seed=5, optimizer="gd", points=20, train_ratio=0.5)["id"]
    client.post(f"/api/sessions/{a}/step", json={"unit": "example", "count": 10})
    client.post(f"/api/sessions/{b}/step", json={"unit": "batch"})
    pa, pb = (client.get(f"/api/sessions/{x}/params").get_json() for x in (a, b))
    assert client.get(f"/api/sessions/{a}").get_json()["step"] == 1
    for wa, wb in zip(pa["weights"], pb["weights"]):
        for ra, rb in zip(wa, wb):
            assert ra == pytest.approx(rb, abs=1e-12)


def test_phase_steps_walk_forward_cost_backward_update(client, app):
    sid = create(client, layers=[3, 2], seed=2)["id"]
    session = app.extensions["sessions"].get(sid)
    seen = []
    for _ in range(8):
        client.post(f"/api/sessions/{sid}/step", json={"unit": "phase"})
        c = json.loads(session.events().frame)["cursor"]
        seen.append((c["phase"], c["layer"]))
    assert seen == [("forward", 1), ("forward", 2), ("forward", 3), ("cost", None),
                    ("backward", 3), ("backward", 2), ("backward", 1), ("update", None)]
    assert client.get(f"/api/sessions/{sid}").get_json()["step"] == 1


@pytest.mark.parametrize("body, field", [({"unit": "year"}, "unit"), ({"count": 0}, "count"),
                                         ({"count": "3"}, "count"), ({"count": 10**6}, "count")])
def test_bad_step_is_400(client, body, field):
    sid = create(client)["id"]
    r = client.post(f"/api/sessions/{sid}/step", json=body)
    assert r.status_code == 400 and error_of(r)["field"] == field


def test_reset_returns_to_the_same_initial_weights(client):
    sid = create(client, seed=9)["id"]
    before = client.get(f"/api/sessions/{sid}/params").get_json()
    client.post(f"/api/sessions/{sid}/step", json={"unit": "epoch", "count": 2})
    assert client.get(f"/api/sessions/{sid}/params").get_json() != before
    body = client.post(f"/api/sessions/{sid}/reset").get_json()
    assert body["step"] == 0
    assert client.get(f"/api/sessions/{sid}/params").get_json() == before


def test_regenerate_changes_the_seed(client):
    s = create(client, seed=9)
    body = client.post(f"/api/sessions/{s['id']}/regenerate").get_json()
    assert body["config"]["seed"] != 9


def test_params_round_trip_and_shape_errors(client):
    sid = create(client, layers=[3])["id"]
    params = client.get(f"/api/sessions/{sid}/params").get_json()
    assert [len(w) for w in params["weights"]] == [3, 1] and [len(w[0]) for w in params["weights"]] == [2, 3]
    params["weights"][0][0][0] = 0.75
    r = client.put(f"/api/sessions/{sid}/params", json=params)
    assert r.status_code == 200
    assert client.get(f"/api/sessions/{sid}/params").get_json()["weights"][0][0][0] == 0.75
    params["weights"][0] = [[1, 2]]
    r = client.put(f"/api/sessions/{sid}/params", json=params)
    assert r.status_code == 400 and error_of(r)["field"] == "weights"
    r = client.put(f"/api/sessions/{sid}/params", json={"weights": "x"})
    assert r.status_code == 400


def test_edit_one_weight(client):
    sid = create(client, layers=[3])["id"]
    r = client.post(f"/api/sessions/{sid}/weight", json={"layer": 1, "to": 0, "from": 2, "value": -1.5})
    assert r.status_code == 200
    assert client.get(f"/api/sessions/{sid}/params").get_json()["weights"][1][0][2] == -1.5
    r = client.post(f"/api/sessions/{sid}/weight", json={"layer": 1, "to": 0, "from": 9, "value": 1})
    assert r.status_code == 400 and error_of(r)["field"] == "from"


def test_gradcheck_route(client):
    sid = create(client, layers=[3])["id"]
    body = client.post(f"/api/sessions/{sid}/gradcheck").get_json()
    # inputs span [-6, 6], so central differences' O(ε²) error is larger than on the
    # course's tiny debug network (which meets 1e-9; see test_engine)
    assert body["relative_difference"] < 1e-7
    assert body["forward_passes"] == {"backprop": 2, "numerical": 2 * 13}
    assert body["numerical_seconds"] > 0 and body["backprop_seconds"] > 0
    capped = client.post(f"/api/sessions/{sid}/gradcheck", json={"max_params": 5}).get_json()
    assert capped["checked"] == 5 and capped["sampled"] is True


def test_probe_agrees_with_delta(client):
    sid = create(client, layers=[4, 2], seed=4)["id"]
    for layer, unit in [(1, 0), (2, 1), (3, 0)]:
        body = client.post(f"/api/sessions/{sid}/probe", json={"layer": layer, "unit": unit}).get_json()
        assert abs(body["numerical"] - body["delta"]) < 1e-6
    r = client.post(f"/api/sessions/{sid}/probe", json={"layer": 0, "unit": 0})
    assert r.status_code == 400 and error_of(r)["field"] == "layer"


def test_focus(client):
    sid = create(client)["id"]
    assert client.post(f"/api/sessions/{sid}/focus", json={"index": 7}).get_json()["focus"] == 7
    r = client.post(f"/api/sessions/{sid}/focus", json={"index": 10**6})
    assert r.status_code == 400 and error_of(r)["field"] == "index"


def test_data_and_history(client):
    sid = create(client, points=100)["id"]
    data = client.get(f"/api/sessions/{sid}/data").get_json()
    assert len(data["train"]["x"]) == 50 and len(data["train"]["x"][0]) == 2
    client.post(f"/api/sessions/{sid}/step", json={"unit": "epoch", "count": 2})
    history = client.get(f"/api/sessions/{sid}/history").get_json()
    assert history["step"][0] == 0 and history["step"][-1] == 10
    assert history["train"][-1] < history["train"][0]


def test_delete(client):
    sid = create(client)["id"]
    assert client.delete(f"/api/sessions/{sid}").status_code == 204
    assert client.get(f"/api/sessions/{sid}").status_code == 404


def test_divergence_pauses_with_a_message(client):
    sid = create(client, activation="relu", learning_rate=10, layers=[8, 8], seed=0, optimizer="gd",
                 dataset="plane")["id"]
    body = client.post(f"/api/sessions/{sid}/step", json={"unit": "batch", "count": 50}).get_json()
    assert body["status"] == "diverged" and "learning rate" in body["message"]
    r = client.post(f"/api/sessions/{sid}/run")
    assert r.status_code == 400 and error_of(r)["field"] == "status"
    assert client.post(f"/api/sessions/{sid}/reset").get_json()["status"] == "paused"


def test_foreign_origin_is_refused(client):
    r = client.post("/api/sessions", json={}, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    r = client.post("/api/sessions", json={}, headers={"Origin": "http://localhost"})
    assert r.status_code == 201


def test_security_headers(client):
    r = client.get("/")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"


def test_loss_follows_a_weight_edit_and_a_live_setting_without_a_step(client):
    sid = create(client, seed=1, layers=[3])["id"]
    before = client.get(f"/api/sessions/{sid}").get_json()["loss"]["train"]
    client.post(f"/api/sessions/{sid}/weight", json={"layer": 1, "to": 0, "from": 0, "value": 5.0})
    edited = client.get(f"/api/sessions/{sid}").get_json()["loss"]["train"]
    assert edited != before
    body = client.patch(f"/api/sessions/{sid}", json={"regularization": "l2", "lambda": 10}).get_json()
    assert body["step"] == 0 and body["loss"]["train"] > edited
