"""Measures the SSE stream of a real server against the bare training speed.

Starts `python -m app` on a free port of 127.0.0.1 and, for each of two networks — the
default session (2-4-2-1 tanh, sigmoid output, cross-entropy, batch 10, 250 circle
training points, plain SGD lr 0.03) and TF Playground's big one (2-8-8-8-8-8-8-1 tanh,
batch 1, 250 spiral points) — creates a session with seed 1 and speed "max", reads
`GET /api/sessions/<id>/events` over HTTP in this process, starts training, and measures:
  - frames/s received                                                 target ≥ 50
  - the median size of a frame's data line                            target ≤ 16 KB
  - training steps/s while streaming (the frames' `step`, first vs last over the time)
and compares those steps/s, in the same run, with the same configuration trained here
without a server: an `app.training.Session` driven by step("batch", 1000) in a tight
loop (the session's bookkeeping included; the target ratio is ≥ 0.8 on both networks)
and, for reference, app.engine's `train_epoch` alone. The machine is shared, so the
run alternates: the session trains and streams for a segment of about 2 s, is paused,
and the baselines are timed; medians over the segments are quoted, the ratio as the
median of the pairs, also per CPU second of the server process and of the baseline
(steady on a busy machine).

It also times the server's CPU per delivered frame in this process: `session.events()`,
the call that builds and encodes a frame (once per new state, whatever the number of
readers), made 60 times a second while the session's worker trains, as a stream reader
makes it. CPU µs of the calling thread (the worker's training is not in it; wall µs
beside it include waiting for the GIL), and bytes per frame, whole and without the
heatmaps a stream that has them is not sent again.

Everything is bounded in time; the server is stopped at the end whatever happens.

    python -m benchmarks.stream [--seconds 10] [--quick] [--json PATH]
"""

import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from app.engine import Network, make_optimizer, train_epoch
from app.training import Session

from .common import (
    Rates,
    blas_threads,
    calibrate,
    fmt,
    load_average,
    machine_description,
    median,
    print_table,
    ratio_summary,
    write_json,
)

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
CONFIG = {"seed": 1, "speed": "max"}
BIG_CONFIG = {"seed": 1, "speed": "max", "dataset": "spiral", "layers": [8] * 6, "batch_size": 1}
NETWORKS = {"default": CONFIG, "big": BIG_CONFIG}
STEP_FIELD = re.compile(rb'"step":(\d+)')
MAX_FRAMES = 100_000
SETTLE = 0.25          # seconds left after run/pause before a window opens
TARGETS = {"ratio": 0.8, "frames_per_s": 50, "frame_bytes": 16 * 1024}


