"""Measures the NumPy engine's training speed against PyTorch eager on the CPU.

Printed, all measured in this run (medians of repeated, interleaved runs):
  (a) steps/s, 2-8-8-1 tanh, sigmoid output, cross-entropy, 500 circle points, full batch
  (b) the same with batch size 10                                   target ≥ 2.5× PyTorch each
  (c) steps/s, 64-25-10 sigmoid/sigmoid one-vs-all cross-entropy, 1797 digits, full batch
                                                                    target ≥ 1× PyTorch
  (d) time of one backprop gradient vs one numerical gradient (central differences),
      3-5-3 (the course's check) and 64-25-10 on the digits
  and the bare engine's epochs/s for TF Playground's default network (2-4-2-1 tanh,
  batch 10, 250 circle points) and a big one (2-8-8-8-8-8-8-1 tanh, batch 1, 250 spiral
  points), beside TF Playground's 60 and 16 epochs/s.

Fairness: float64 on both sides, the same data, the same initial weights (copied from
our Network into torch.nn.Linear), the same mini-batches in the same order, the same
loss (PyTorch's BCEWithLogitsLoss summed over outputs and averaged over the batch is
our J), plain SGD (torch.optim.SGD without momentum), one thread for PyTorch and, by
default, one BLAS thread for NumPy. Both sides index the batch out of the full arrays
inside the timed loop. After the timing both are trained the same number of steps and
their weights compared, which shows they computed the same thing. (c) is measured once
more with one BLAS thread per core, to show what NumPy's threading does. Beside each
ratio of steps/s, the ratio of steps per CPU second (steady on a busy machine).

    python -m benchmarks.engine [--quick] [--json PATH] [--blas-threads N]

PyTorch is a benchmark-only dependency: pip install torch==2.13.0 (see README.md).
"""

import argparse
import os
import time

import numpy as np

from app.engine import Network, gradient_check, make_optimizer, minibatches, numerical_gradients
from app.engine.training import train_step

from .common import (
    all_points,
    blas_limited,
    blas_threads,
    fmt,
    load_average,
    machine_description,
    median,
    paired_rates,
    playground_epochs,
    print_table,
    ratio_summary,
    repeated_rates,
    write_json,
)

try:
    import torch
except ImportError:  # pragma: no cover - said plainly instead of a traceback
    raise SystemExit("PyTorch is needed for this benchmark: pip install torch==2.13.0") from None

