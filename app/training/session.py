"""A training session: one configuration, its data and network, a phase cursor for
stepping through the course's algorithm, a loss history, and the slices of training
the scheduler runs while the session is playing.

Every public method takes the session lock, so API commands, the scheduler and stream
readers never see half-updated state. `seq` increases whenever the visible state
changes; stream readers wait on `changed` for it, and while the session plays they ask
the scheduler (`frame_wanted`) to encode the frame right after a slice.
"""

import math
import threading
import time
from collections.abc import Mapping

import numpy as np

from app.data import Dataset, apply_features, load_csv, make_dataset
from app.engine import Network, Trace, make_optimizer, minibatches, one_hot_targets
from app.engine.gradcheck import gradient_check
from app.engine.training import accuracy

from .config import DEFAULT_LIMITS, Limits, structural_change, validate
from .frames import encoded_frame
from .history import History
from .scheduler import SCHEDULER

SLOW_PHASE_SECONDS = 0.7
FRAME_INTERVAL = 1 / 60
UNITS = {"phase", "example", "batch", "epoch"}
MAX_STEP_COUNT = 1000
WEIGHT_LIMIT = 1e6
CHECK_EVERY = 16


class SessionError(ValueError):
    """A command that cannot be done in the session's current state (→ 4xx)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def check_index(field: str, value, upper: int, what: str) -> int:
    """A whole number in 0..upper−1 from JSON, or a SessionError naming the field."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < upper:
        raise SessionError(field, f"{field} must be {what} from 0 to {upper - 1}")
    return value


def phases_of(n_layers: int) -> list[tuple[str, int | None]]:
    """The phase cursor's stops for a network with layers 0..n_layers (0 = input)."""
    return ([("forward", l) for l in range(1, n_layers + 1)] + [("cost", None)]
            + [("backward", l) for l in range(n_layers, 0, -1)] + [("update", None)])


