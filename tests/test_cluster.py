"""Several processes behind nginx, for real: redis-server, two gunicorn app processes and
nginx with the shipped configuration (deploy/nginx.conf.in), all on 127.0.0.1.

Sessions are spread over the processes by id; one process is killed with SIGKILL in
the middle of training, and every session answers on the other one with its step and
weights: paused ones exactly, running ones with at most a few seconds of training lost.
And the edge holds a slowloris: hundreds of sockets dribbling headers do not keep
normal clients from being served, and nginx drops them after its header timeout."""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from app.training import Limits, Session
from deploy.cluster import render_nginx, start_app, start_nginx, stop, wait_until_up
from tests.conftest import free_port
from tests.test_production import FrameReader, call

PERSIST_SECONDS = 2.0


def start_redis(port: int, run_dir: Path) -> subprocess.Popen:
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(run_dir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start")


class Cluster:
    """nginx on `port` in front of app processes sharing one Redis."""

    def __init__(self, run_dir: Path, processes: int = 2) -> None:
        import redis

        self.run_dir = run_dir
        self.redis_port, self.port = free_port(), free_port()
        self.redis_proc = start_redis(self.redis_port, run_dir)
        self.redis = redis.Redis(port=self.redis_port)
        self.env = {"BPL_STORE": f"redis://127.0.0.1:{self.redis_port}/0",
                    "BPL_ALLOWED_HOSTS": f"127.0.0.1:{self.port}",
                    "BPL_PERSIST_SECONDS": str(PERSIST_SECONDS)}
        self.addresses = [f"127.0.0.1:{free_port()}" for _ in range(processes)]
        self.apps: list[subprocess.Popen | None] = [None] * processes
        self.nginx = None
        try:
            for k in range(processes):
                self.start(k)
            self.nginx = start_nginx(render_nginx(f"127.0.0.1:{self.port}", self.addresses, run_dir / "nginx"),
                                     run_dir / "nginx", f"http://127.0.0.1:{self.port}/healthz")
        except BaseException:
            self.close()
            raise

    def start(self, k: int) -> None:
        self.apps[k] = start_app(self.addresses[k], self.env, log=open(self.run_dir / f"app{k}.log", "ab"))

    def kill(self, k: int) -> None:
        """SIGKILL to gunicorn and its worker at once (their process group)."""
        proc = self.apps[k]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        self.apps[k] = None

    def owner(self, session_id: str) -> int | None:
        """Which app process holds the session's lease (by its worker's parent)."""
        holder = self.redis.get(f"bpl:l:{session_id}")
        if holder is None:
            return None
        pid = int(holder.decode().split("/")[2])
        try:
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            return None
        return next((k for k, p in enumerate(self.apps) if p is not None and p.pid in (pid, parent)), None)

    def record_step(self, session_id: str) -> int:
        """The step of the session's record as the store has it now."""
        fields = self.redis.hmget(f"bpl:s:{session_id}", ["r"])
        return Session.from_record(fields[0], Limits()).moment().step

    def close(self) -> None:
        for proc in [self.nginx, *self.apps]:
            if proc is not None:
                if proc in self.apps:
                    os.killpg(proc.pid, signal.SIGTERM)
                    try:
                        proc.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        os.killpg(proc.pid, signal.SIGKILL)
                        proc.wait(timeout=5)
                else:
                    stop(proc)
        stop(self.redis_proc)


@pytest.fixture
def cluster(tmp_path):
    for tool in ("nginx", "redis-server"):
        assert shutil.which(tool), f"{tool} is missing: bash .ci/run installs it (Debian's package)"
    c = Cluster(tmp_path)
    yield c
    c.close()


def until(what: str, check, seconds: float, every: float = 0.1):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"{what}: not within {seconds:.0f} s")


def settled_owner(cluster: Cluster, sid: str) -> int:
    until("the lease settling", lambda: cluster.owner(sid) is not None, 5)
    return cluster.owner(sid)


def answer(port: int, sid: str, seconds: float = 20) -> tuple[int, dict | None]:
    """GET the session through nginx, again while the answer is a 5xx (nobody up yet)."""
    deadline = time.monotonic() + seconds
    while True:
        status, body = call(port, "GET", f"/api/sessions/{sid}")
        if status < 500 or time.monotonic() > deadline:
            return status, body
        time.sleep(0.1)


def params(port: int, sid: str) -> dict:
    status, body = call(port, "GET", f"/api/sessions/{sid}/params")
    assert status == 200, status
    return body


