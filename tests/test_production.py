"""The production server (gunicorn.conf.py) as deployed: one gthread worker carries many
long-lived frame streams at once, a stream outlives the worker timeout, deleting a
session ends its stream, and stopping the server does not wait for open streams."""

import http.client
import json
import os
import re
import runpy
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from tests.conftest import ROOT, free_port

CONFIG = ROOT / "gunicorn.conf.py"


def start_gunicorn(port: int, *args: str) -> subprocess.Popen:
    """`gunicorn -c gunicorn.conf.py "app:create_app()"` on 127.0.0.1:port (extra command-line
    options override the file); waits until /healthz answers. Its log goes to a pipe read
    by a thread, kept in `proc.log`."""
    env = {**os.environ, "BPL_BIND": f"127.0.0.1:{port}"}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(CONFIG), *args,
                             "app:create_app()"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    proc.log = []
    threading.Thread(target=lambda: proc.log.extend(line.decode(errors="replace") for line in proc.stdout),
                     daemon=True).start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                assert json.loads(r.read())["status"] == "ok"
            return proc
        except OSError:
            time.sleep(0.1)
    stop(proc)
    raise RuntimeError("gunicorn did not start:\n" + "".join(proc.log))


def stop(proc: subprocess.Popen, wait: float = 15) -> float:
    """SIGTERM, as `docker stop` sends it; returns how long gunicorn took to exit
    (kills it past `wait`)."""
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    return time.monotonic() - start


def call(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, dict | None]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        return e.code, None


class FrameReader(threading.Thread):
    """One SSE client in a thread: records (arrival time, step) of every `frame` event
    until `seconds` pass, the stream ends, or `halt` is set."""

    def __init__(self, port: int, session_id: str, seconds: float) -> None:
        super().__init__(daemon=True)
        self.port, self.session_id, self.seconds = port, session_id, seconds
        self.frames: list[tuple[float, int]] = []
        self.status: int | None = None
        self.ended = False            # the server closed the stream
        self.error: Exception | None = None
        self.halt = threading.Event()

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", f"/api/sessions/{self.session_id}/events")
            response = conn.getresponse()
            self.status = response.status
            end, name = time.monotonic() + self.seconds, None
            while time.monotonic() < end and not self.halt.is_set():
                line = response.readline()   # decodes the chunked encoding
                if not line:
                    self.ended = True
                    return
                if line.startswith(b"event: "):
                    name = line[7:].strip()
                elif line.startswith(b"data: ") and name == b"frame":
                    self.frames.append((time.monotonic(), json.loads(line[6:])["step"]))
                elif line == b"\n":
                    name = None
        except Exception as e:   # reported by the test, not lost in a thread
            self.error = e
        finally:
            conn.close()

    def window(self, start: float, end: float) -> list[tuple[float, int]]:
        return [f for f in self.frames if start <= f[0] <= end]


def play(port: int, n: int, seconds: float, settle: float = 1.0) -> tuple[list[str], list[FrameReader], float]:
    """n sessions, each with one reader, all playing; returns when the readers have had
    `settle` seconds to warm up, with the start of the measuring window."""
    ids = []
    for _ in range(n):
        status, body = call(port, "POST", "/api/sessions", {"seed": 1})
        assert status == 201, status
        ids.append(body["id"])
    readers = [FrameReader(port, sid, seconds + settle + 10) for sid in ids]
    for r in readers:
        r.start()
    for sid in ids:
        assert call(port, "POST", f"/api/sessions/{sid}/run")[0] == 200
    time.sleep(settle)
    return ids, readers, time.monotonic()


def test_config_is_one_worker_with_many_threads_on_localhost(monkeypatch):
    for name in ("BPL_BIND", "BPL_THREADS"):
        monkeypatch.delenv(name, raising=False)
    cfg = runpy.run_path(str(CONFIG))
    assert cfg["workers"] == 1 and cfg["worker_class"] == "gthread"
    assert cfg["bind"] == ["127.0.0.1:5000"] and cfg["threads"] >= 64
    assert cfg["accesslog"] is None and cfg["max_requests"] == 0 and not cfg["preload_app"]
    monkeypatch.setenv("BPL_BIND", "0.0.0.0:8000")
    monkeypatch.setenv("BPL_THREADS", "16")
    cfg = runpy.run_path(str(CONFIG))
    assert cfg["bind"] == ["0.0.0.0:8000"] and cfg["threads"] == 16


def test_one_worker_streams_ten_playing_sessions_past_the_worker_timeout():
    """10 sessions play with one reader each for 6 s under a 2-s worker timeout: every
    reader gets frames all along (no gap over 1 s), steps only grow, and the worker is
    never restarted (that would have lost the sessions)."""
    port, seconds = free_port(), 6.0
    server = start_gunicorn(port, "--timeout", "2")
    readers = []
    try:
        ids, readers, start = play(port, 10, seconds)
        time.sleep(seconds)
        end = time.monotonic()
        for r in readers:
            assert r.error is None and r.status == 200 and not r.ended
            frames = r.window(start, end)
            times = [start] + [t for t, _ in frames] + [end]
            gaps = [b - a for a, b in zip(times, times[1:])]
            assert len(frames) >= 5 * seconds, f"{len(frames)} frames in {seconds} s"
            assert max(gaps) < 1.0, f"a {max(gaps):.2f} s gap between frames"
            steps = [s for _, s in frames]
            assert steps == sorted(steps) and steps[-1] > steps[0]
        for sid in ids:
            assert call(port, "GET", f"/api/sessions/{sid}")[0] == 200   # same worker, same sessions
            assert call(port, "POST", f"/api/sessions/{sid}/pause")[0] == 200
            assert call(port, "DELETE", f"/api/sessions/{sid}")[0] == 204
        deadline = time.monotonic() + 3
        for r in readers:
            r.join(timeout=max(0.0, deadline - time.monotonic()))
            assert not r.is_alive() and r.ended, "deleting a session ends its stream at once"
        log = "".join(server.log)
        assert "WORKER TIMEOUT" not in log and log.count("Booting worker") == 1, log
    finally:
        for r in readers:
            r.halt.set()
        stop(server)


def test_stop_does_not_wait_for_open_streams():
    """SIGTERM with a stream open: gunicorn exits within its graceful timeout (5 s), well
    inside the 10 s `docker stop` allows before it kills."""
    port = free_port()
    server = start_gunicorn(port)
    reader = None
    try:
        ids, (reader,), _ = play(port, 1, 30.0, settle=0.5)
        assert reader.frames and reader.is_alive()
        took = stop(server)
        assert server.returncode is not None
        assert took < 9.0, f"gunicorn took {took:.1f} s to stop"
    finally:
        if reader is not None:
            reader.halt.set()
        if server.poll() is None:
            stop(server)


def test_page_and_its_assets_served_by_gunicorn():
    port = free_port()
    server = start_gunicorn(port)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
            html = r.read().decode()
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
        assert assets
        for path in assets:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
                assert r.status == 200 and r.read()
    finally:
        stop(server)
