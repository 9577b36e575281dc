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

from . import experiments, payloads, records
from .config import DEFAULT_LIMITS, Limits, structural_change, validate
from .errors import SessionBusy, SessionError, check_index
from .frames import Encoded, Pictures, encode_events, measure
from .history import History
from .moment import Moment, readonly
from .problem import Problem, Upload, build_problem
from .scheduler import SCHEDULER
from .trainer import Trainer

PHASE_SECONDS = {"slower": 2.0, "slow": 0.7}
# A frame is encoded when a reader wants one and this long has passed since the last:
# 0.9 of 1/60 s, so that readers who keep a 60/s cadence (app/web/stream.py) find one
# ready on time instead of drifting to ~55/s behind the encoder's own clock.
FRAME_INTERVAL = 0.9 / 60
STATS_INTERVAL = 0.25        # while playing, losses over all the data at most 4× a second
PICTURES_INTERVAL = 0.1      # and heatmaps at most 10× (the pace of the page's boundary chart)
COMMAND_SECONDS = 2.0        # a step command stops after this long and says what it did
LOCK_WAIT = 0.5
STALL_CLEAR_CHECKS = 3       # a stalled-layer message goes after this many checks find none
UNITS = ("phase", "example", "batch", "epoch")
MAX_STEP_COUNT = 1000


class Session:
    def __init__(self, session_id: str, config: Mapping, limits: Limits = DEFAULT_LIMITS,
                 upload: Upload | None = None) -> None:
        self.id, self.limits, self.upload = session_id, limits, upload
        self.lock = threading.RLock()
        self.changed = threading.Condition()   # readers wait here, never behind a slice
        self.seq = self.structure = self.generation = 0
        self.status, self.message = "paused", None
        self._stall = (None, 0)                # (the stall message shown, checks since it held)
        self.closed = False
        self.streams = 0
        self.last_access = time.monotonic()
        self.frame_wanted = False              # a stream reader waits for the next frame
        self.published: Encoded | None = None  # events of the latest published moment
        self._published_at = 0.0
        self._moment: Moment | None = None
        self._stats: tuple[float, tuple, dict] | None = None        # (time, _state(), stats)
        self._pictures: tuple[float, tuple, Pictures] | None = None  # (time, _state(), pictures)
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
            self.trainer.apply_live(old, new)
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
            done, focus = self.trainer.steps(unit, count, time.monotonic() + COMMAND_SECONDS)
            self.focus = self.focus if focus is None else focus
            self._check_divergence()
            self._changed(record=True)
            return done

    def _check_divergence(self) -> None:
        why = self.trainer.blown_up()
        if why is not None and self.status != "diverged":
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
                t.train_until(deadline)
                delay = 0.0
            else:
                t.train_batch()
                delay = 1.0 / float(speed)
            self._check_divergence()
            # a reader of a running session waits for a published frame, not for every slice
            self._changed(record=self.history.due(), notify=self.status != "running")
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
    def _changed(self, record: bool = False, notify: bool = True) -> None:
        self.seq += 1
        if record:
            stats = self.stats()
            self.history.add(stats["loss_step"], stats)
            self.history.snapshot(replace(self.moment(), cursor=None))
            if self.status != "diverged":
                self._say_stall(self.trainer.stalled_layer())
        if notify:
            self._notify()

    def _say_stall(self, stalled: str | None) -> None:
        """Show a stalled layer's message while it holds. Once three checks in a row find
        no stalled layer (the weights were edited or imported, a live change let it
        recover), the message goes, unless something else has replaced it since."""
        said, clear = self._stall
        if stalled:
            self.message, self._stall = stalled, (stalled, 0)
        elif said is not None:
            if clear + 1 < STALL_CLEAR_CHECKS:
                self._stall = (said, clear + 1)
            else:
                if self.message == said:
                    self.message = None
                self._stall = (None, 0)

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

    def _state(self) -> tuple:
        return self.structure, self.generation, self.seq

    def _stale(self, cached: tuple | None, interval: float) -> bool:
        """Whether a cached measurement of the weights must be made again: never made, made
        for another network or run, or older than the state — at once while paused, so a
        paused or stepped page shows exact numbers, at most every `interval` while playing."""
        if cached is None or cached[1][:2] != self._state()[:2]:
            return True
        return cached[1] != self._state() and (
            self.status != "running" or time.monotonic() - cached[0] >= interval)

    def stats(self) -> dict:
        """Losses, accuracy and confusion matrix of the weights of step `loss_step` (they cost a
        pass over all the data, far more than a frame): see `_stale`."""
        with self.lock:
            if self._stale(self._stats, STATS_INTERVAL):
                self._stats = (time.monotonic(), self._state(),
                               measure(self.network, self.problem, self.config, self.trainer.step))
            return self._stats[2]

    def pictures(self) -> Pictures:
        """The heatmaps of the weights (see `_stale`). A drawing that looks the same as the
        last one keeps the last one, so a stream that sent it need not send it again."""
        with self.lock:
            if self._stale(self._pictures, PICTURES_INTERVAL):
                fresh = Pictures.draw(self.network, self.problem, self.trainer.step)
                last = self._pictures and self._pictures[2]
                self._pictures = (time.monotonic(), self._state(), last if fresh.looks_like(last) else fresh)
            return self._pictures[2]

    def _publish(self) -> Encoded:
        self.published = encode_events(self.moment(), self.problem, self.stats(), self.pictures())
        self.frame_wanted, self._published_at = False, time.monotonic()
        self._notify()
        return self.published

    def events(self) -> Encoded:
        """The encoded events of the current moment (encoded once per moment)."""
        with self.lock:
            if self.published is None or self.published.seq != self.seq:
                return self._publish()
            return self.published

    # the JSON views (payloads.py), the experiments (experiments.py), the past and the
    # durable record (records.py): functions of a session, used as its methods
    summary, data_payload, upload_summary = payloads.summary, payloads.data_payload, payloads.upload_summary
    probe, gradcheck = experiments.probe, experiments.gradcheck
    gradcheck_sweep = experiments.gradcheck_sweep
    timeline_frame, restore_snapshot = records.timeline_frame, records.restore_snapshot
    to_record = records.encode

    # -- focus, experiments, parameters -----------------------------------------------
    def set_focus(self, index: int) -> None:
        with self.command():
            self.focus = check_index("index", index, len(self.X_train), "a training example")
            self._changed()

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

    # -- durability and forks -----------------------------------------------------------
    @classmethod
    def from_record(cls, blob: bytes, limits: Limits = DEFAULT_LIMITS, upload: bytes | None = None,
                    new_id: str | None = None) -> Session:
        return records.decode(cls, blob, limits, upload, new_id)

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
