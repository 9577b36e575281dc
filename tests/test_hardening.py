"""Limits, expiry, isolation, concurrency and memory: many students on one server."""

import gc
import random
import threading
import time

import numpy as np
import pytest

from app import create_app
from app.training import Limits


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
    steps = session.moment().step
    time.sleep(0.2)
    assert session.moment().step == steps
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
        session.events()


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
                steps.append((session.generation, session.moment().step))
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


def test_the_memory_for_sessions_is_capped_with_a_clear_429(monkeypatch):
    """Sessions × their size per process: beyond the cap a new session is a 429 that says
    why, and the sessions already there keep working."""
    monkeypatch.setenv("BPL_MAX_MEMORY_MB", "3")
    app, client = make_client(max_sessions=500)
    big = {"dataset": "digits", "layers": [32] * 6, "seed": 1}
    made, r = [], None
    for _ in range(60):
        r = client.post("/api/sessions", json=big)
        if r.status_code != 201:
            break
        made.append(r.get_json()["id"])
    assert made and r.status_code == 429, (len(made), r.status_code)
    assert "memory for sessions is full" in r.get_json()["error"]["message"]
    assert int(r.headers["Retry-After"]) > 0
    assert client.post(f"/api/sessions/{made[0]}/step", json={"unit": "batch"}).status_code == 200
    assert client.delete(f"/api/sessions/{made[0]}").status_code == 204     # room again
    assert client.post("/api/sessions", json=big).status_code == 201
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
    before = session.moment().step
    time.sleep(0.5)
    assert session.moment().step > before + 100
    client.post(f"/api/sessions/{sid}/pause")