# -- the server ------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def call(port: int, method: str, path: str, body: dict | None = None,
         timeout: float = 10.0) -> tuple[int, object]:
    """One JSON request to the server; (status, decoded body or None)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        payload = None if body is None else json.dumps(body)
        headers = {} if body is None else {"Content-Type": "application/json"}
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, raw[:300].decode(errors="replace")
    finally:
        conn.close()


@contextmanager
def server(startup_seconds: float = 30.0, kind: str = "dev", env: dict | None = None):
    """The app on a free port of 127.0.0.1 — `python -m app` (kind "dev") or gunicorn with
    gunicorn.conf.py (kind "gunicorn") — with `env` added to the environment; yields
    (port, process); always stopped at the end."""
    port = free_port()
    log = tempfile.TemporaryFile()
    if kind == "gunicorn":
        command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:create_app()"]
    else:
        command = [sys.executable, "-m", "app", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "BPL_BIND": f"{HOST}:{port}", **(env or {})})
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise SystemExit(f"the server exited with {process.returncode}:\n"
                                 f"{log.read().decode(errors='replace')[-2000:]}")
            try:
                if call(port, "GET", "/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the server did not answer /healthz within {startup_seconds:g} s")
            time.sleep(0.1)
        yield port, process
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class StreamReader(threading.Thread):
    """Reads the SSE stream, noting for every `frame` event its arrival time, the size of
    its data line and its `step`; stops when the stream ends, on stop(), or at a cap."""

    def __init__(self, port: int, session_id: str, max_seconds: float) -> None:
        super().__init__(name="sse-reader", daemon=True)
        self.port, self.session_id, self.max_seconds = port, session_id, max_seconds
        self.frames: list[tuple[float, int, int]] = []     # (time, data bytes, step)
        self.statuses: list[bytes] = []
        self.error: str | None = None
        self.connected = threading.Event()
        self._halt = threading.Event()
        self._conn: http.client.HTTPConnection | None = None

    def run(self) -> None:
        end = time.monotonic() + self.max_seconds
        try:
            self._conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
            self._conn.request("GET", f"/api/sessions/{self.session_id}/events",
                               headers={"Accept": "text/event-stream"})
            response = self._conn.getresponse()
            if response.status != 200:
                self.error = f"GET events answered {response.status}: {response.read()[:300]!r}"
                return
            self.connected.set()
            name = b"message"
            while not self._halt.is_set() and time.monotonic() < end and len(self.frames) < MAX_FRAMES:
                line = response.readline()
                if not line:
                    break
                if line.startswith(b"event:"):
                    name = line[6:].strip()
                elif line.startswith(b"data:"):
                    data = line[5:].strip()
                    if name == b"frame":
                        match = STEP_FIELD.search(data, 0, 200)
                        self.frames.append((time.perf_counter(), len(data),
                                            int(match.group(1)) if match else -1))
                    elif name == b"status":
                        self.statuses.append(data)
                elif line in (b"\n", b"\r\n"):
                    name = b"message"
        except OSError as e:
            if not self._halt.is_set():
                self.error = f"stream read failed: {e!r}"
        finally:
            self.connected.set()
            if self._conn is not None:
                self._conn.close()

    def stop(self) -> None:
        self._halt.set()


# -- the in-process baselines and the frame cost ---------------------------------------------
class Baselines:
    """The same configuration trained in this process, without a server: a Session stepped
    1000 batches per call (its bookkeeping included) and app.engine's train_epoch alone."""

    def __init__(self, config: dict) -> None:
        self.session = Session("bench", config)
        s = self.session
        self.net = Network(s.network.sizes, activation="tanh", output="sigmoid",
                           loss="cross_entropy", init_epsilon="auto", seed=s.config["seed"])
        self.X, self.Y = s.X_train, s.Y_train
        self.optimizer = make_optimizer("sgd", s.config["learning_rate"])
        self.rng = np.random.default_rng(s.config["seed"] + 1)
        self.batch = s.config["batch_size"]
        per_epoch = -(-len(self.X) // self.batch)
        self.runs = {"session": (self._session, 1000, 2 / 3), "engine": (self._engine, per_epoch, 1 / 3)}
        self.counts: dict[str, int] = {}
        self.rates = {name: Rates() for name in self.runs}

    def _session(self, n: int) -> None:
        for _ in range(n):
            self.session.step("batch", 1000)

    def _engine(self, n: int) -> None:
        for _ in range(n):
            train_epoch(self.net, self.X, self.Y, self.optimizer, self.batch, self.rng)

    def measure(self, seconds: float) -> None:
        """One timing of each, about `seconds` in all (the stream is idle meanwhile)."""
        for name, (run, steps, share) in self.runs.items():
            if name not in self.counts:
                self.counts[name] = calibrate(run, seconds * share)
            self.rates[name].time(run, self.counts[name], scale=steps)


def stream_figures(port: int, pid: int, config: dict, seconds: float, segments: int,
                   baselines: Baselines) -> dict:
    """Read the stream while the session runs for `segments` stretches of seconds/segments,
    pausing it between them to time the baselines, so that both see the same neighbours."""
    status, summary = call(port, "POST", "/api/sessions", config)
    if status != 201:
        raise SystemExit(f"POST /api/sessions answered {status}: {summary}")
    sid = summary["id"]
    length = seconds / segments
    reader = StreamReader(port, sid, max_seconds=segments * (length + 2 * SETTLE + 15) + 30)
    reader.start()
    windows, cpu = [], []
    try:
        if not reader.connected.wait(10) or reader.error:
            raise SystemExit(reader.error or "the event stream did not open within 10 s")
        baselines.measure(length / 2)            # warm-up and calibration of the baselines
        for i in range(segments):
            status, body = call(port, "POST", f"/api/sessions/{sid}/run")
            if status != 200:
                raise SystemExit(f"POST run answered {status}: {body}")
            time.sleep(SETTLE * (4 if i == 0 else 1))
            t0, c0 = time.perf_counter(), cpu_seconds(pid)
            time.sleep(length)
            t1, c1 = time.perf_counter(), cpu_seconds(pid)
            windows.append((t0, t1))
            cpu.append(None if c0 is None or c1 is None else (c1 - c0) / (t1 - t0))
            call(port, "POST", f"/api/sessions/{sid}/pause")
            time.sleep(SETTLE)
            baselines.measure(length / 2)
            if reader.error or not reader.is_alive():
                break
    finally:
        reader.stop()
        try:
            call(port, "POST", f"/api/sessions/{sid}/pause", timeout=5)
            call(port, "DELETE", f"/api/sessions/{sid}", timeout=5)
        except OSError:
            pass
        reader.join(10)
    if reader.error:
        raise SystemExit(reader.error)
    frames, steps_per_s = [], []
    for t0, t1 in windows:
        window = [f for f in reader.frames if t0 <= f[0] <= t1]
        if len(window) < 2:
            raise SystemExit(f"only {len(window)} frame(s) arrived in {t1 - t0:.1f} s "
                             f"({len(reader.frames)} in all); status events: {reader.statuses}")
        frames += window
        (ta, _, sa), (tb, _, sb) = window[0], window[-1]
        steps_per_s.append((sb - sa) / (tb - ta))
    read = sum(t1 - t0 for t0, t1 in windows)
    shares = [c for c in cpu if c is not None]
    per_cpu = [r / c for r, c in zip(steps_per_s, cpu) if c] if len(shares) == len(cpu) else None
    return {
        "session_config": {**config, **{k: summary["config"][k] for k in
                                        ("dataset", "layers", "activation", "output", "loss",
                                         "batch_size", "optimizer", "learning_rate")}},
        "segments": len(windows), "seconds": read, "frames": len(frames),
        "frames_per_s": len(frames) / read,
        "median_frame_bytes": median([f[1] for f in frames]),
        "max_frame_bytes": max(f[1] for f in frames),
        "steps_per_s_by_segment": steps_per_s,
        "steps_per_cpu_s_by_segment": per_cpu,
        "server_cpu_share": median(shares) if shares else None,
    }


def frame_cost(config: dict, frames: int, max_seconds: float) -> dict:
    """CPU and wall µs, and bytes, of one encoded frame, built while the session's worker
    trains (the same call the stream makes under the session lock, once per new state)."""
    session = Session("bench", config)
    session.run()
    cpu, wall, sizes, light, seq = [], [], [], [], -1
    end = time.monotonic() + max_seconds
    try:
        while len(cpu) < frames and time.monotonic() < end:
            time.sleep(1 / 60)
            with session.lock:
                if session.seq == seq:
                    continue
                c0, t0 = time.thread_time(), time.perf_counter()
                encoded = session.events()
                cpu.append((time.thread_time() - c0) * 1e6)
                wall.append((time.perf_counter() - t0) * 1e6)
                seq = encoded.seq
                sizes.append(len(encoded.frame))
                light.append(len(encoded.light))
    finally:
        session.close()
    return {"network": "-".join(map(str, session.network.sizes)), "dataset": config.get("dataset", "circle"),
            "batch_size": session.config["batch_size"], "frames": len(cpu),
            "median_cpu_us": median(cpu), "median_us": median(wall), "median_bytes": median(sizes),
            "median_bytes_without_heatmaps": median(light)}


def summarise(stream: dict, baselines: Baselines) -> dict:
    """The stream's figures beside the baselines of the same segments: medians and ratios."""
    streaming, streaming_cpu = stream["steps_per_s_by_segment"], stream["steps_per_cpu_s_by_segment"]
    n = len(streaming)
    bare = {name: rates.wall[-n:] for name, rates in baselines.rates.items()}
    bare_cpu = {name: rates.cpu[-n:] for name, rates in baselines.rates.items()}
    ratios = {"streaming_over_bare_session": list(ratio_summary(streaming, bare["session"])),
              "streaming_over_bare_engine": list(ratio_summary(streaming, bare["engine"]))}
    if streaming_cpu:
        ratios["per_cpu_second_streaming_over_bare_session"] = list(ratio_summary(streaming_cpu,
                                                                                  bare_cpu["session"]))
        ratios["per_cpu_second_streaming_over_bare_engine"] = list(ratio_summary(streaming_cpu,
                                                                                 bare_cpu["engine"]))
    return {"stream": stream, "runs": n,
            "streaming_steps_per_s": median(streaming),
            "bare_session_steps_per_s": median(bare["session"]),
            "bare_engine_steps_per_s": median(bare["engine"]),
            "streaming_steps_per_cpu_s": median(streaming_cpu) if streaming_cpu else None,
            "bare_session_steps_per_cpu_s": median(bare_cpu["session"]),
            "bare_engine_steps_per_cpu_s": median(bare_cpu["engine"]),
            "ratios_median_min_max": ratios}


def report(name: str, f: dict) -> None:
    stream, ratios = f["stream"], f["ratios_median_min_max"]
    c = stream["session_config"]
    print(f"{name} network: {c['dataset']}, hidden {c['layers']} {c['activation']}, {c['output']} output, "
          f"{c['loss']}, {c['optimizer']} lr {c['learning_rate']}, batch {c['batch_size']}, speed {c['speed']}")
    per_cpu = lambda key: fmt(f[key]) if f[key] is not None else "—"  # noqa: E731
    print_table(["training steps (same configuration)", "per second", "per CPU second", "runs"],
                [["streaming (server, read over SSE)", fmt(f["streaming_steps_per_s"]),
                  per_cpu("streaming_steps_per_cpu_s"), f["runs"]],
                 ["bare Session.step('batch', 1000) in-process", fmt(f["bare_session_steps_per_s"]),
                  per_cpu("bare_session_steps_per_cpu_s"), f["runs"]],
                 ["bare app.engine train_epoch in-process", fmt(f["bare_engine_steps_per_s"]),
                  per_cpu("bare_engine_steps_per_cpu_s"), f["runs"]]])
    share = stream["server_cpu_share"]
    rows = []
    for key, label in (("streaming_over_bare_session", "streaming / bare Session, steps/s"),
                       ("streaming_over_bare_engine", "streaming / bare engine, steps/s"),
                       ("per_cpu_second_streaming_over_bare_session",
                        "streaming / bare Session, steps per CPU second"),
                       ("per_cpu_second_streaming_over_bare_engine",
                        "streaming / bare engine, steps per CPU second")):
        if key in ratios:
            r, lo, hi = ratios[key]
            target = key == "streaming_over_bare_session"
            rows.append([label, f"{r:.2f}×", f"{lo:.2f}–{hi:.2f}", f"≥ {TARGETS['ratio']}×" if target else "—",
                         ("yes" if r >= TARGETS["ratio"] else "NO") if target else "—"])
    rows += [["frames/s", fmt(stream["frames_per_s"]), f"{stream['frames']} in {stream['seconds']:.1f} s",
              f"≥ {TARGETS['frames_per_s']}", "yes" if stream["frames_per_s"] >= TARGETS["frames_per_s"] else "NO"],
             ["median frame bytes (data line)", f"{stream['median_frame_bytes']:,.0f}",
              f"largest {stream['max_frame_bytes']:,}", "≤ 16,384",
              "yes" if stream["median_frame_bytes"] <= TARGETS["frame_bytes"] else "NO"],
             ["server CPU while streaming", "—" if share is None else f"{share:.0%} of one core", "", "", ""]]
    print_table(["figure", "measured", "range", "target", "met"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stream", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="seconds to read the stream, per network (default 10)")
    parser.add_argument("--quick", action="store_true", help="fewer segments and frames")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to this JSON file")
    args = parser.parse_args()
    if not 1 <= args.seconds <= 600:
        parser.error("--seconds must be between 1 and 600")
    segment_seconds, frames = (2.5, 60) if args.quick else (2.0, 300)
    segments = max(1, round(args.seconds / segment_seconds))

    print(f"Backprop Lens stream benchmark — {machine_description()}")
    print(f"NumPy BLAS: {blas_threads()}")
    print(f"Per network, {segments} segments of {args.seconds / segments:.1f} s of streaming, each followed "
          "by the in-process baselines; medians quoted.\n")
    figures = {"machine": machine_description(), "numpy_blas": blas_threads(), "targets": TARGETS,
               "networks": {}}
    with server() as (port, process):
        for name, config in NETWORKS.items():
            print(f"reading the stream of the {name} network from a server on {HOST}:{port} ...", flush=True)
            baselines = Baselines(config)
            stream = stream_figures(port, process.pid, config, args.seconds, segments, baselines)
            figures["networks"][name] = summarise(stream, baselines)
    print("timing frame encoding in-process ...\n", flush=True)
    costs = [frame_cost(config, frames, 20) for config in NETWORKS.values()]
    figures["frame_cost"] = costs

    print("Against the baselines measured in this run (median of paired segments, range). Steps per")
    print("CPU second divide by the CPU time the server (all its threads) or the baseline used, so")
    print("they do not depend on what the neighbours took; the target is on steps per second.\n")
    for name, f in figures["networks"].items():
        report(name, f)
    print_table(["frame encoding in-process (session.events())", "frames", "CPU µs/frame", "wall µs/frame",
                 "bytes/frame", "without heatmaps", "CPU at 60 frames/s"],
                [[f"{k['network']} {k['dataset']} batch {k['batch_size']}", k["frames"],
                  f"{k['median_cpu_us']:,.0f}", f"{k['median_us']:,.0f}", f"{k['median_bytes']:,.0f}",
                  f"{k['median_bytes_without_heatmaps']:,.0f}", f"{k['median_cpu_us'] * 60 / 1e4:.1f}%"]
                 for k in costs])
    figures["load_at_end"] = load_average()
    print(f"1-minute load average at the end: {figures['load_at_end']} (at the start: see the first line)")
    if args.json:
        write_json(args.json, figures)


if __name__ == "__main__":
    main()
