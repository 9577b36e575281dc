"""Limits, expiry, isolation, concurrency and memory: many students on one server."""

import gc
import random
import threading
import time

import numpy as np
import pytest

from app import create_app
from app.training import Limits
from app.training.frames import build_frame


def make_client(**limits):
    app = create_app({"TESTING": True, "LIMITS": Limits(**limits)})
    app.config["MAX_CONTENT_LENGTH"] = app.config["LIMITS"].max_upload_bytes
    return app, app.test_client()


def test_limits_come_from_the_environment():
    limits = Limits.from_env({"BPL_MAX_SESSIONS": "7", "BPL_SESSION_TTL": "2.5", "BPL_MAX_UNITS": "8"})
    assert (limits.max_sessions, limits.session_ttl, limits.max_units) == (7, 2.5, 8)
    assert Limits.from_env({}).max_layers == 6


def test_session_cap_is_429_with_a_message():
    app, client = make_client(max_sessions=3)
    for _ in range(3):
        assert client.post("/api/sessions", json={}).status_code == 201
    r = client.post("/api/sessions", json={})
    assert r.status_code == 429 and "sessions" in r.get_json()["error"]["message"]
    app.extensions["sessions"].close_all()


def test_unit_and_point_caps_follow_limits():
    app, client = make_client(max_units=8, max_points=300)
    r = client.post("/api/sessions", json={"layers": [9]})
    assert r.status_code == 400 and "8" in r.get_json()["error"]["message"]
    r = client.post("/api/sessions", json={"points": 301})
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "points"
    app.extensions["sessions"].close_all()


def test_upload_too_large_is_413():
    app, client = make_client(max_upload_bytes=1000)
    sid = client.post("/api/sessions", json={}).get_json()["id"]
    r = client.post(f"/api/sessions/{sid}/upload", data=b"a,b\n" + b"1,2\n" * 1000, content_type="text/csv")
    assert r.status_code == 413 and "1 KB" in r.get_json()["error"]["message"]
    app.extensions["sessions"].close_all()


def test_idle_sessions_expire_and_their_training_stops():
    app, client = make_client(session_ttl=0.3)
    sid = client.post("/api/sessions", json={"speed": "max"}).get_json()["id"]
    session = app.extensions["sessions"].get(sid)
    client.post(f"/api/sessions/{sid}/run")
    time.sleep(1.0)
    assert client.get(f"/api/sessions/{sid}").status_code == 404
    assert session.closed and session.status == "paused"
    steps = session.step_count
    time.sleep(0.2)
    assert session.step_count == steps
    app.extensions["sessions"].close_all()


def test_gradcheck_work_is_capped():
    app, client = make_client(max_gradcheck_params=20)
    sid = client.post("/api/sessions", json={"layers": [8, 8]}).get_json()["id"]
    body = client.post(f"/api/sessions/{sid}/gradcheck").get_json()
    assert body["checked"] == 20 and body["sampled"] and body["parameters"] > 20
    app.extensions["sessions"].close_all()


def test_stream_cap_per_session(live_server):
    import http.client
    import json
    import urllib.request

    req = urllib.request.Request(live_server + "/api/sessions", data=b"{}", method="POST",
                                 headers={"Content-Type": "application/json"})
    sid = json.loads(urllib.request.urlopen(req).read())["id"]
    host, port = live_server.removeprefix("http://").split(":")
    conns = []
    try:
        statuses = []
        for _ in range(5):
            c = http.client.HTTPConnection(host, int(port), timeout=5)
            c.request("GET", f"/api/sessions/{sid}/events")
            response = c.getresponse()
            statuses.append(response.status)
            conns.append((c, response))
        assert statuses == [200, 200, 200, 200, 429]
    finally:
        for c, _ in conns:
            c.close()


