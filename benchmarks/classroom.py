"""A classroom on one server: N sessions playing at full speed, each with one SSE
reader, against one server on 127.0.0.1. Reports per-client frames/s, the p99 gap
between frames, training steps/s per session (fairness: min/max) and the server's
memory over the run; `--sweep` raises N until a target is missed.

    python -m benchmarks.classroom                  # N = 30 for 20 s
    python -m benchmarks.classroom --seconds 300    # the 5-minute memory check
    python -m benchmarks.classroom --sweep 10,20,30,40,50,60
    python -m benchmarks.classroom --server gunicorn
    python -m benchmarks.classroom --processes 2         # 2 gunicorn processes behind nginx
    python -m benchmarks.classroom --store memory        # persistence off (the baseline)

Targets (issue "Fast and light"): with N = 30 every client gets ≥ 20 frames/s, p99 gap
≤ 200 ms, memory does not grow, no session starves. Bounded: every loop has a time
limit; the server is killed at the end.
"""

import argparse
import contextlib
import http.client
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from .stream import HOST, ROOT, call, free_port, server

FPS_TARGET, GAP_TARGET = 20.0, 0.200


def rss_mb(pid: int) -> float:
    """Resident memory of the server and its children (gunicorn's worker), in MB."""
    with open(f"/proc/{pid}/status") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return kb / 1024 + sum(rss_mb(int(child)) for child in f.read().split())


def post(port: int, path: str, body: dict | None = None) -> dict:
    status, reply = call(port, "POST", path, body or {}, timeout=30)
    if status >= 400:
        raise SystemExit(f"POST {path}: {status} {reply}")
    return reply


def read_stream(port: int, sid: str, seconds: float, out: dict) -> None:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    conn.request("GET", f"/api/sessions/{sid}/events")
    response = conn.getresponse()
    times, steps = [], []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        line = response.readline()   # decodes chunked replies (nginx re-chunks the stream)
        if not line:
            break
        if line.startswith(b'data: {"seq"'):
            times.append(time.monotonic())
            steps.append(json.loads(line[6:])["step"])
    conn.close()
    out[sid] = (times, steps)


@contextlib.contextmanager
def cluster(processes: int, env: dict):
    """`processes` gunicorn processes sharing one SQLite store behind nginx (the shipped
    deploy/nginx.conf.in); yields (nginx's port, a stand-in process whose children are the
    app processes, for rss_mb)."""
    sys.path.insert(0, str(ROOT))
    from deploy.cluster import render_nginx, start_app, start_nginx, stop

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        addresses = [f"{HOST}:{free_port()}" for _ in range(processes)]
        env = {"BPL_STORE": f"sqlite:///{tmp}/sessions.db", "BPL_ALLOWED_HOSTS": f"{HOST}:{port}", **env}
        apps, nginx = [], None
        try:
            apps = [start_app(a, env) for a in addresses]
            nginx = start_nginx(render_nginx(f"{HOST}:{port}", addresses, Path(tmp) / "nginx"),
                                Path(tmp) / "nginx", f"http://{HOST}:{port}/healthz")
            yield port, apps
        finally:
            if nginx is not None:
                stop(nginx)
            for a in apps:
                os.killpg(a.pid, signal.SIGTERM)
                a.wait(timeout=15)


def run(n: int, seconds: float, kind: str, processes: int = 1, store: str | None = None) -> dict:
    env = {"BPL_MAX_SESSIONS": "1000", "BPL_MAX_TOTAL_STREAMS": "1000", "BPL_THREADS": "256"}
    if store:
        env["BPL_STORE"] = store
    if processes > 1:
        kind = f"{processes}×gunicorn+nginx"
    with (cluster(processes, env) if processes > 1 else server(kind=kind, env=env)) as (port, process):
        pids = [p.pid for p in process] if isinstance(process, list) else [process.pid]
        ids = [post(port, "/api/sessions", {"seed": i, "speed": "max"})["id"] for i in range(n)]
        results: dict = {}
        readers = [threading.Thread(target=read_stream, args=(port, sid, seconds, results)) for sid in ids]
        for t in readers:
            t.start()
        for sid in ids:
            post(port, f"/api/sessions/{sid}/run")
        memory = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            memory.append(sum(rss_mb(pid) for pid in pids))
            time.sleep(1.0)
        for t in readers:
            t.join(timeout=seconds + 30)
    fps, gaps, rates = [], [], []
    for times, steps in results.values():
        settled = [t for t in times if t > times[0] + 1.0] if times else []
        fps.append((len(settled) - 1) / (settled[-1] - settled[0]) if len(settled) > 2 else 0.0)
        gaps += [b - a for a, b in zip(settled, settled[1:])]
        third = len(times) // 3
        rates.append((steps[-1] - steps[third]) / (times[-1] - times[third]) if len(times) > 3 else 0.0)
    gaps.sort()
    half = max(1, len(memory) // 2)
    quarters = [memory[min(len(memory) - 1, k * len(memory) // 4)] for k in range(4)] + memory[-1:]
    return {
        "rss_mb_by_quarter": quarters,
        "n": n, "seconds": seconds, "server": kind,
        "fps_min": min(fps), "fps_median": statistics.median(fps),
        "gap_p99_ms": 1000 * gaps[int(0.99 * (len(gaps) - 1))] if gaps else float("inf"),
        "steps_min": min(rates), "steps_median": statistics.median(rates), "steps_max": max(rates),
        "rss_start_mb": statistics.median(memory[:half]), "rss_end_mb": statistics.median(memory[half:]),
    }


def report(r: dict) -> bool:
    ok = r["fps_min"] >= FPS_TARGET and r["gap_p99_ms"] <= 1000 * GAP_TARGET
    fair = r["steps_min"] / r["steps_max"] if r["steps_max"] else 0.0
    print(f"N={r['n']:3d} [{r['server']}] frames/s per client min {r['fps_min']:5.1f} median {r['fps_median']:5.1f} | "
          f"p99 gap {r['gap_p99_ms']:5.0f} ms | steps/s per session min {r['steps_min']:7.0f} "
          f"median {r['steps_median']:7.0f} max {r['steps_max']:7.0f} (fairness min/max {fair:.2f}) | "
          f"RSS {' → '.join(f'{m:.0f}' for m in r['rss_mb_by_quarter'])} MB | {'meets' if ok else 'MISSES'} "
          f"≥{FPS_TARGET:.0f} fps & p99 ≤{1000 * GAP_TARGET:.0f} ms")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=30, help="sessions (default 30)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--sweep", help="comma-separated N values; stops at the first miss")
    parser.add_argument("--server", choices=["dev", "gunicorn"], default="dev")
    parser.add_argument("--processes", type=int, default=1,
                        help="app processes; more than 1: gunicorn processes behind nginx")
    parser.add_argument("--store", help="BPL_STORE for the server(s), e.g. memory (persistence off)")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()
    results = []
    for n in ([int(x) for x in args.sweep.split(",")] if args.sweep else [args.n]):
        results.append(run(n, args.seconds, args.server, args.processes, args.store))
        if not report(results[-1]) and args.sweep:
            print(f"falls below the targets at N = {n}")
            break
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