# -- round 2 (issue 14): what a red team found ------------------------------------------
def live_post(base: str, path: str, body: bytes = b"{}", headers: dict | None = None):
    import urllib.request

    req = urllib.request.Request(base + path, data=body, method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    return urllib.request.urlopen(req, timeout=10)


def chunked(base: str, path: str, body: bytes, content_type: str, piece: int = 64 * 1024):
    """POST `body` with Transfer-Encoding: chunked (no Content-Length), as curl -T - does."""
    import http.client
    import json

    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.putrequest("POST", path)
    conn.putheader("Transfer-Encoding", "chunked")
    conn.putheader("Content-Type", content_type)
    conn.endheaders()
    try:
        for i in range(0, len(body), piece):
            part = body[i:i + piece]
            conn.send(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        conn.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass   # the server may answer 413 and close before it has read everything
    response = conn.getresponse()
    status, reply = response.status, json.loads(response.read() or b"null")
    conn.close()
    return status, reply


def test_head_on_the_stream_holds_no_slot(app, client, live_server):
    """10 HEADs, then a GET still streams (a HEAD never iterates the body)."""
    import http.client
    import json

    sid = client.post("/api/sessions", json={}).get_json()["id"]
    session = app.extensions["sessions"].get(sid)
    for _ in range(10):
        r = client.head(f"/api/sessions/{sid}/events")
        r.close()             # what every WSGI server does with a response
        assert r.status_code == 200
    assert session.streams == 0
    r = client.get(f"/api/sessions/{sid}/events", buffered=False)
    assert r.status_code == 200 and next(r.response).startswith(b"retry:")
    r.close()
    assert session.streams == 0

    sid = json.loads(live_post(live_server, "/api/sessions").read())["id"]
    host, port = live_server.removeprefix("http://").split(":")
    for _ in range(10):
        c = http.client.HTTPConnection(host, int(port), timeout=5)
        c.request("HEAD", f"/api/sessions/{sid}/events")
        assert c.getresponse().status == 200
        c.close()
    c = http.client.HTTPConnection(host, int(port), timeout=5)
    c.request("GET", f"/api/sessions/{sid}/events")
    response = c.getresponse()
    assert response.status == 200
    assert response.read(6) == b"retry:"
    c.close()


def test_a_long_step_leaves_the_server_responsive(app):
    """The biggest network, 1000 epochs: the step stops by itself and says how much it
    did; meanwhile another command on the session answers 409 at once and /healthz
    answers."""
    limits = app.config["LIMITS"]
    client = app.test_client()
    sid = client.post("/api/sessions", json={"dataset": "digits", "layers": [limits.max_units] * limits.max_layers,
                                             "batch_size": 1, "seed": 1}).get_json()["id"]
    replies = {}

    def long_step():
        started = time.monotonic()
        r = app.test_client().post(f"/api/sessions/{sid}/step", json={"unit": "epoch", "count": 1000})
        replies["step"] = (r.status_code, r.get_json(), time.monotonic() - started)

    worker = threading.Thread(target=long_step)
    worker.start()
    time.sleep(0.3)
    started = time.monotonic()
    r = client.post(f"/api/sessions/{sid}/pause")
    busy_after = time.monotonic() - started
    started = time.monotonic()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    health_after = time.monotonic() - started
    worker.join(timeout=30)
    status, body, seconds = replies["step"]
    assert status == 200 and body["done"] < 1000 and seconds < 10
    assert r.status_code == 409 and r.headers["Retry-After"] and "busy" in r.get_json()["error"]["message"]
    assert busy_after < 1.0 and health_after < 1.0


def test_nul_bytes_and_non_ascii_digits_are_4xx(client):
    for path in ("/static/js%00.js", "/static/%00", "/static/js/main.js%00", "/static/..%00/app.py"):
        r = client.get(path)
        assert r.status_code in (400, 404), path
    sid = client.post("/api/sessions", json={}).get_json()["id"]
    csv = b"a,b,y\n" + b"".join(b"%d,%d,%d\n" % (i, i % 7, i % 2) for i in range(40))
    for target in ("²", "٣", "１", "3"):
        r = client.post(f"/api/sessions/{sid}/upload?target={target}", data=csv, content_type="text/csv")
        assert r.status_code == 400, target
        error = r.get_json()["error"]
        assert error["field"] == "file" and target in error["message"], error


def test_chunked_bodies_over_the_limit_are_413(app, client, live_server):
    import io

    limit = app.config["MAX_CONTENT_LENGTH"]
    rows = 1800
    big_csv = b"a,b,y\n" + b"".join(b"%d.25,%d.5,%d\n" % (i, i % 97, i % 2) for i in range(rows)) * 60
    assert len(big_csv) > limit
    big_json = b'{"seed": 3, "pad": "' + b"x" * (10 * limit) + b'"}'
    sid = client.post("/api/sessions", json={}).get_json()["id"]
    chunked_env = {"wsgi.input_terminated": True}
    for path, body, kind in ((f"/api/sessions/{sid}/upload", big_csv, "text/csv"),
                             ("/api/sessions", big_json, "application/json"),
                             (f"/api/sessions/{sid}", big_json, "application/json")):
        method = client.patch if path.endswith(sid) else client.post
        r = method(path, input_stream=io.BytesIO(body), environ_overrides=chunked_env,
                   headers={"Transfer-Encoding": "chunked", "Content-Type": kind})
        assert r.status_code == 413, path
        assert "at most" in r.get_json()["error"]["message"]
    assert client.get(f"/api/sessions/{sid}").get_json()["config"]["dataset"] == "circle"

    # over real sockets, through the server's own chunked decoding
    import json
    live = json.loads(live_post(live_server, "/api/sessions").read())["id"]
    status, reply = chunked(live_server, f"/api/sessions/{live}/upload", big_csv, "text/csv")
    assert status == 413 and "at most" in reply["error"]["message"]
    status, reply = chunked(live_server, "/api/sessions", big_json, "application/json")
    assert status == 413
    # under the limit, nothing is lost: every row arrives
    small = b"a,b,y\n" + b"".join(b"%d,%d,%d\n" % (i, i % 7, i % 2) for i in range(rows))
    status, reply = chunked(live_server, f"/api/sessions/{live}/upload", small, "text/csv", piece=1000)
    assert status == 200 and reply["upload"]["rows"] == rows
    status, reply = chunked(live_server, "/api/sessions", b'{"seed": 12345}', "application/json")
    assert status == 201 and reply["config"]["seed"] == 12345


def test_a_page_load_holds_no_session():
    app, client = make_client(max_sessions=2)
    for seed in range(50):
        assert client.get(f"/?seed={seed}").status_code == 200
        assert client.head(f"/?seed={seed}").status_code == 200
    assert len(app.extensions["sessions"]) == 0
    ids = [client.post("/api/sessions", json={"seed": 1}).get_json()["id"] for _ in range(2)]
    r = client.post("/api/sessions", json={})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "sessions" in r.get_json()["error"]["message"]
    # the page's first frame is the frame of the session its script then creates
    page = client.get("/?seed=1").get_data(as_text=True)
    first = page.split('id="first-frame">', 1)[1].split("</script>", 1)[0]
    import json
    embedded = json.loads(first.replace("<\\/", "</"))
    real = json.loads(app.extensions["sessions"].get(ids[0]).events().frame)
    assert embedded["weights"] == real["weights"] and embedded["loss"] == real["loss"]
    app.extensions["sessions"].close_all()


def test_cross_site_state_creation_is_refused(client):
    for site in ("cross-site", "same-site"):
        r = client.post("/api/sessions", json={}, headers={"Sec-Fetch-Site": site})
        assert r.status_code == 403 and r.get_json()["error"]["field"] == "origin"
    for site in ("same-origin", "none"):
        assert client.post("/api/sessions", json={}, headers={"Sec-Fetch-Site": site}).status_code == 201
    r = client.get("/?seed=4", headers={"Sec-Fetch-Site": "cross-site"})   # an <img src=…>: harmless
    assert r.status_code == 200


@pytest.mark.parametrize("path, method", [("/api/sessions", "post"), ("", "patch"), ("/step", "post"),
                                          ("/weight", "post"), ("/params", "put"), ("/focus", "post")])
def test_json_routes_require_json(client, path, method):
    sid = client.post("/api/sessions", json={}).get_json()["id"]
    url = path if path.startswith("/api") else f"/api/sessions/{sid}{path}"
    for content_type in ("application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"):
        r = getattr(client, method)(url, data='{"seed": 3, "count": 5}', content_type=content_type)
        assert r.status_code == 415, content_type
        assert "application/json" in r.get_json()["error"]["message"]
    if method == "post" and path in ("/api/sessions", "/step"):   # an empty optional body needs no type
        assert getattr(client, method)(url).status_code in (200, 201)


@pytest.mark.parametrize("literal", ["NaN", "-Infinity", "Infinity", "1e999", "-2.5E400"])
def test_non_finite_literals_are_named(client, literal):
    r = client.post("/api/sessions", data=f'{{"learning_rate": {literal}}}', content_type="application/json")
    error = r.get_json()["error"]
    assert r.status_code == 400 and literal in error["message"] and error["field"] == "learning_rate"
    r = client.post("/api/sessions", data=f"[{literal}]", content_type="application/json")
    assert r.status_code == 400 and literal in r.get_json()["error"]["message"]


@pytest.mark.parametrize("bad", [1e308, -2e6, True, False, "0.5", None, [0.1]])
def test_params_and_weight_share_one_rule(client, bad):
    sid = client.post("/api/sessions", json={"layers": [3]}).get_json()["id"]
    params = client.get(f"/api/sessions/{sid}/params").get_json()
    weights = [[[bad if (l, i, j) == (1, 0, 2) else w for j, w in enumerate(row)]
                for i, row in enumerate(W)] for l, W in enumerate(params["weights"])]
    r = client.put(f"/api/sessions/{sid}/params", json={"weights": weights, "biases": params["biases"]})
    error = r.get_json()["error"]
    assert r.status_code == 400 and error["field"] == "weights" and "weights[1][0][2]" in error["message"]
    assert "1e6" in error["message"]
    biases = [list(b) for b in params["biases"]]
    biases[0][1] = bad
    r = client.put(f"/api/sessions/{sid}/params", json={"weights": params["weights"], "biases": biases})
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "biases"
    r = client.post(f"/api/sessions/{sid}/weight", json={"layer": 1, "to": 0, "from": 2, "value": bad})
    error = r.get_json()["error"]
    assert r.status_code == 400 and error["field"] == "value" and "1e6" in error["message"]
    assert client.get(f"/api/sessions/{sid}/params").get_json() == params      # nothing changed
    edge = 1e6
    weights[1][0][2] = edge
    assert client.put(f"/api/sessions/{sid}/params",
                      json={"weights": weights, "biases": params["biases"]}).status_code == 200
    assert client.post(f"/api/sessions/{sid}/weight",
                       json={"layer": 1, "to": 0, "from": 2, "value": -edge}).status_code == 200


def test_no_store_and_a_quiet_healthz(client):
    sid = client.post("/api/sessions", json={}).get_json()["id"]
    for path in ("/", f"/api/sessions/{sid}", f"/api/sessions/{sid}/params", "/api/sessions/nope", "/healthz"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    r = client.post("/api/sessions", json={})
    assert r.headers["Cache-Control"] == "no-store"
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert "no-store" not in client.get("/static/js/main.js").headers["Cache-Control"]


def test_origin_check_does_not_trust_the_host_header():
    app, client = make_client()
    server = {"SERVER_PORT": "5000"}
    # a forged Host equal to the Origin (DNS rebinding) is refused
    r = client.post("/api/sessions", json={}, environ_overrides=server,
                    headers={"Host": "evil.example:5000", "Origin": "http://evil.example:5000"})
    assert r.status_code == 403 and "BPL_ALLOWED_HOSTS" in r.get_json()["error"]["message"]
    # this server on loopback, with its port and scheme
    for origin, status in (("http://127.0.0.1:5000", 201), ("http://localhost:5000", 201),
                           ("https://127.0.0.1:5000", 403), ("http://127.0.0.1:5001", 403)):
        r = client.post("/api/sessions", json={}, environ_overrides=server, headers={"Origin": origin})
        assert r.status_code == status, origin
    app.extensions["sessions"].close_all()

    app = create_app({"TESTING": True, "ALLOWED_HOSTS": ["class.example.org:8080", "https://lens.example.org"]})
    client = app.test_client()
    for origin, status in (("http://class.example.org:8080", 201), ("https://class.example.org:8080", 403),
                           ("https://lens.example.org", 201), ("http://lens.example.org", 403)):
        r = client.post("/api/sessions", json={}, environ_overrides=server, headers={"Origin": origin})
        assert r.status_code == status, origin
    app.extensions["sessions"].close_all()


def test_allowed_hosts_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("BPL_ALLOWED_HOSTS", "a.example:5000, https://b.example")
    app = create_app({"TESTING": True})
    assert app.config["ALLOWED_HOSTS"] == ["a.example:5000", "https://b.example"]
    app.extensions["sessions"].close_all()


@pytest.mark.parametrize("port", ["99999", "-1", "0", "http"])
def test_a_bad_port_is_a_clear_message_and_exit_code_2(port):
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run([sys.executable, "-m", "app", "--port", port], cwd=Path(__file__).parent.parent,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "argument --port" in done.stderr and "1 to 65535" in done.stderr
    assert "Traceback" not in done.stderr