def test_csv_errors_keep_the_previous_dataset(client):
    sid = client.post("/api/sessions", json={"seed": 1}).get_json()["id"]
    good = "a,b,y\n" + "\n".join(f"{i % 5},{i % 3},{i % 2}" for i in range(40))
    bad_files = {
        "non-numeric": b"a,b,y\n1,2,0\n1,x,1\n3,4,0\n",
        "ragged": b"a,b,y\n1,2,0\n1,2\n3,4,1\n",
        "empty": b"",
        "binary": bytes(range(256)) * 4,
        "one class": b"a,b,y\n1,2,0\n3,4,0\n5,6,0\n",
        "too many columns": (",".join(f"c{i}" for i in range(80)) + "\n" + ",".join("1" * 80) + "\n") .encode() * 1,
        "too many rows": ("a,y\n" + "1,0\n2,1\n" * 1500).encode(),
    }
    for name, data in bad_files.items():
        r = client.post(f"/api/sessions/{sid}/upload", data=data, content_type="text/csv")
        assert r.status_code == 400, name
        err = r.get_json()["error"]
        assert err["field"] == "file" and len(err["message"]) > 15, name
        assert client.get(f"/api/sessions/{sid}").get_json()["config"]["dataset"] == "circle", name
    r = client.post(f"/api/sessions/{sid}/upload", data=good.encode(), content_type="text/csv")
    body = r.get_json()
    assert r.status_code == 200 and body["config"]["dataset"] == "csv" and body["sizes"][0] == 2
    assert body["upload"]["problem"] == "classification"
    client.post(f"/api/sessions/{sid}/step", json={"unit": "epoch", "count": 5})
    assert client.get(f"/api/sessions/{sid}").get_json()["step"] > 0


def consistent(session) -> None:
    with session.lock:
        net = session.network
        for l, (W, b) in enumerate(zip(net.weights, net.biases)):
            assert W.shape == (net.sizes[l + 1], net.sizes[l]) and b.shape == (net.sizes[l + 1],)
            assert np.isfinite(W).all() and np.isfinite(b).all()
        build_frame(session)


def test_commands_racing_the_worker_keep_state_consistent(app, client):
    sid = client.post("/api/sessions", json={"seed": 1, "speed": "max"}).get_json()["id"]
    session = app.extensions["sessions"].get(sid)
    client.post(f"/api/sessions/{sid}/run")
    errors = []
    stop = time.monotonic() + 3

    def hammer(seed):
        rnd = random.Random(seed)
        c = app.test_client()
        while time.monotonic() < stop:
            op = rnd.choice(["lr", "layers", "reset", "step", "run", "pause", "focus", "activation"])
            try:
                if op == "lr":
                    r = c.patch(f"/api/sessions/{sid}", json={"learning_rate": rnd.choice([0.01, 0.03, 0.1])})
                elif op == "layers":
                    r = c.patch(f"/api/sessions/{sid}", json={"layers": [rnd.randint(1, 5)] * rnd.randint(0, 3)})
                elif op == "activation":
                    r = c.patch(f"/api/sessions/{sid}", json={"activation": rnd.choice(["tanh", "sigmoid", "relu"])})
                elif op == "step":
                    r = c.post(f"/api/sessions/{sid}/step", json={"unit": rnd.choice(["phase", "example", "batch"])})
                elif op == "focus":
                    r = c.post(f"/api/sessions/{sid}/focus", json={"index": rnd.randint(0, 100)})
                else:
                    r = c.post(f"/api/sessions/{sid}/{op}")
                assert r.status_code < 500
                consistent(session)
            except Exception as e:  # collect, the main thread asserts
                errors.append(repr(e))

    steps = []

    def watch():
        while time.monotonic() < stop:
            with session.lock:
                steps.append((session.generation, session.step_count))
            time.sleep(0.002)

    threads = [threading.Thread(target=hammer, args=(k,)) for k in range(4)] + [threading.Thread(target=watch)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    client.post(f"/api/sessions/{sid}/pause")
    assert errors == []
    # between resets and rebuilds (a new generation), the step counter only moves forward
    for (g0, a), (g1, b) in zip(steps, steps[1:]):
        assert g1 > g0 or (g1 == g0 and b >= a)


def test_delete_while_streaming_ends_the_stream(live_server):
    import http.client
    import json
    import urllib.request

    def call(method, path, body=b"{}"):
        req = urllib.request.Request(live_server + path, data=body, method=method,
                                     headers={"Content-Type": "application/json"})
        return urllib.request.urlopen(req, timeout=5)

    sid = json.loads(call("POST", "/api/sessions").read())["id"]
    host, port = live_server.removeprefix("http://").split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=5)
    c.request("GET", f"/api/sessions/{sid}/events")
    r = c.getresponse()
    call("POST", f"/api/sessions/{sid}/run")
    r.fp.readline()
    call("DELETE", f"/api/sessions/{sid}", None)
    seen_error = False
    end = time.monotonic() + 5
    while time.monotonic() < end:
        line = r.fp.readline()
        if not line:
            break
        if line.startswith(b"event: error"):
            seen_error = True
    assert seen_error
    c.close()


