"""A training session: one configuration, its problem and trainer, the moments it
publishes, and the slices of training the scheduler runs while it plays.

Every command takes the session lock (giving up with SessionBusy after a moment rather
than queueing a thread behind a long command), so API commands, the scheduler and
stream readers never see half-updated state. `seq` increases with every visible
change; readers wait on `changed` and read `published` — the encoded events of the
latest moment, owned and cached here.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import replace

import numpy as np

from app.engine import THRESHOLD, cost_sweep, gradient_check, make_optimizer, probe_delta

from .config import DEFAULT_LIMITS, Limits, structural_change, validate
from .frames import Encoded, build_frame, encode, encode_events, network_of, regularization
from .history import History
from .moment import Moment, pack, readonly, unpack
from .problem import Problem, Upload, build_problem, finite
from .scheduler import SCHEDULER
from .trainer import Trainer

PHASE_SECONDS = {"slower": 2.0, "slow": 0.7}
FRAME_INTERVAL = 1 / 60
STATS_INTERVAL = 0.25        # while playing, losses over all the data at most 4× a second
COMMAND_SECONDS = 2.0        # a step command stops after this long and says what it did
LOCK_WAIT = 0.5
UNITS = ("phase", "example", "batch", "epoch")
MAX_STEP_COUNT = 1000
CHECK_EVERY = 16


class SessionError(ValueError):
    """A command that cannot be done in the session's current state (→ 4xx)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


class SessionBusy(SessionError):
    """Another command holds the session (→ 409, try again)."""


