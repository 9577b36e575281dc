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
from datetime import date
from pathlib import Path

import numpy as np

from app.data import apply_features, make_dataset
from app.engine import one_hot_targets

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


def rate(run: Callable[[int], object], n: int) -> float:
    """Units per second of one call `run(n)`."""
    t0 = time.perf_counter()
    run(n)
    return n / (time.perf_counter() - t0)


def paired_rates(ours: Callable[[int], object], theirs: Callable[[int], object], repeats: int,
                 seconds: float) -> tuple[list[float], list[float]]:
    """Units/s of two workloads, measured in alternating order `repeats` times each, so that
    a noisy neighbour slows both sides of a pair rather than one side of the whole run."""
    for run in (ours, theirs):      # warm-up: first calls pay for caches and lazy set-up
        run(1)
    n_ours, n_theirs = calibrate(ours, seconds), calibrate(theirs, seconds)
    a, b = [], []
    for i in range(repeats):
        if i % 2:
            b.append(rate(theirs, n_theirs))
            a.append(rate(ours, n_ours))
        else:
            a.append(rate(ours, n_ours))
            b.append(rate(theirs, n_theirs))
    return a, b


def repeated_rates(run: Callable[[int], object], repeats: int, seconds: float) -> list[float]:
    run(1)
    n = calibrate(run, seconds)
    return [rate(run, n) for _ in range(repeats)]


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
    """Cap NumPy's BLAS at `threads` (None: leave it as it is)."""
    if threads is None or threadpool_limits is None:
        yield
        return
    with threadpool_limits(limits=threads, user_api="blas"):
        yield


def machine_description() -> str:
    env = ", ".join(f"{k}={os.environ[k]}" for k in
                    ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ)
    return (f"{date.today().isoformat()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}, "
            f"NumPy {np.__version__}" + (f", {env}" if env else ""))


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