def test_twenty_sessions_survive_a_killed_process(cluster):
    port = cluster.port
    ids = []
    for i in range(20):
        status, body = call(port, "POST", "/api/sessions", {"seed": i, "layers": [5, 3]})
        assert status == 201, status
        ids.append(body["id"])
    running = set(ids[1::2])
    for i, sid in enumerate(ids):
        assert call(port, "POST", f"/api/sessions/{sid}/step", {"unit": "batch", "count": 3 * i + 1})[0] == 200
        edited = {"layer": 0, "to": 0, "from": 1, "value": round(0.1 * i - 1, 3)}
        assert call(port, "POST", f"/api/sessions/{sid}/weight", edited)[0] == 200
        if sid in running:
            assert call(port, "POST", f"/api/sessions/{sid}/run")[0] == 200
    owners = {sid: settled_owner(cluster, sid) for sid in ids}
    assert set(owners.values()) == {0, 1}, "the hash should spread 20 sessions over both processes"
    victims = [sid for sid in ids if owners[sid] == 0]

    before = {}
    for sid in ids:
        if sid not in running:
            status, summary = call(port, "GET", f"/api/sessions/{sid}")
            before[sid] = (summary["step"], params(port, sid))
    samples: dict[str, list[tuple[float, int]]] = {sid: [] for sid in running}
    end = time.monotonic() + 3.0
    while time.monotonic() < end:           # how each running session's step grows before the kill
        for sid in running:
            status, summary = call(port, "GET", f"/api/sessions/{sid}")
            samples[sid].append((time.monotonic(), summary["step"]))
        time.sleep(0.2)

    killed_at = time.monotonic()
    cluster.kill(0)
    restored = {sid: cluster.record_step(sid) for sid in running}

    lost_sessions, lost_seconds = 0, {}
    for sid in ids:
        status, summary = answer(port, sid)
        if status != 200:
            lost_sessions += 1
            continue
        if sid in running:
            assert summary["status"] == "running"
            reached = [t for t, step in samples[sid] if step >= restored[sid]]
            lost_seconds[sid] = killed_at - reached[0] if reached else 0.0
        else:
            assert summary["status"] == "paused"
            assert (summary["step"], params(port, sid)) == before[sid], "a paused session must come back exactly"
    assert lost_sessions == 0
    worst = max(lost_seconds[sid] for sid in running if sid in victims) if running & set(victims) else 0.0
    print(f"\nkilled process 0 holding {len(victims)} of 20 sessions; lost: 0 sessions, "
          f"running ones at most {worst:.2f} s of training")
    assert worst <= PERSIST_SECONDS + 1.0
    for sid in ids:
        assert until("the survivor holding every session", lambda s=sid: cluster.owner(s) == 1, 10)
    for sid in running:   # and they go on training there
        until("training going on", lambda s=sid: call(port, "GET", f"/api/sessions/{s}")[1]["step"] > restored[s], 10)
    reader = FrameReader(port, victims[0] if victims[0] in running else next(iter(running)), 3)
    reader.start()
    reader.join(timeout=10)
    assert reader.error is None and len(reader.frames) >= 5


def test_a_restarted_process_gets_its_sessions_back_by_handover(cluster):
    """Process 0 dies, its sessions move to 1; when 0 is back, nginx routes their ids to it
    again and process 1 hands them over (writes, stops, lets go): still one owner each."""
    port = cluster.port
    ids = [call(port, "POST", "/api/sessions", {"seed": i})[1]["id"] for i in range(8)]
    for sid in ids:
        assert call(port, "POST", f"/api/sessions/{sid}/step", {"unit": "batch", "count": 5})[0] == 200
    homes = {sid: settled_owner(cluster, sid) for sid in ids}
    cluster.kill(0)
    for sid in ids:
        assert call(port, "GET", f"/api/sessions/{sid}")[0] == 200
        assert cluster.owner(sid) == 1
    cluster.start(0)
    wait_until_up(f"http://{cluster.addresses[0]}/healthz", cluster.apps[0])
    time.sleep(5.5)     # nginx retries a failed server after fail_timeout (5 s)
    for sid in ids:
        status, summary = call(port, "GET", f"/api/sessions/{sid}")
        assert status == 200 and summary["step"] == 5
        assert cluster.owner(sid) == homes[sid]


def slow_client(port: int, seconds: float, dropped: list, lock: threading.Lock) -> None:
    """One slowloris socket: a request line, then a header byte every 0.5 s."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
    except OSError:
        return
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(0.5)
            s.sendall(b"a")
        s.settimeout(0.5)
        s.recv(1)
    except OSError:
        with lock:
            dropped.append(time.monotonic())
    finally:
        s.close()


def test_slowloris_at_the_edge_does_not_starve_normal_clients(cluster):
    """300 sockets each sending a header byte every 0.5 s (the red team's took gunicorn's
    whole thread pool with 200): through nginx normal clients are all served promptly, and
    nginx drops every slow socket after client_header_timeout (10 s)."""
    port, n, seconds = cluster.port, 300, 14.0
    dropped: list[float] = []
    lock = threading.Lock()
    start = time.monotonic()
    slow = [threading.Thread(target=slow_client, args=(port, seconds, dropped, lock), daemon=True) for _ in range(n)]
    for t in slow:
        t.start()
    time.sleep(1.0)
    served, latencies = 0, []
    while time.monotonic() - start < 9.0:
        t0 = time.monotonic()
        status, body = call(port, "POST", "/api/sessions", {"seed": 1})
        assert status == 201
        assert call(port, "GET", f"/api/sessions/{body['id']}")[0] == 200
        assert call(port, "DELETE", f"/api/sessions/{body['id']}")[0] == 204
        latencies.append(time.monotonic() - t0)
        served += 1
        time.sleep(0.3)
    for t in slow:
        t.join(timeout=seconds + 5)
    print(f"\nslowloris: {n} sockets; normal clients {served}/{served} served, "
          f"slowest {max(latencies) * 1000:.0f} ms; {len(dropped)} slow sockets dropped by nginx")
    assert served >= 10 and max(latencies) < 2.0
    assert len(dropped) >= 0.95 * n, f"only {len(dropped)} of {n} slow sockets were dropped"
    assert min(dropped) - start >= 9.0, "nginx gives a client its header timeout, not less"