def check_index(field: str, value, upper: int, what: str) -> int:
    """A whole number in 0..upper−1 from JSON, or a SessionError naming the field."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < upper:
        raise SessionError(field, f"{field} must be {what} from 0 to {upper - 1}")
    return value


class Session:
    def __init__(self, session_id: str, config: Mapping, limits: Limits = DEFAULT_LIMITS,
                 upload: Upload | None = None) -> None:
        self.id, self.limits, self.upload = session_id, limits, upload
        self.lock = threading.RLock()
        self.changed = threading.Condition()   # readers wait here, never behind a slice
        self.seq = self.structure = self.generation = 0
        self.status, self.message = "paused", None
        self.closed = False
        self.streams = 0
        self.last_access = time.monotonic()
        self.frame_wanted = False              # a stream reader waits for the next frame
        self.published: Encoded | None = None  # events of the latest published moment
        self._published_at = 0.0
        self._moment: Moment | None = None
        self._stats: tuple[float, int, int, dict] | None = None   # (time, seq, step, stats)
        self._unchecked = 0
        self.config = validate(config, limits=limits, csv_problem=upload.problem if upload else None)
        self._build()

    # -- building -----------------------------------------------------------------
    def _build(self) -> None:
        self.problem: Problem = build_problem(self.config, self.upload, self.limits.max_points)
        self.structure += 1
        self.focus = 0
        self._restart()

    def _restart(self) -> None:
        net = self.problem.network(self.config)
        self.trainer = Trainer(net, self.problem.X_train, self.problem.Y_train, self.config)
        self.history = History()
        self.generation += 1
        self.status = "running" if self.status == "running" else "paused"
        self.message = None
        self._changed(record=True)

    @property
    def network(self):
        return self.trainer.network

    data = property(lambda self: self.problem.data)
    X_train = property(lambda self: self.problem.X_train)
    Y_train = property(lambda self: self.problem.Y_train)
    X_test = property(lambda self: self.problem.X_test)
    Y_test = property(lambda self: self.problem.Y_test)
    l2 = property(lambda self: self.trainer.reg.l2)
    l1 = property(lambda self: self.trainer.reg.l1)
    upload_hash = property(lambda self: self.upload.sha256 if self.upload else None)

    def upload_bytes(self) -> bytes | None:
        return self.upload.raw() if self.upload else None

    @contextmanager
    def command(self):
        """The session lock for a command, or SessionBusy if another holds it too long."""
        if not self.lock.acquire(timeout=LOCK_WAIT):
            raise SessionBusy("session", "The session is busy with another command; try again")
        try:
            self.last_access = time.monotonic()
            yield
        finally:
            self.lock.release()

    # -- configuration and data -----------------------------------------------------
    def update_config(self, patch: Mapping) -> dict:
        """Validate and apply a partial configuration: structural changes rebuild (and keep
        playing), the rest apply live."""
        with self.command():
            new = validate(patch, base=self.config, limits=self.limits,
                           csv_problem=self.upload.problem if self.upload else None)
            old, self.config = self.config, new
            if structural_change(old, new):
                self._build()
                return dict(self.config)
            if (new["activation"], new["loss"]) != (old["activation"], old["loss"]):
                self.network.set_functions(new["activation"], new["output"], new["loss"])
                self.trainer.forget_cursor()
            if new["optimizer"] != old["optimizer"]:
                self.trainer.optimizer = make_optimizer(new["optimizer"], new["learning_rate"])
            self.trainer.configure(new)
            if self.status == "diverged" and new["learning_rate"] < old["learning_rate"]:
                self.message = "Learning rate lowered; reset to start again from the initial weights."
            self._changed()
            return dict(self.config)

    def upload_csv(self, data: bytes, target: str | int | None = None, **options) -> dict:
        """Train on the user's CSV file. A bad file raises DatasetError and leaves the
        current data and network exactly as they were."""
        with self.command():
            dataset = Upload.of(data, target, options, "").load(
                self.config["train_ratio"], self.config["seed"], self.limits.max_points)
            self.upload = Upload.of(data, target, options, dataset.problem)
            self.config = validate({"dataset": "csv"}, base=self.config, limits=self.limits,
                                   csv_problem=dataset.problem)
            self.status = "paused"
            self._build()
            return self.upload_summary()

    def upload_summary(self) -> dict | None:
        if self.upload is None:
            return None
        d = self.data if self.config["dataset"] == "csv" else \
            self.upload.load(self.config["train_ratio"], self.config["seed"], self.limits.max_points)
        return {"rows": len(d.X_train) + len(d.X_test), "inputs": list(d.input_names),
                "target": d.target_name, "problem": d.problem, "classes": d.classes,
                "columns": [*d.input_names, d.target_name],
                **{k: v for k, v in (("notes", getattr(d, "notes", None)),
                                     ("class_names", getattr(d, "class_names", None))) if v is not None}}

    # -- training -----------------------------------------------------------------
    def step(self, unit: str, count: int = 1) -> int:
        """`count` steps of `unit`; stops early (after COMMAND_SECONDS, or on divergence)
        and returns how many were done."""
        if not isinstance(unit, str) or unit not in UNITS:
            raise SessionError("unit", f"unit must be one of {', '.join(UNITS)}")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_STEP_COUNT:
            raise SessionError("count", f"count must be a whole number from 1 to {MAX_STEP_COUNT}")
        with self.command():
            self._refuse_if_diverged()
            self._stop_running()
            deadline, done = time.monotonic() + COMMAND_SECONDS, 0
            t = self.trainer
            while done < count and time.monotonic() < deadline and self.status != "diverged":
                if unit == "phase":
                    t.step_phase()
                elif unit == "example":
                    self.focus = t.step_example()
                elif unit == "batch":
                    t.train_batch()
                else:
                    target = t.epoch_number + 1
                    while t.epoch_number < target and time.monotonic() < deadline:
                        t.train_batch()
                        self._every_update()
                    if t.epoch_number < target:
                        break
                done += 1
                self._check_divergence()
            self._changed(record=True)
            return done

    def _every_update(self) -> None:
        self._unchecked += 1
        if self._unchecked >= CHECK_EVERY:
            self._check_divergence()

    def _check_divergence(self) -> None:
        """Every few updates and after every command and slice, so a divergence is caught
        within the step that caused it."""
        self._unchecked = 0
        where = self.trainer.blown_up()
        if where is not None and self.status != "diverged":
            layer, unit = where
            self._diverge(f"the weights into unit {unit + 1} of layer {layer + 2} became NaN, "
                          f"infinite or larger than 1e6 at step {self.trainer.step}: each update "
                          "overshot the minimum and the next gradient was bigger still")

    def _diverge(self, why: str) -> None:
        self.status = "diverged"
        self.message = (f"Training diverged: {why}. Lower the learning rate "
                        f"(now {self.config['learning_rate']:g}) and reset.")

    def _refuse_if_diverged(self) -> None:
        if self.status == "diverged":
            raise SessionError("status", "Training diverged: reset, or lower the learning rate and reset")

    def run(self) -> None:
        with self.command():
            self._refuse_if_diverged()
            if self.status == "running":
                return
            self.status = "running"
            self._changed()
        SCHEDULER.add(self)

    def pause(self) -> None:
        with self.command():
            self._stop_running()
            self._changed(record=True)

    def _stop_running(self) -> None:
        if self.status == "running":
            self.status = "paused"

    def train_slice(self, budget: float) -> float | None:
        """Called by the scheduler: train for about `budget` seconds at the session's
        speed. Returns the delay until the next slice (0: at once), or None to stop."""
        with self.lock:
            if self.status != "running" or self.closed:
                return None
            speed, t = self.config["speed"], self.trainer
            if speed in PHASE_SECONDS:
                t.step_phase()
                delay = PHASE_SECONDS[speed]
            elif speed == "max":
                # end the slice when the next frame is due, so a waiting reader gets it on time
                now = time.monotonic()
                deadline = now + budget
                if self.frame_wanted:
                    deadline = min(deadline, max(self._published_at + FRAME_INTERVAL, now + 0.0005))
                while time.monotonic() < deadline and self.status == "running":
                    t.train_batch()
                    self._every_update()
                delay = 0.0
            else:
                t.train_batch()
                delay = 1.0 / float(speed)
            self._check_divergence()
            self._changed(record=self.history.due())
            if self.frame_wanted and time.monotonic() - self._published_at >= FRAME_INTERVAL:
                self._publish()
            return delay if self.status == "running" else None

    def fail(self) -> None:
        """The scheduler caught an error in this session: stop it and say so."""
        with self.lock:
            self.status = "paused"
            self.message = "Training stopped because of an internal error; reset to continue."
            self._changed()

    def reset(self) -> None:
        """Back to the same initial weights (same seed), step 0."""
        with self.command():
            self._stop_running()
            self._restart()

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self._stop_running()
            self._notify()

    # -- publishing ---------------------------------------------------------------------
    def _changed(self, record: bool = False) -> None:
        self.seq += 1
        if record:
            stats = self.stats()
            self.history.add(stats["loss_step"], stats)
            self.history.snapshot(replace(self.moment(), cursor=None))
            self._check_dead_units()
        self._notify()

    def _check_dead_units(self) -> None:
        """ReLU units that output 0 for every training example pass no gradient back:
        when a whole hidden layer is dead, training has silently stopped. Say so."""
        if self.config["activation"] != "relu" or self.status == "diverged" or len(self.problem.sizes) < 3:
            return
        a = self.network.forward(self.X_train).a
        for l in range(1, len(a) - 1):
            if not (a[l] > 0).any():
                self.message = (f"All {a[l].shape[1]} units of hidden layer {l + 1} output 0 for "
                                "every training example (dead ReLUs): no gradient flows back through "
                                "them, so nothing before them learns. Reset with a lower learning "
                                "rate, or choose tanh.")
                return

    def _notify(self) -> None:
        with self.changed:
            self.changed.notify_all()

    def moment(self) -> Moment:
        """The current state as an immutable value (cached until the next change)."""
        with self.lock:
            if self._moment is None or self._moment.seq != self.seq:
                self._moment = Moment(seq=self.seq, train_size=len(self.X_train),
                                      generation=self.generation, structure=self.structure,
                                      status=self.status, message=self.message, focus=self.focus,
                                      config=readonly(self.config), **self.trainer.fields())
            return self._moment

    def stats(self) -> dict:
        """Losses of the current weights, with the step they belong to: fresh for every
        change while paused, at most 4× a second while playing (they cost a pass over all
        the data, far more than a frame)."""
        with self.lock:
            now, cached = time.monotonic(), self._stats
            if cached is None or cached[1] != self.seq and (
                    self.status != "running" or now - cached[0] >= STATS_INTERVAL):
                stats = {**self.problem.evaluate(self.network, self.l2, self.l1),
                         "loss_step": self.trainer.step}
                self._stats = cached = (now, self.seq, self.trainer.step, stats)
            return cached[3]

    def _publish(self) -> Encoded:
        stats = self.stats()
        self.published = encode_events(self.moment(), self.problem, stats)
        self.frame_wanted, self._published_at = False, time.monotonic()
        self._notify()
        return self.published

    def events(self) -> Encoded:
        """The encoded events of the current moment (encoded once per moment)."""
        with self.lock:
            if self.published is None or self.published.seq != self.seq:
                return self._publish()
            return self.published

    def summary(self) -> dict:
        with self.lock:
            m = self.moment()
            return {"id": self.id, "config": dict(self.config), "status": self.status,
                    "message": self.message, "step": m.step, "epoch": m.epoch,
                    "sizes": list(self.problem.sizes), "parameters": self.network.n_params,
                    "focus": self.focus, "train_size": len(self.X_train),
                    "test_size": len(self.X_test), **self.stats()}

    # -- focus, experiments, parameters -----------------------------------------------
    def set_focus(self, index: int) -> None:
        with self.command():
            self.focus = check_index("index", index, len(self.X_train), "a training example")
            self._changed()

    def _batch(self):
        """The rows a probe or check uses: the walked batch, else a fixed small batch."""
        cur = self.trainer.cursor
        return cur.indices if cur is not None else slice(0, min(len(self.X_train), 100))

    def probe(self, layer: int, unit: int, h: float = 1e-4) -> dict:
        """Nudge z of one unit by ±h: (J(z+h) − J(z−h))/2h next to its δ, on the batch
        and on the focus example."""
        with self.command():
            sizes = self.problem.sizes
            if check_index("layer", layer, len(sizes), "a layer") == 0:
                raise SessionError("layer", "layer 0 is the input: it has no z to nudge")
            check_index("unit", unit, sizes[layer], "a unit")
            if isinstance(h, bool) or not isinstance(h, (int, float)) or not 1e-8 <= h <= 1:
                raise SessionError("h", "h must be a number from 1e-8 to 1")
            rows = self._batch()
            X, Y = self.X_train[rows], self.Y_train[rows]
            fx, fy = self.X_train[self.focus:self.focus + 1], self.Y_train[self.focus:self.focus + 1]
            p = probe_delta(self.network, np.vstack([X, fx]), np.vstack([Y, fy]), layer, unit, h,
                            focus=len(X), l2=self.l2, l1=self.l1, reg_m=len(self.X_train))
            batch = probe_delta(self.network, X, Y, layer, unit, h, l2=self.l2, l1=self.l1,
                                reg_m=len(self.X_train))
            return {"layer": layer, "unit": unit, "h": h, "m": batch.m, "focus": self.focus,
                    "cost_plus": finite(batch.cost_plus), "cost_minus": finite(batch.cost_minus),
                    "numerical": finite(batch.numerical), "delta": finite(batch.delta),
                    "difference": finite(abs(batch.numerical - batch.delta)),
                    "focus_numerical": finite(p.focus_numerical), "focus_delta": finite(p.focus_delta)}

    def gradcheck(self, max_params: int | None = None) -> dict:
        with self.command():
            cap = self.limits.max_gradcheck_params if max_params is None else \
                min(max_params, self.limits.max_gradcheck_params)
            rows = slice(0, min(len(self.X_train), 100))
            X, Y = self.X_train[rows], self.Y_train[rows]
            check = gradient_check(self.network, X, Y, self.l2, self.l1, max_params=cap)
            b = np.concatenate([g.ravel() for g in check.backprop])
            n = np.concatenate([g.ravel() for g in check.numerical])
            sampled = np.isfinite(n)
            return {"relative_difference": check.relative_difference,
                    "backprop_seconds": check.backprop_seconds,
                    "numerical_seconds": check.numerical_seconds,
                    "forward_passes": check.forward_passes, "parameters": check.parameters,
                    "checked": check.checked, "sampled": check.checked < check.parameters,
                    "m": len(X), "threshold": THRESHOLD,
                    "backprop": b[sampled].tolist(), "numerical": n[sampled].tolist()}

    def gradcheck_sweep(self) -> dict:
        with self.command():
            sizes, c = list(self.problem.sizes), self.config
            X, Y = self.X_train[:100], self.Y_train[:100]
        rows = cost_sweep(sizes, X, Y, c["activation"], c["output"], c["loss"], c["seed"])
        return {"hidden_layers": len(sizes) - 2, "m": len(X), "rows": rows}

    def params(self) -> dict:
        with self.lock:
            return {"weights": [W.tolist() for W in self.network.weights],
                    "biases": [b.tolist() for b in self.network.biases]}

    def set_params(self, weights, biases) -> None:
        with self.command():
            try:
                self.network.set_params(weights, biases)
            except (ValueError, TypeError) as e:
                field = "biases" if str(e).startswith("biases") else "weights"
                raise SessionError(field, str(e)) from None
            self._edited()

    def set_weight(self, layer: int, to: int, frm: int, value: float) -> None:
        with self.command():
            check_index("layer", layer, len(self.network.weights), "a weight layer")
            rows, cols = self.network.weights[layer].shape
            check_index("to", to, rows, "a unit")
            check_index("from", frm, cols, "a unit")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                    not math.isfinite(value) or abs(value) > 1e6:
                raise SessionError("value", "value must be a finite number (|w| ≤ 1e6)")
            self.network.weights[layer][to, frm] = float(value)
            self._edited()

    def _edited(self) -> None:
        self.trainer.forget_cursor()
        if self.status == "diverged":
            self.status, self.message = "paused", None
        self._changed(record=True)

    # -- timeline -------------------------------------------------------------------
    def _snapshot(self, index: int) -> Moment:
        snaps = self.history.snapshots
        return snaps[check_index("index", index, len(snaps), "a timeline position")]

    def timeline_frame(self, index: int) -> bytes:
        """The frame of a past moment; the live state is not touched."""
        with self.command():
            m, problem = self._snapshot(index), self.problem
        net = network_of(m, problem)
        return encode(build_frame(m, problem, problem.evaluate(net, *regularization(m.config))))

    def restore_snapshot(self, index: int) -> None:
        """Resume from a past moment: its weights and counters; later history is dropped."""
        with self.command():
            m = self._snapshot(index)
            self._stop_running()
            self.trainer.restore(m, keep_optimizer=False)
            self.generation += 1
            self.history.truncate(m.step)
            if self.status == "diverged":
                self.status, self.message = "paused", None
            self._changed(record=True)

    # -- durability and forks -----------------------------------------------------------
    def to_record(self) -> bytes:
        """The whole durable state (uploaded data only by its hash: see upload_bytes)."""
        with self.lock:
            u = self.upload
            return pack({"version": 1, "id": self.id, "config": self.config,
                         "upload": None if u is None else {"sha256": u.sha256, "target": u.target,
                                                           "options": u.options, "problem": u.problem},
                         "moment": self.moment(), "history": self.history.state(),
                         "generation": self.generation, "structure": self.structure})

    @classmethod
    def from_record(cls, blob: bytes, limits: Limits = DEFAULT_LIMITS, upload: bytes | None = None,
                    new_id: str | None = None) -> Session:
        r = unpack(blob)
        meta = r["upload"]
        if meta is not None and upload is None:
            raise SessionError("upload", "The uploaded data of this session is gone; upload it again")
        up = None if meta is None else Upload.of(upload, meta["target"], meta["options"], meta["problem"])
        session = cls(new_id or r["id"], r["config"], limits, upload=up)
        m: Moment = r["moment"]
        session.trainer.restore(m)
        session.history = History.from_state(r["history"])
        session.generation, session.structure = r["generation"], r["structure"]
        session.focus = m.focus
        session.status = "paused" if new_id else m.status
        session.message = m.message
        session._changed()
        return session

    def fork(self, new_id: str, patch: Mapping) -> Session:
        """A new session from this one's current moment, with `patch` applied; a structural
        patch restarts both from step 0 of the same seed."""
        with self.command():
            new = validate(patch, base=self.config, limits=self.limits,
                           csv_problem=self.upload.problem if self.upload else None)
            if structural_change(self.config, new):
                self._stop_running()
                self._restart()
            child = Session.from_record(self.to_record(), self.limits, self.upload_bytes(), new_id)
        if patch:
            child.update_config(patch)
        return child

    def data_payload(self) -> dict:
        """The raw points (before the feature map) for the data chart."""
        with self.lock:
            d = self.data
            points = lambda X, y: {"x": X[:, :2].tolist() if d.extent else [],  # noqa: E731
                                   "y": y.tolist()}
            return {"dataset": d.name, "problem": d.problem, "classes": d.classes,
                    "extent": list(d.extent) if d.extent else None,
                    "train": points(d.X_train, d.y_train), "test": points(d.X_test, d.y_test),
                    "input_names": list(d.input_names), "structure": self.structure,
                    "class_names": list(getattr(d, "class_names", None) or ())}
