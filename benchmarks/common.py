"""Shared helpers of the benchmark scripts: repeated timing with medians, the thread
situation of NumPy's BLAS, the data the scripts train on, tables and JSON output.

Nothing here measures anything by itself; see `benchmarks.engine` and `benchmarks.stream`.
"""

import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from app.data import apply_features, make_dataset
from app.engine import Network, make_optimizer, one_hot_targets
from app.engine.training import train_epoch

try:  # scikit-learn's dependency, so present wherever requirements-dev.txt is installed
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:  # pragma: no cover - the scripts still run, without thread control
    threadpool_info = threadpool_limits = None


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def calibrate(run: Callable[[int], object], seconds: float, start: int = 1) -> int:
    """How many units `run(n)` should do so that one call lasts about `seconds`."""
    n = start
    while True:
        t0 = time.perf_counter()
        run(n)
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds / 4 or n >= 10_000_000:
            return max(1, round(n * seconds / max(elapsed, 1e-9)))
        n *= 4


@dataclass
class Rates:
    """Units per wall-clock second and per CPU second (all threads of this process) of
    repeated runs. CPU seconds leave out the time the machine gave to other processes,
    so they vary much less on a shared machine; waiting (sleeps, locks) is not in them."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def time(self, run: Callable[[int], object], n: int, scale: float = 1.0) -> None:
        """Time one call `run(n)` worth n·scale units and append its two rates."""
        t0, c0 = time.perf_counter(), time.process_time()
        run(n)
        t1, c1 = time.perf_counter(), time.process_time()
        self.wall.append(n * scale / (t1 - t0))
        self.cpu.append(n * scale / max(c1 - c0, 1e-9))


def paired_rates(ours: Callable[[int], object], theirs: Callable[[int], object], repeats: int,
                 seconds: float) -> tuple[Rates, Rates]:
    """Rates of two workloads, measured in alternating order `repeats` times each, so that
    a noisy neighbour slows both sides of a pair rather than one side of the whole run."""
    for run in (ours, theirs):      # warm-up: first calls pay for caches and lazy set-up
        run(1)
    n_ours, n_theirs = calibrate(ours, seconds), calibrate(theirs, seconds)
    a, b = Rates(), Rates()
    for i in range(repeats):
        if i % 2:
            b.time(theirs, n_theirs)
            a.time(ours, n_ours)
        else:
            a.time(ours, n_ours)
            b.time(theirs, n_theirs)
    return a, b


def repeated_rates(run: Callable[[int], object], repeats: int, seconds: float) -> Rates:
    run(1)
    n = calibrate(run, seconds)
    rates = Rates()
    for _ in range(repeats):
        rates.time(run, n)
    return rates


def ratio_summary(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float]:
    """Median, lowest and highest of the paired ratios a[i]/b[i]."""
    ratios = [x / y for x, y in zip(a, b)]
    return median(ratios), min(ratios), max(ratios)


# -- threads ---------------------------------------------------------------------------------
def blas_threads() -> str:
    """NumPy's BLAS library and its thread count, as threadpoolctl sees them now."""
    if threadpool_info is None:
        return "unknown (threadpoolctl not installed)"
    pools = [p for p in threadpool_info() if p["user_api"] == "blas"]
    if not pools:
        return "no BLAS thread pool found"
    return ", ".join(f"{p['internal_api']} {p.get('version') or ''} {p['num_threads']} thread(s)"
                     .replace("  ", " ") for p in pools)


@contextmanager
def blas_limited(threads: int | None) -> Iterator[None]:
    """Set NumPy's BLAS to `threads` threads (None: leave it as it is)."""
    if threads is None or threadpool_limits is None:
        yield
        return
    with threadpool_limits(limits=threads, user_api="blas"):
        yield


def machine_description() -> str:
    # No *_NUM_THREADS variables here: importing `app` sets them after NumPy may have
    # loaded its BLAS, so they can be wrong; blas_threads() reports what is in force.
    return (f"{date.today().isoformat()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}, "
            f"NumPy {np.__version__}, load {load_average()}")


def load_average() -> str:
    """The machine's 1-minute load average, to judge how noisy a run was."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:  # pragma: no cover - not available on this platform
        return "unknown"


# -- data ------------------------------------------------------------------------------------
def all_points(name: str, points: int = 500, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Every point of a data set (train and test rows together), inputs x1, x2 or pixels,
    and the targets as the output layer sees them (one column, or one-hot for digits)."""
    d = make_dataset(name, points=points, seed=seed)
    X = np.concatenate([d.X_train, d.X_test])
    y = np.concatenate([d.y_train, d.y_test])
    if d.is_2d:
        X = apply_features(X, ["x1", "x2"])
    return np.ascontiguousarray(X), one_hot_targets(y, d.classes if d.classes > 2 else 1)


def training_points(name: str, points: int = 500, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The training half of a 2-D set, as a default session sees it (train_ratio 0.5)."""
    d = make_dataset(name, points=points, seed=seed)
    return apply_features(d.X_train, ["x1", "x2"]), one_hot_targets(d.y_train, 1)


def playground_epochs(sizes: list[int], dataset: str, batch_size: int, repeats: int,
                      seconds: float, seed: int = 0) -> float:
    """Bare engine epochs/s (`train_epoch`, no session, no server) of a TF Playground network:
    tanh hidden units, sigmoid output, cross-entropy, SGD lr 0.03, 250 training points.
    On the default network (2-4-2-1, batch 10, circle) it is the machine's calibration."""
    X, Y = training_points(dataset, points=500, seed=seed)
    net = Network(sizes, activation="tanh", output="sigmoid", loss="cross_entropy",
                  init_epsilon="auto", seed=seed)
    optimizer = make_optimizer("sgd", 0.03)
    rng = np.random.default_rng(seed + 1)

    def run(n: int) -> None:
        for _ in range(n):
            train_epoch(net, X, Y, optimizer, batch_size, rng)

    return median(repeated_rates(run, repeats, seconds).wall)


# -- output ----------------------------------------------------------------------------------
def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "  ".join(c.rjust(w) if i else c.ljust(w)  # noqa: E731
                               for i, (c, w) in enumerate(zip(r, widths)))
    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for r in cells[1:]:
        print(line(r))
    print()


def fmt(x: float | None, digits: int = 3) -> str:
    """A figure with `digits` significant digits, thousands separated."""
    if x is None:
        return "—"
    if abs(x) >= 10 ** (digits - 1):
        return f"{x:,.0f}"
    return f"{x:,.{digits}g}"


def write_json(path: str, figures: dict) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures written to {path}")