class Session:
    def __init__(self, session_id: str, config: Mapping, limits: Limits = DEFAULT_LIMITS) -> None:
        self.id = session_id
        self.limits = limits
        self.lock = threading.RLock()
        # Its own lock, not the session's: readers wait here without ever queueing
        # behind a training slice for the session lock.
        self.changed = threading.Condition()
        self.seq = 0
        self.structure = 0
        self.generation = 0      # +1 whenever the step counter restarts or jumps back
        self.status = "paused"
        self.message: str | None = None
        self.closed = False
        self.streams = 0
        self.last_access = time.monotonic()
        self._unchecked = 0             # updates since the last divergence check
        self.frame_wanted = False       # a stream reader waits for the next encoded frame
        self._last_encode = 0.0
        self.upload: tuple[bytes, str | int | None, str] | None = None   # (csv bytes, target, problem)
        self._viewing = False
        self.config = validate(config, limits=limits)
        self._build()

    # -- building ---------------------------------------------------------------
    def _build(self) -> None:
        """(Re)create data, network, optimizer and counters from the configuration."""
        c = self.config
        if c["dataset"] == "csv":
            self.data: Dataset = self._load_upload(*self.upload[:2])
        else:
            self.data = make_dataset(c["dataset"], points=c["points"], noise=c["noise"],
                                     train_ratio=c["train_ratio"], seed=c["seed"])
        self.X_train = self._inputs(self.data.X_train)
        self.X_test = self._inputs(self.data.X_test)
        n_out = self._n_outputs()
        self.Y_train = one_hot_targets(self.data.y_train, n_out)
        self.Y_test = one_hot_targets(self.data.y_test, n_out)
        sizes = [self.X_train.shape[1], *c["layers"], n_out]
        self.network = Network(sizes, activation=c["activation"], output=c["output"],
                               loss=c["loss"], init=c["init"], init_epsilon=c["init_epsilon"],
                               seed=c["seed"])
        self.initial_params = self.network.copy_params()
        self.grid = self._grid()
        self.structure += 1
        self.focus = 0
        self._restart_training()

    def _restart_training(self) -> None:
        self.network.set_params(*[[a.copy() for a in p] for p in self.initial_params])
        self.optimizer = make_optimizer(self.config["optimizer"], self.config["learning_rate"])
        self.rng = np.random.default_rng(self.config["seed"] + 1)
        self._batches = iter(())
        self.step_count = 0
        self.examples_seen = 0
        self._last_stats: tuple | None = None   # (step, losses) cache
        self.pending: dict | None = None     # the batch being walked phase by phase / example by example
        self.last: dict | None = None        # grads and change of the last update
        self.history = History()
        self.generation += 1
        self.status, self.message = "paused", None
        self._record(force=True)
        self._touch()

    def _load_upload(self, data: bytes, target: str | int | None) -> Dataset:
        return load_csv(data, target, train_ratio=self.config["train_ratio"], seed=self.config["seed"],
                        max_rows=self.limits.max_points)

    def upload_csv(self, data: bytes, target: str | int | None = None) -> dict:
        """Train on the user's own CSV file. A bad file raises DatasetError and leaves
        the current data set and network exactly as they were."""
        with self.lock:
            dataset = self._load_upload(data, target)       # raises before anything changes
            self._stop_running()
            self.upload = (data, target, dataset.problem)
            self.config = validate({"dataset": "csv"}, base=self.config, limits=self.limits,
                                   csv_problem=dataset.problem)
            self._build()
            self._bump()
            return self.upload_summary()

    def upload_summary(self) -> dict | None:
        if self.upload is None:
            return None
        d = self._load_upload(*self.upload[:2]) if self.config["dataset"] != "csv" else self.data
        return {"rows": len(d.X_train) + len(d.X_test), "inputs": list(d.input_names),
                "target": d.target_name, "problem": d.problem, "classes": d.classes,
                "columns": [*d.input_names, d.target_name]}

    def _inputs(self, X_raw: np.ndarray) -> np.ndarray:
        return apply_features(X_raw, self.config["features"]) if self.data.is_2d else X_raw

    def _n_outputs(self) -> int:
        if self.data.problem == "regression":
            return 1
        if self.config["output"] == "softmax" or self.data.classes > 2:
            return self.data.classes
        return 1

    def _grid(self) -> dict | None:
        """Input-plane grids for the heatmaps (16×16 per unit) and the output (48×48);
        for any data with two raw inputs (the 2-D sets, a two-column CSV)."""
        if self.data.extent is None or self.data.X_train.shape[1] != 2:
            return None
        x1min, x1max, x2min, x2max = self.data.extent
        grids = {}
        for name, res in (("unit", 16), ("boundary", 48)):
            g1, g2 = np.meshgrid(np.linspace(x1min, x1max, res), np.linspace(x2min, x2max, res))
            raw = np.column_stack([g1.ravel(), g2.ravel()])
            grids[name] = (res, self._inputs(raw))
        return grids

    # -- configuration ----------------------------------------------------------
    def update_config(self, patch: Mapping) -> dict:
        """Validate and apply a partial configuration; structural changes rebuild,
        the rest (learning rate, activation, optimizer, λ, …) apply while running."""
        with self.lock:
            new = validate(patch, base=self.config, limits=self.limits,
                           csv_problem=self.upload[2] if self.upload else None)
            old, self.config = self.config, new
            if structural_change(old, new):
                self._build()
            else:
                self._apply_live(old, new)
            self._bump()
            return dict(self.config)

    def _apply_live(self, old: Mapping, new: Mapping) -> None:
        net = self.network
        if new["activation"] != old["activation"] or new["loss"] != old["loss"]:
            net.set_functions(new["activation"], new["output"], new["loss"])
            self.pending = None
        if new["optimizer"] != old["optimizer"]:
            self.optimizer = make_optimizer(new["optimizer"], new["learning_rate"])
        self.optimizer.learning_rate = new["learning_rate"]
        if self.status == "diverged" and new["learning_rate"] < old["learning_rate"]:
            self.message = "Learning rate lowered; reset to start again from the initial weights."

    @property
    def l2(self) -> float:
        return self.config["lambda"] if self.config["regularization"] == "l2" else 0.0

    @property
    def l1(self) -> float:
        return self.config["lambda"] if self.config["regularization"] == "l1" else 0.0

    @property
    def batch_size(self) -> int:
        return len(self.X_train) if self.config["optimizer"] == "gd" else self.config["batch_size"]

    # -- training ---------------------------------------------------------------
    def _next_batch(self) -> np.ndarray:
        batch = next(self._batches, None)
        if batch is None:
            self._batches = minibatches(len(self.X_train), self.batch_size, self.rng)
            batch = next(self._batches)
        return batch

    def _begin_pass(self) -> dict:
        idx = self._next_batch()
        X, Y = self.X_train[idx], self.Y_train[idx]
        self.pending = {"idx": idx, "trace": self.network.trace(X, Y, self.l2, self.l1), "cursor": 0,
                        "phases": phases_of(len(self.network.sizes) - 1)}
        return self.pending

    def _apply_update(self, idx: np.ndarray, grad_W: list, grad_b: list) -> None:
        net = self.network
        changes = self.optimizer.step([*net.weights, *net.biases], [*grad_W, *grad_b])
        n = len(net.weights)
        self.last = {"W": grad_W, "b": grad_b, "dW": changes[:n], "db": changes[n:], "m": len(idx)}
        self.step_count += 1
        self.examples_seen += len(idx)
        self.pending = None
        self._unchecked += 1
        if self._unchecked >= CHECK_EVERY:
            self._check_divergence()

    def _check_divergence(self) -> None:
        """NaN compares false, so one test catches NaN, ±inf and runaway growth. Run every
        few updates and at the end of every command and slice (it costs ~20 % of a small
        network's update), so a divergence is caught within the step that caused it."""
        self._unchecked = 0
        net = self.network
        if self.status != "diverged" and \
                not all(np.abs(p).max() < WEIGHT_LIMIT for p in (*net.weights, *net.biases)):
            self._diverge("the weights blew up (NaN, infinite or above 1e6)")

    def _train_batch(self) -> None:
        idx = self._next_batch()
        t = self.network.trace(self.X_train[idx], self.Y_train[idx], self.l2, self.l1)
        self._apply_update(idx, t.grad_W, t.grad_b)

    def _advance_batch(self) -> None:
        """One update: finish a half-walked pass if there is one, else a fresh batch."""
        if not self._settle():
            self._train_batch()

    def _step_phase(self) -> None:
        p = self.pending
        if p is None or "phases" not in p or p.get("done"):
            self._settle()
            self._begin_pass()          # cursor 0: forward, layer 1
            return
        p["cursor"] += 1
        if p["phases"][p["cursor"]][0] == "update":
            t = p["trace"]
            self._apply_update(p["idx"], t.grad_W, t.grad_b)
            self.pending = {**p, "done": True}   # keep the pass visible at "update"

    def _step_example(self) -> None:
        """The course's loop over examples: Δ += δ⁽ˡ⁺¹⁾(a⁽ˡ⁾)ᵀ one example at a time;
        after the batch's last example, D = Δ/m + (λ/m)W and the update."""
        p = self.pending
        if p is None or "accumulated" not in p:
            self._settle()
            idx = self._next_batch()
            p = self.pending = {"idx": idx, "k": 0, "accumulated": None}
        i = p["idx"][p["k"]]
        t = self.network.trace(self.X_train[i:i + 1], self.Y_train[i:i + 1])
        grads = [*t.grad_W, *t.grad_b]   # with m = 1 these are δ aᵀ and δ themselves
        p["accumulated"] = grads if p["accumulated"] is None else \
            [acc + g for acc, g in zip(p["accumulated"], grads)]
        p["k"] += 1
        self.focus = int(i)
        if p["k"] == len(p["idx"]):
            m, n = len(p["idx"]), len(self.network.weights)
            D = [acc / m for acc in p["accumulated"]]
            for l, W in enumerate(self.network.weights):
                D[l] = D[l] + (self.l2 / m) * W + (self.l1 / m) * np.sign(W)
            self._apply_update(p["idx"], D[:n], D[n:])

    def _settle(self) -> bool:
        """Finish any half-walked pass so that batch/epoch steps and play start clean.
        True when that applied an update."""
        p, self.pending = self.pending, None
        if p is None or p.get("done"):
            return False
        if "accumulated" in p:   # the rest of the examples: same as the batch gradient
            t = self.network.trace(self.X_train[p["idx"]], self.Y_train[p["idx"]], self.l2, self.l1)
        else:
            t = p["trace"]
        self._apply_update(p["idx"], t.grad_W, t.grad_b)
        return True

    def step(self, unit: str, count: int = 1) -> None:
        if not isinstance(unit, str) or unit not in UNITS:
            raise SessionError("unit", f"unit must be one of {', '.join(sorted(UNITS))}")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_STEP_COUNT:
            raise SessionError("count", f"count must be a whole number from 1 to {MAX_STEP_COUNT}")
        with self.lock:
            self._touch()
            self._refuse_if_diverged()
            self._stop_running()
            for _ in range(count):
                if unit == "phase":
                    self._step_phase()
                elif unit == "example":
                    self._step_example()
                elif unit == "batch":
                    self._advance_batch()
                else:
                    self._settle()
                    target = self._epoch_number() + 1
                    while self._epoch_number() < target and self.status != "diverged":
                        self._train_batch()
                self._check_divergence()
                if self.status == "diverged":
                    break
            self._record(force=True)
            self._bump()

    def _refuse_if_diverged(self) -> None:
        if self.status == "diverged":
            raise SessionError("status", "Training diverged: reset, or lower the learning rate and reset")

    def _epoch_number(self) -> int:
        return self.examples_seen // len(self.X_train)

    def _diverge(self, why: str) -> None:
        self.status = "diverged"
        self.message = (f"Training diverged: {why}. Lower the learning rate "
                        f"(now {self.config['learning_rate']:g}) and reset.")

    # -- loss, history -------------------------------------------------------------
    def losses(self) -> dict:
        net = self.network
        train = net.cost(self.X_train, self.Y_train, self.l2, self.l1)
        test = net.cost(self.X_test, self.Y_test, self.l2, self.l1) if len(self.X_test) else None
        result = {"loss": {"train": _finite(train), "test": _finite(test)}, "accuracy": None}
        if self.data.problem == "classification":
            result["accuracy"] = {"train": accuracy(net, self.X_train, self.data.y_train),
                                  "test": accuracy(net, self.X_test, self.data.y_test)
                                  if len(self.X_test) else None}
        return result

    def _record(self, force: bool = False) -> None:
        """A point on the loss curve and a timeline snapshot: after every command, and
        while playing at the history's own pace (not at every frame a reader asks for)."""
        if not force and not self.history.due():
            return
        stats = self.stats()
        self.history.add(self.step_count, stats)
        self.history.snapshot(self.step_count, self.examples_seen, self.network.weights, self.network.biases)

    def stats(self) -> dict:
        """Losses and accuracies of the current state, computed once per state."""
        if self._viewing:            # a moment of the past: compute, never cache
            return self.losses()
        if self._last_stats is None or self._last_stats[0] != self.step_count:
            self._last_stats = (self.step_count, self.losses())
            if self._last_stats[1]["loss"]["train"] is None and self.status != "diverged":
                self._diverge("the loss became NaN or infinite")
        return self._last_stats[1]

    # -- running ---------------------------------------------------------------------
    def run(self) -> None:
        with self.lock:
            self._touch()
            self._refuse_if_diverged()
            if self.status == "running":
                return
            self.status = "running"
            self._bump()
        SCHEDULER.add(self)

    def pause(self) -> None:
        with self.lock:
            self._touch()
            self._stop_running()
            self._record(force=True)
            self._bump()

    def _stop_running(self) -> None:
        if self.status == "running":
            self.status = "paused"
        self._notify()

    def train_slice(self, budget: float) -> float | None:
        """Called by the scheduler: train for about `budget` seconds at the session's
        speed. Returns the delay until the next slice (0: at once), or None to stop."""
        with self.lock:
            if self.status != "running" or self.closed:
                return None
            speed = self.config["speed"]
            if speed == "slow":
                self._step_phase()
                delay = SLOW_PHASE_SECONDS
            elif speed == "max":
                # end the slice when the next frame is due, so a waiting reader gets it on time
                deadline = time.monotonic() + budget
                if self.frame_wanted:
                    deadline = min(deadline, max(self._last_encode + FRAME_INTERVAL, time.monotonic() + 0.0005))
                while time.monotonic() < deadline and self.status == "running":
                    self._advance_batch()
                delay = 0.0
            else:
                self._advance_batch()
                delay = 1.0 / float(speed)
            self._check_divergence()
            self._record()
            self._bump()
            now = time.monotonic()
            if self.frame_wanted and now - self._last_encode >= FRAME_INTERVAL:
                encoded_frame(self)
                self.frame_wanted, self._last_encode = False, now
                self._notify()
            return delay if self.status == "running" else None

    def fail(self) -> None:
        """The scheduler caught an error in this session: stop it and say so."""
        with self.lock:
            self.status = "paused"
            self.message = "Training stopped because of an internal error; reset to continue."
            self._bump()

    def reset(self) -> None:
        """Back to the same initial weights (same seed), step 0."""
        with self.lock:
            self._stop_running()
            self._restart_training()
            self._bump()

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self._stop_running()

    # -- focus, probe, gradcheck, params --------------------------------------------
    def set_focus(self, index: int) -> None:
        with self.lock:
            self.focus = check_index("index", index, len(self.X_train), "a training example")
            self._bump()

    def focus_trace(self) -> Trace:
        i = self.focus
        return self.network.trace(self.X_train[i:i + 1], self.Y_train[i:i + 1], self.l2, self.l1)

    def probe(self, layer: int, unit: int, h: float = 1e-4) -> dict:
        """Nudge z of one unit by ±h on the current batch: (J(z+h) − J(z−h))/2h vs its δ."""
        with self.lock:
            sizes = self.network.sizes
            if check_index("layer", layer, len(sizes), "a layer") == 0:
                raise SessionError("layer", "layer 0 is the input: it has no z to nudge")
            check_index("unit", unit, sizes[layer], "a unit")
            if not isinstance(h, (int, float)) or not 1e-8 <= h <= 1:
                raise SessionError("h", "h must be a number from 1e-8 to 1")
            idx = self.pending["idx"] if self.pending else np.arange(len(self.X_train))
            X, Y = self.X_train[idx], self.Y_train[idx]
            t = self.network.trace(X, Y, self.l2, self.l1)
            plus, minus = t.z[layer].copy(), t.z[layer].copy()
            plus[:, unit] += h
            minus[:, unit] -= h
            j_plus = self.network.cost_from_z(layer, plus, Y, self.l2, self.l1)
            j_minus = self.network.cost_from_z(layer, minus, Y, self.l2, self.l1)
            numerical = (j_plus - j_minus) / (2 * h)
            delta = float(t.delta[layer][:, unit].mean())
            return {"layer": layer, "unit": unit, "h": h, "m": len(idx),
                    "cost_plus": _finite(j_plus), "cost_minus": _finite(j_minus),
                    "numerical": _finite(numerical), "delta": _finite(delta),
                    "difference": _finite(abs(numerical - delta))}

    def gradcheck(self, max_params: int | None = None) -> dict:
        with self.lock:
            cap = self.limits.max_gradcheck_params if max_params is None else \
                min(max_params, self.limits.max_gradcheck_params)
            idx = np.arange(min(len(self.X_train), 100))   # a fixed small batch: the check, not the training
            X, Y = self.X_train[idx], self.Y_train[idx]
            check = gradient_check(self.network, X, Y, self.l2, self.l1, max_params=cap)
            b = np.concatenate([g.ravel() for g in check.backprop])
            n = np.concatenate([g.ravel() for g in check.numerical])
            sampled = np.isfinite(n)
            return {"relative_difference": check.relative_difference,
                    "backprop_seconds": check.backprop_seconds,
                    "numerical_seconds": check.numerical_seconds,
                    "forward_passes": check.forward_passes,
                    "parameters": check.parameters, "checked": check.checked,
                    "sampled": check.checked < check.parameters, "m": len(idx),
                    "threshold": 1e-9,
                    "backprop": b[sampled].tolist(), "numerical": n[sampled].tolist()}

    def gradcheck_sweep(self, widths: tuple[int, ...] = (1, 2, 4, 8, 16)) -> dict:
        """How the cost of both methods grows with the network: the current depth and
        problem, every hidden layer set to each width. Backprop is timed; the numerical
        gradient is timed on a sample of parameters and scaled to all of them, so a
        big network does not stall the server (the reply says so)."""
        with self.lock:
            sizes = self.network.sizes
            idx = np.arange(min(len(self.X_train), 100))
            X, Y = self.X_train[idx], self.Y_train[idx]
            config = self.config
        rows = []
        for width in widths:
            hidden = [width] * (len(sizes) - 2)
            net = Network([sizes[0], *hidden, sizes[-1]], activation=config["activation"],
                          output=config["output"], loss=config["loss"], seed=config["seed"])
            sample = min(net.n_params, 60)
            check = gradient_check(net, X, Y, max_params=sample)
            repeats = max(1, int(0.01 / max(check.backprop_seconds, 1e-6)))
            start = time.perf_counter()
            for _ in range(repeats):
                net.gradients(X, Y)
            backprop = (time.perf_counter() - start) / repeats
            rows.append({"width": width, "parameters": net.n_params,
                         "backprop_seconds": backprop,
                         "numerical_seconds": check.numerical_seconds * net.n_params / sample,
                         "forward_passes": {"backprop": 2, "numerical": 2 * net.n_params},
                         "sampled": sample < net.n_params})
        return {"hidden_layers": len(sizes) - 2, "m": len(idx), "rows": rows}

    def params(self) -> dict:
        with self.lock:
            return {"weights": [W.tolist() for W in self.network.weights],
                    "biases": [b.tolist() for b in self.network.biases]}

    def set_params(self, weights, biases) -> None:
        with self.lock:
            try:
                self.network.set_params(weights, biases)
            except (ValueError, TypeError) as e:
                field = "biases" if str(e).startswith("biases") else "weights"
                raise SessionError(field, str(e)) from None
            self.pending = None
            if self.status == "diverged":
                self.status, self.message = "paused", None
            self._record(force=True)
            self._bump()

    def set_weight(self, layer: int, to: int, frm: int, value: float) -> None:
        with self.lock:
            check_index("layer", layer, len(self.network.weights), "a weight layer")
            rows, cols = self.network.weights[layer].shape
            check_index("to", to, rows, "a unit")
            check_index("from", frm, cols, "a unit")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or abs(value) > 1e6:
                raise SessionError("value", "value must be a finite number (|w| ≤ 1e6)")
            self.network.weights[layer][to, frm] = float(value)
            self.pending = None
            self._record(force=True)
            self._bump()

    # -- timeline -------------------------------------------------------------------
    def _snapshot(self, index: int) -> tuple:
        snapshots = self.history.snapshots
        return snapshots[check_index("index", index, len(snapshots), "a timeline position")]

    def view_snapshot(self, index: int, build) -> object:
        """`build(self)` (e.g. a frame) as the session was at snapshot `index`; the live
        state is put back afterwards, so viewing the past changes nothing."""
        with self.lock:
            step, examples, weights, biases = self._snapshot(index)
            live = (self.network.copy_params(), self.step_count, self.examples_seen, self.pending, self.last)
            self.network.set_params(weights, biases)
            self.step_count, self.examples_seen, self.pending, self.last = step, examples, None, None
            self._viewing = True
            try:
                return build(self)
            finally:
                self._viewing = False
                params, self.step_count, self.examples_seen, self.pending, self.last = live
                self.network.set_params(*params)

    def restore_snapshot(self, index: int) -> None:
        """Resume from snapshot `index`: its weights and counters; later history is dropped."""
        with self.lock:
            step, examples, weights, biases = self._snapshot(index)
            self._stop_running()
            self.network.set_params(weights, biases)
            self.step_count, self.examples_seen = step, examples
            self.generation += 1
            self.pending, self.last = None, None
            self.optimizer = make_optimizer(self.config["optimizer"], self.config["learning_rate"])
            self.history.truncate(step)
            if self.status == "diverged":
                self.status, self.message = "paused", None
            self._record(force=True)
            self._bump()

    # -- bookkeeping -----------------------------------------------------------------
    def _touch(self) -> None:
        self.last_access = time.monotonic()

    def _bump(self) -> None:
        self.seq += 1
        self._last_stats = None   # weights, settings or step may have changed: losses are stale
        self._notify()

    def _notify(self) -> None:
        with self.changed:
            self.changed.notify_all()

    def summary(self) -> dict:
        with self.lock:
            stats = self.stats()
            return {"id": self.id, "config": dict(self.config), "status": self.status,
                    "message": self.message, "step": self.step_count, "epoch": self.epoch,
                    "sizes": list(self.network.sizes), "parameters": self.network.n_params,
                    "focus": self.focus, "train_size": len(self.X_train),
                    "test_size": len(self.X_test), **stats}

    def data_payload(self) -> dict:
        """The raw points (before the feature map) for the data chart."""
        with self.lock:
            d = self.data
            points = lambda X, y: {"x": X[:, :2].tolist() if d.extent else [],  # noqa: E731
                                   "y": y.tolist()}
            return {"dataset": d.name, "problem": d.problem, "classes": d.classes,
                    "extent": list(d.extent) if d.extent else None,
                    "train": points(d.X_train, d.y_train), "test": points(d.X_test, d.y_test),
                    "input_names": list(d.input_names), "structure": self.structure}

    @property
    def epoch(self) -> float:
        return self.examples_seen / len(self.X_train)


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None