def test_stalled_reader_does_not_block_the_worker_or_others(live_server):
    import http.client
    import json
    import urllib.request

    def post(path, body=None):
        req = urllib.request.Request(live_server + path, data=json.dumps(body or {}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        return json.loads(urllib.request.urlopen(req, timeout=5).read())

    sid = post("/api/sessions", {"seed": 1})["id"]
    host, port = live_server.removeprefix("http://").split(":")
    stalled = http.client.HTTPConnection(host, int(port), timeout=5)
    stalled.request("GET", f"/api/sessions/{sid}/events")
    stalled.getresponse()                      # ...and never read again
    healthy = http.client.HTTPConnection(host, int(port), timeout=5)
    healthy.request("GET", f"/api/sessions/{sid}/events")
    reader = healthy.getresponse()
    post(f"/api/sessions/{sid}/run")
    time.sleep(1.5)
    a = post(f"/api/sessions/{sid}/pause")["step"]
    post(f"/api/sessions/{sid}/run")
    time.sleep(1.5)
    b = post(f"/api/sessions/{sid}/pause")["step"]
    assert b - a > 1000                        # the worker kept training
    frames = 0
    end = time.monotonic() + 3
    while time.monotonic() < end and frames < 20:
        if reader.fp.readline().startswith(b"event: frame"):
            frames += 1
    assert frames >= 20                        # the other reader kept receiving
    stalled.close()
    healthy.close()


@pytest.mark.parametrize("cycles", [2000])
def test_memory_stays_flat_over_create_step_delete_cycles(cycles):
    import resource

    app, client = make_client(max_sessions=50)

    def rss_kb() -> int:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))

    def cycle():
        sid = client.post("/api/sessions", json={"points": 100, "seed": 1}).get_json()["id"]
        client.post(f"/api/sessions/{sid}/step", json={"unit": "batch", "count": 3})
        client.get(f"/api/sessions/{sid}")
        assert client.delete(f"/api/sessions/{sid}").status_code == 204

    for _ in range(200):          # warm up caches and allocator pools
        cycle()
    gc.collect()
    before = rss_kb()
    for _ in range(cycles):
        cycle()
    gc.collect()
    growth = rss_kb() - before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"RSS growth over {cycles} cycles: {growth} KB (peak {peak} KB)")
    assert growth < 20_000
    assert threading.active_count() < 10
    app.extensions["sessions"].close_all()


def test_server_wide_stream_cap_is_503_with_retry_after():
    app, client = make_client(max_total_streams=2)
    ids = [client.post("/api/sessions", json={}).get_json()["id"] for _ in range(3)]
    open_streams = [client.get(f"/api/sessions/{sid}/events", buffered=False) for sid in ids[:2]]
    assert [r.status_code for r in open_streams] == [200, 200]
    r = client.get(f"/api/sessions/{ids[2]}/events")
    assert r.status_code == 503 and r.headers["Retry-After"] == "2"
    assert "maximum of 2 streams" in r.get_json()["error"]["message"]
    for response in open_streams:
        response.close()
    assert client.get(f"/api/sessions/{ids[2]}/events", buffered=False).status_code == 200
    app.extensions["sessions"].close_all()


def test_pause_and_run_in_quick_succession_keep_training(app, client):
    """run right after pause must not be lost in the scheduler (a race found by CI)."""
    sid = client.post("/api/sessions", json={"seed": 1}).get_json()["id"]
    session = app.extensions["sessions"].get(sid)
    for _ in range(200):
        client.post(f"/api/sessions/{sid}/run")
        client.post(f"/api/sessions/{sid}/pause")
    client.post(f"/api/sessions/{sid}/run")
    before = session.step_count
    time.sleep(0.5)
    assert session.step_count > before + 100
    client.post(f"/api/sessions/{sid}/pause")