SEED = 0
TORCH_ACTIVATIONS = {"tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}


class Case:
    """One network, data set and batch size, trainable by our engine or by PyTorch from the
    same initial weights along the same sequence of batches."""

    def __init__(self, name: str, sizes: list[int], activation: str, X: np.ndarray, Y: np.ndarray,
                 batch_size: int | None, learning_rate: float, init_epsilon: float | str) -> None:
        self.name, self.X, self.Y, self.batch_size = name, X, Y, batch_size
        self.learning_rate = learning_rate
        self.net = Network(sizes, activation=activation, output="sigmoid", loss="cross_entropy",
                           init_epsilon=init_epsilon, seed=SEED)
        self.initial = self.net.copy_params()
        self._batches: list[np.ndarray] = []
        self._batch_rng = np.random.default_rng(SEED + 1)

        layers: list = []
        for l, W in enumerate(self.net.weights):
            layers.append(torch.nn.Linear(W.shape[1], W.shape[0], dtype=torch.float64))
            if l < len(self.net.weights) - 1:
                layers.append(TORCH_ACTIVATIONS[activation]())
        self.model = torch.nn.Sequential(*layers)
        self.linears = [m for m in self.model if isinstance(m, torch.nn.Linear)]
        self.loss = torch.nn.BCEWithLogitsLoss(reduction="sum")
        self.Xt, self.Yt = torch.from_numpy(X), torch.from_numpy(Y)
        self._torch_batches: list[torch.Tensor] = []

    @property
    def full_batch(self) -> bool:
        return self.batch_size is None

    def batches(self, n: int) -> list[np.ndarray]:
        """The first n batches of the shuffled epochs, the same list for both engines."""
        while len(self._batches) < n:
            self._batches += list(minibatches(len(self.X), self.batch_size, self._batch_rng))
            self._torch_batches += [torch.from_numpy(i) for i in self._batches[len(self._torch_batches):]]
        return self._batches[:n]

    def run_ours(self, n: int) -> None:
        net = self.net
        net.set_params(*[[p.copy() for p in ps] for ps in self.initial])
        optimizer = make_optimizer("sgd", self.learning_rate)
        X, Y = self.X, self.Y
        if self.full_batch:
            for _ in range(n):
                train_step(net, X, Y, optimizer)
        else:
            for idx in self.batches(n):
                train_step(net, X[idx], Y[idx], optimizer)

    def run_torch(self, n: int) -> None:
        with torch.no_grad():
            for lin, W, b in zip(self.linears, *self.initial):
                lin.weight.copy_(torch.from_numpy(W))
                lin.bias.copy_(torch.from_numpy(b))
        model, loss_fn, X, Y = self.model, self.loss, self.Xt, self.Yt
        optimizer = torch.optim.SGD(model.parameters(), lr=self.learning_rate)
        if self.full_batch:
            m = len(X)
            for _ in range(n):
                optimizer.zero_grad()
                loss = loss_fn(model(X), Y) / m
                loss.backward()
                optimizer.step()
        else:
            self.batches(n)
            for idx in self._torch_batches[:n]:
                xb, yb = X[idx], Y[idx]
                optimizer.zero_grad()
                loss = loss_fn(model(xb), yb) / len(xb)
                loss.backward()
                optimizer.step()

    def max_weight_difference(self, steps: int) -> float:
        """Train both `steps` steps from the same start; the largest |W_ours − W_torch|."""
        self.run_ours(steps)
        self.run_torch(steps)
        return max(float(np.max(np.abs(p - t.detach().numpy())))
                   for p, t in zip([x for l in zip(self.net.weights, self.net.biases) for x in l],
                                   [x for lin in self.linears for x in (lin.weight, lin.bias)]))


def compare(case: Case, repeats: int, seconds: float) -> dict:
    ours, theirs = paired_rates(case.run_ours, case.run_torch, repeats, seconds)
    ratio, low, high = ratio_summary(ours.wall, theirs.wall)
    return {"ours_steps_per_s": median(ours.wall), "torch_steps_per_s": median(theirs.wall),
            "ratio": ratio, "ratio_min": low, "ratio_max": high,
            "ours_steps_per_cpu_s": median(ours.cpu), "torch_steps_per_cpu_s": median(theirs.cpu),
            "ratio_per_cpu_s": ratio_summary(ours.cpu, theirs.cpu)[0],
            "max_weight_difference_after_100_steps": case.max_weight_difference(100)}


def course_check_data() -> tuple[np.ndarray, np.ndarray]:
    """The course's checkNNGradients data: 5 examples, 3 inputs from sin, 3 classes."""
    m = 5
    X = np.sin(np.arange(1, m * 3 + 1)).reshape(m, 3) / 10
    Y = np.zeros((m, 3))
    Y[np.arange(m), np.arange(1, m + 1) % 3] = 1.0
    return X, Y


def gradient_times(name: str, net: Network, X: np.ndarray, Y: np.ndarray, repeats: int,
                   seconds: float, sample: int | None) -> dict:
    """Seconds for one backprop gradient and one numerical gradient of every parameter.
    With `sample`, the numerical gradient is timed on that many random parameters (all rows)
    and extrapolated to all of them."""
    backprop = 1 / median(repeated_rates(lambda n: [net.gradients(X, Y) for _ in range(n)],
                                         repeats, seconds).wall)
    total = net.n_params
    if sample is None or sample >= total:
        numerical = 1 / median(repeated_rates(
            lambda n: [numerical_gradients(net, X, Y) for _ in range(n)], repeats, seconds).wall)
        how = f"all {total} parameters"
        difference = gradient_check(net, X, Y).relative_difference
    else:
        checks = [gradient_check(net, X, Y, max_params=sample, seed=r) for r in range(repeats)]
        numerical = median([c.numerical_seconds * total / c.checked for c in checks])
        how = f"{sample} random parameters of {total}, extrapolated ×{total / sample:.1f}"
        difference = max(c.relative_difference for c in checks)
    return {"network": name, "rows": len(X), "parameters": total, "backprop_s": backprop,
            "numerical_s": numerical, "ratio": numerical / backprop, "numerical_timed_on": how,
            "relative_difference": difference}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engine", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer and shorter repeats")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to this JSON file")
    parser.add_argument("--blas-threads", type=int, default=1, metavar="N",
                        help="NumPy's BLAS threads for the comparison (default 1, like PyTorch's; "
                             "0 leaves them as they are); (c) is also measured with one per core")
    args = parser.parse_args()
    repeats, seconds = (3, 0.1) if args.quick else (9, 0.3)
    sample = 60 if args.quick else 200
    blas = args.blas_threads or None

    torch.set_num_threads(1)
    default_blas = blas_threads()
    print(f"Backprop Lens engine benchmark — {machine_description()}, torch {torch.__version__}")
    print(f"NumPy BLAS by default: {default_blas}")
    with blas_limited(blas):
        print(f"NumPy BLAS while measuring: {blas_threads()}; PyTorch intra-op threads: "
              f"{torch.get_num_threads()}")
    print(f"{repeats} interleaved repeats of ~{seconds:g} s each; medians quoted.\n")

    Xc, Yc = all_points("circle", 500, SEED)
    Xd, Yd = all_points("digits", seed=SEED)
    cases = {
        "a": Case("(a) 2-8-8-1 tanh, 500 circle points, full batch", [2, 8, 8, 1], "tanh",
                  Xc, Yc, None, 0.03, "auto"),
        "b": Case("(b) 2-8-8-1 tanh, 500 circle points, batch 10", [2, 8, 8, 1], "tanh",
                  Xc, Yc, 10, 0.03, "auto"),
        "c": Case(f"(c) 64-25-10 sigmoid, {len(Xd)} digits, full batch", [64, 25, 10], "sigmoid",
                  Xd, Yd, None, 0.5, 0.12),
    }
    targets = {"a": 2.5, "b": 2.5, "c": 1.0}
    figures: dict = {"machine": machine_description(), "torch": torch.__version__,
                     "numpy_blas_default": default_blas, "numpy_blas_threads_measured": blas or "default",
                     "repeats": repeats, "seconds_per_repeat": seconds, "comparisons": {}}
    with blas_limited(blas):
        for key, case in cases.items():
            print(f"measuring {case.name} ...", flush=True)
            figures["comparisons"][key] = {"name": case.name, "target": targets[key],
                                           **compare(case, repeats, seconds)}
    cores = os.cpu_count() or 1
    if blas != cores:
        print(f"measuring (c) again with {cores} NumPy BLAS threads ...", flush=True)
        with blas_limited(cores):
            figures["comparisons"]["c_all_cores_blas"] = {
                "name": f"(c) again, NumPy BLAS at {cores} threads", "target": None,
                **compare(cases["c"], repeats, seconds)}

    with blas_limited(blas):
        print("measuring (d) gradient times ...", flush=True)
        X3, Y3 = course_check_data()
        small = Network([3, 5, 3], activation="sigmoid", output="sigmoid", loss="cross_entropy",
                        seed=SEED)
        digits = Network([64, 25, 10], activation="sigmoid", output="sigmoid", loss="cross_entropy",
                         init_epsilon=0.12, seed=SEED)
        figures["gradients"] = [
            gradient_times("3-5-3", small, X3, Y3, repeats, seconds, None),
            gradient_times("64-25-10", digits, Xd, Yd, repeats, seconds, sample),
        ]
        print("measuring TF Playground networks ...\n", flush=True)
        figures["playground"] = [
            {"network": "2-4-2-1 tanh, batch 10, 250 circle points", "playground_epochs_per_s": 60,
             "epochs_per_s": playground_epochs([2, 4, 2, 1], "circle", 10, repeats, seconds)},
            {"network": "2-8-8-8-8-8-8-1 tanh, batch 1, 250 spiral points", "playground_epochs_per_s": 16,
             "epochs_per_s": playground_epochs([2, *[8] * 6, 1], "spiral", 1, repeats, seconds)},
        ]

    print_table(["workload", "ours steps/s", "torch steps/s", "max |ΔW| after 100 steps"],
                [[c["name"], fmt(c["ours_steps_per_s"]), fmt(c["torch_steps_per_s"]),
                  f"{c['max_weight_difference_after_100_steps']:.1e}"]
                 for c in figures["comparisons"].values()])
    print_table(["gradient", "rows", "params", "backprop", "numerical", "numerical/backprop",
                 "rel. difference", "numerical timed on"],
                [[g["network"], g["rows"], g["parameters"], f"{g['backprop_s'] * 1e6:,.0f} µs",
                  f"{g['numerical_s'] * 1e3:,.1f} ms", f"{fmt(g['ratio'])}×",
                  f"{g['relative_difference']:.1e}", g["numerical_timed_on"]]
                 for g in figures["gradients"]])
    print_table(["bare engine, TF Playground network", "epochs/s", "TF Playground", "ratio"],
                [[p["network"], fmt(p["epochs_per_s"]), p["playground_epochs_per_s"],
                  f"{fmt(p['epochs_per_s'] / p['playground_epochs_per_s'])}×"]
                 for p in figures["playground"]])
    print("Ratios against PyTorch eager measured in this run: median of the paired repeats and")
    print("their range; per CPU second (this process's CPU time, robust to neighbours) beside it.")
    print_table(["workload", "ours / torch", "range", "per CPU second", "target", "met"],
                [[c["name"], f"{c['ratio']:.2f}×", f"{c['ratio_min']:.2f}–{c['ratio_max']:.2f}",
                  f"{c['ratio_per_cpu_s']:.2f}×",
                  "—" if c["target"] is None else f"≥ {c['target']:g}×",
                  "—" if c["target"] is None else ("yes" if c["ratio"] >= c["target"] else "NO")]
                 for c in figures["comparisons"].values()])
    figures["load_at_end"] = load_average()
    print(f"1-minute load average at the end: {figures['load_at_end']} (at the start: see the first line)")
    if args.json:
        write_json(args.json, figures)


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"({time.perf_counter() - t0:.0f} s)")
