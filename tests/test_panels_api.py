"""The server facts the explanation panels (static/js/panels/) rely on: gradient checking
on the small network the browser test uses, the probe's range of h, the sweep's rows, and
the frame fields for symmetry, gradient flow and the digits confusion matrix."""

import numpy as np
import orjson

SMALL_NET = {"seed": 1, "layers": [3], "activation": "sigmoid", "init_epsilon": 0.12, "dataset": "xor"}


def create(client, **config):
    r = client.post("/api/sessions", json=config)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def session_of(app, sid):
    return app.extensions["sessions"].get(sid)


def test_small_net_meets_the_courses_threshold(client):
    sid = create(client, **SMALL_NET)
    body = client.post(f"/api/sessions/{sid}/gradcheck").get_json()
    assert body["relative_difference"] < 1e-9
    assert body["parameters"] == body["checked"] == 13 and body["sampled"] is False
    # The scatter plots backprop against numerical, one point per checked parameter.
    b, n = np.array(body["backprop"]), np.array(body["numerical"])
    assert b.shape == n.shape == (13,)
    assert np.allclose(b, n, rtol=1e-6, atol=1e-10)
    assert body["forward_passes"] == {"backprop": 2, "numerical": 26}


def test_gradcheck_on_digits_samples_and_says_so(client):
    sid = create(client, seed=1, dataset="digits", layers=[16])
    body = client.post(f"/api/sessions/{sid}/gradcheck").get_json()
    assert body["parameters"] == 64 * 16 + 16 + 16 * 10 + 10
    assert body["sampled"] is True and len(body["backprop"]) == body["checked"] < body["parameters"]
    assert body["forward_passes"]["numerical"] == 2 * body["checked"]
    assert body["relative_difference"] < 1e-7


def test_sweep_rows_have_what_the_chart_draws(client):
    sid = create(client, seed=1)
    body = client.post(f"/api/sessions/{sid}/gradcheck/sweep").get_json()
    assert body["hidden_layers"] == 2
    rows = body["rows"]
    assert [r["width"] for r in rows] == sorted(r["width"] for r in rows)
    for r in rows:
        assert r["parameters"] > 0 and r["backprop_seconds"] > 0 and r["numerical_seconds"] > 0
        assert r["forward_passes"]["numerical"] == 2 * r["parameters"]
    assert rows[-1]["numerical_seconds"] > rows[-1]["backprop_seconds"]


def test_probe_accepts_the_panels_nudges_and_refuses_bad_ones(client):
    sid = create(client, seed=3)
    for h in (1e-6, 1e-4, 1e-2, 0.1, 1.0):   # the panel's h choices and its curve's nudges
        body = client.post(f"/api/sessions/{sid}/probe", json={"layer": 1, "unit": 1, "h": h}).get_json()
        assert body["cost_plus"] is not None and body["cost_minus"] is not None
    small = client.post(f"/api/sessions/{sid}/probe", json={"layer": 2, "unit": 0, "h": 1e-4}).get_json()
    assert abs(small["numerical"] - small["delta"]) < 1e-6
    for bad in ({"layer": 1, "unit": 9}, {"layer": 9, "unit": 0}, {"layer": 1, "unit": 0, "h": 2},
                {"layer": 1, "unit": 0, "h": "x"}):
        r = client.post(f"/api/sessions/{sid}/probe", json=bad)
        assert r.status_code == 400, bad
    r = client.post(f"/api/sessions/{sid}/gradcheck", json={"max_params": 0})
    assert r.status_code == 400


def test_zeros_init_keeps_symmetry_random_does_not(app, client):
    zeros = create(client, seed=1, init="zeros", activation="sigmoid")
    client.post(f"/api/sessions/{zeros}/step", json={"unit": "epoch", "count": 2})
    s = session_of(app, zeros)
    with s.lock:
        frame = orjson.loads(s.events().frame)
    assert frame["init"] == "zeros" and frame["symmetry"] == [0.0, 0.0]
    random = create(client, seed=1)
    client.post(f"/api/sessions/{random}/step", json={"unit": "epoch", "count": 2})
    s = session_of(app, random)
    with s.lock:
        frame = orjson.loads(s.events().frame)
    assert all(d > 0.1 for d in frame["symmetry"])
    assert len(frame["grad_norms"]) == 3 and all(g > 0 for g in frame["grad_norms"])


def test_digits_frame_has_a_confusion_matrix(app, client):
    sid = create(client, seed=1, dataset="digits", layers=[16])
    client.post(f"/api/sessions/{sid}/step", json={"unit": "epoch", "count": 2})
    s = session_of(app, sid)
    with s.lock:
        frame = orjson.loads(s.events().frame)
    c = frame["confusion"]
    assert c["labels"] == [str(k) for k in range(10)]
    m = np.asarray(c["matrix"])
    assert m.shape == (10, 10) and m.sum() == len(s.X_test)
    assert np.trace(m) / m.sum() > 0.5
    assert frame["sizes"] == [64, 16, 10]


def test_logistic_regression_frame(app, client):
    sid = create(client, seed=1, layers=[])
    s = session_of(app, sid)
    with s.lock:
        frame = orjson.loads(s.events().frame)
    assert frame["sizes"] == [2, 1] and frame["symmetry"] == []
    body = client.post(f"/api/sessions/{sid}/probe", json={"layer": 1, "unit": 0}).get_json()
    assert abs(body["numerical"] - body["delta"]) < 1e-6
