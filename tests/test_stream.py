"""The SSE stream over real HTTP: a snapshot first, coalesced frames while playing,
no backlog for a slow reader, 404/429 where due."""

import http.client
import json
import time
import urllib.parse
import urllib.request

import pytest


def post(base: str, path: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(base + path, data=json.dumps(body or {}).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


class EventReader:
    """A minimal SSE client: yields (event, data) pairs, with a deadline."""

    def __init__(self, base: str, session_id: str, query: str = "") -> None:
        host, port = base.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=10)
        self.conn.request("GET", f"/api/sessions/{session_id}/events{query}")
        self.response = self.conn.getresponse()

    def events(self, seconds: float, limit: int = 10_000):
        end = time.monotonic() + seconds
        name, data = None, b""
        count = 0
        while time.monotonic() < end and count < limit:
            line = self.response.fp.readline()
            if not line:
                return
            line = line.rstrip(b"\n")
            if line.startswith(b"event: "):
                name = line[7:].decode()
            elif line.startswith(b"data: "):
                data = line[6:]
            elif line == b"" and name:
                yield name, data
                count += 1
                name, data = None, b""

    def close(self) -> None:
        self.conn.close()


def test_stream_sends_snapshot_then_live_frames(live_server):
    s = post(live_server, "/api/sessions", {"seed": 1})
    reader = EventReader(live_server, s["id"])
    assert reader.response.status == 200
    assert reader.response.getheader("Content-Type").startswith("text/event-stream")
    first = next(reader.events(5))
    assert first[0] == "frame"
    frame = json.loads(first[1])
    assert frame["step"] == 0 and frame["sizes"] == [2, 4, 2, 1]
    assert len(frame["focus"]["a"]) == 4 and frame["heatmaps"]["res"] == 16
    post(live_server, f"/api/sessions/{s['id']}/run")
    start = time.monotonic()
    frames = [json.loads(d) for e, d in reader.events(2.0) if e == "frame"]
    elapsed = time.monotonic() - start
    reader.close()
    post(live_server, f"/api/sessions/{s['id']}/pause")
    steps = [f["step"] for f in frames]
    assert steps == sorted(steps) and steps[-1] > 100           # training ran, in order
    assert len(frames) <= 62 * elapsed + 5                       # coalesced to ≤ 60 per second
    assert len(frames) >= 10
    assert frames[-1]["loss"]["train"] < frame["loss"]["train"]


def test_phase_events_in_step_mode(live_server):
    s = post(live_server, "/api/sessions", {"seed": 2, "layers": [3]})
    reader = EventReader(live_server, s["id"])
    events = reader.events(5)
    next(events)
    post(live_server, f"/api/sessions/{s['id']}/step", {"unit": "phase"})
    for name, data in events:
        if name == "phase":
            body = json.loads(data)
            assert body["phase"] == "forward" and body["layer"] == 1
            assert len(body["values"]["a"]) == 3 and len(body["values"]["z"]) == 3
            break
    else:
        pytest.fail("no phase event")
    reader.close()


def test_slow_reader_gets_the_latest_state_not_a_backlog(live_server):
    s = post(live_server, "/api/sessions", {"seed": 3})
    reader = EventReader(live_server, s["id"])
    events = reader.events(10)
    next(events)
    post(live_server, f"/api/sessions/{s['id']}/run")
    time.sleep(2.0)                      # do not read for a while
    post(live_server, f"/api/sessions/{s['id']}/pause")
    final_step = post(live_server, f"/api/sessions/{s['id']}/pause")["step"]
    # What was buffered before the pause is what the sockets' buffers hold (the server's send
    # buffer is cut to 32 KB); then comes the latest. Two seconds of frames queued would be
    # 120 frames, over 600 KB even without their heatmaps.
    received, buffered = 0, 0
    for name, data in events:
        if name == "frame":
            received += 1
            if json.loads(data)["step"] == final_step:
                break
            buffered += len(data)
    reader.close()
    assert buffered <= 300_000 and received <= 80


def test_heatmaps_are_sent_again_only_when_they_look_different(live_server):
    s = post(live_server, "/api/sessions", {"seed": 5})
    reader = EventReader(live_server, s["id"])
    frames = (json.loads(d) for e, d in reader.events(10) if e == "frame")
    first = next(frames)
    assert first["heatmaps"]["res"] == 16 and first["boundary"]["res"] == 48
    post(live_server, f"/api/sessions/{s['id']}/focus", {"index": 3})     # same weights
    same = next(frames)
    assert same["focus"]["index"] == 3 and "heatmaps" not in same and "boundary" not in same
    post(live_server, f"/api/sessions/{s['id']}/weight", {"layer": 0, "to": 0, "from": 0, "value": 4.0})
    changed = next(frames)
    assert changed["weights"][0][0][0] == 4.0
    assert changed["heatmaps"]["layers"][1] != first["heatmaps"]["layers"][1]
    reader.close()


def test_unknown_session_stream_is_404(live_server):
    try:
        urllib.request.urlopen(live_server + "/api/sessions/unknown/events", timeout=5)
    except urllib.error.HTTPError as e:
        assert e.code == 404
        assert json.loads(e.read())["error"]["field"] == "id"
    else:
        pytest.fail("expected 404")


@pytest.mark.parametrize("fps", [5, 20])
def test_a_reader_that_asks_for_fewer_frames_gets_that_many_each_the_newest(live_server, fps):
    s = post(live_server, "/api/sessions", {"seed": 1, "speed": "max"})
    post(live_server, f"/api/sessions/{s['id']}/run")
    paced, full = EventReader(live_server, s["id"], f"?fps={fps}"), EventReader(live_server, s["id"])
    try:
        start = time.monotonic()
        steps = [json.loads(d)["step"] for name, d in paced.events(3.0) if name == "frame"]
        seconds = time.monotonic() - start
        full_count = sum(1 for name, _ in full.events(1.0) if name == "frame")
    finally:
        paced.close()
        full.close()
    assert len(steps) <= fps * seconds + 2, (len(steps), seconds)
    assert len(steps) >= 0.6 * fps * seconds, (len(steps), seconds)    # the pace is kept, not starved
    assert steps == sorted(steps) and len(set(steps)) == len(steps)     # each a newer state
    assert full_count > fps                                              # the other reader is not paced


@pytest.mark.parametrize("fps", ["0", "61", "abc", "5.5", "-3", "²", ""])
def test_a_bad_fps_is_a_400_that_names_it_and_holds_no_stream(live_server, fps):
    s = post(live_server, "/api/sessions", {"seed": 1})
    for _ in range(6):                    # more than the streams a session may hold
        conn = http.client.HTTPConnection(live_server.removeprefix("http://").split(":")[0],
                                          int(live_server.rsplit(":", 1)[1]), timeout=10)
        conn.request("GET", f"/api/sessions/{s['id']}/events?fps={urllib.parse.quote(fps)}")
        r = conn.getresponse()
        body = json.loads(r.read())
        conn.close()
        assert r.status == 400
        assert body["error"]["field"] == "fps" and "1 to 60" in body["error"]["message"]
