"""The session's memory of training: the loss curve (bounded, thinned as it grows)
and a bounded list of moments for the timeline (a moment is immutable, so keeping one
costs no copy)."""

import math
import time
from array import array

from .moment import Packed

MAX_POINTS = 4000
MAX_SNAPSHOTS = 200
COLUMNS = ("step", "train", "test", "accuracy_train", "accuracy_test")


class History:
    """Both buffers are bounded and keep the whole run: when one fills up, every other
    entry goes and the recording interval doubles. Columns are packed float arrays
    (NaN = no value), so 30 sessions' full histories cost a few MB."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval          # seconds between recorded points while playing
        self.columns: dict[str, array] = {k: array("d") for k in COLUMNS}
        self.snapshots: list = []         # Moments, oldest first
        self.snapshot_every = 1           # take one at every n-th recorded point
        self._since_snapshot = 0
        self._last = 0.0
        self._packed: dict[int, tuple] = {}   # id(moment) → (moment, Packed): see packed()

    def due(self) -> bool:
        return time.monotonic() - self._last >= self.interval

    def add(self, step: int, stats: dict) -> None:
        self._last = time.monotonic()
        c = self.columns
        if c["step"] and c["step"][-1] == step:
            for k in c:
                c[k].pop()
        acc = stats["accuracy"] or {}
        values = (step, stats["loss"]["train"], stats["loss"]["test"], acc.get("train"), acc.get("test"))
        for k, v in zip(COLUMNS, values):
            c[k].append(math.nan if v is None else v)
        if len(c["step"]) > MAX_POINTS:   # keep the whole run, at half the resolution
            for k in c:
                c[k] = c[k][::2]
            self.interval *= 2

    def snapshot(self, moment) -> None:
        if self.snapshots and self.snapshots[-1].step == moment.step:
            self.snapshots.pop()
        elif self._since_snapshot + 1 < self.snapshot_every and self.snapshots:
            self._since_snapshot += 1
            return
        self._since_snapshot = 0
        self.snapshots.append(moment)
        if len(self.snapshots) > MAX_SNAPSHOTS:   # an odd count: [::2] keeps first and newest
            self.snapshots = self.snapshots[::2]
            self.snapshot_every *= 2

    def truncate(self, step: int) -> None:
        """Forget everything after `step` (the timeline's "resume from here")."""
        keep = sum(1 for s in self.columns["step"] if s <= step)
        for k in self.columns:
            self.columns[k] = self.columns[k][:keep]
        while self.snapshots and self.snapshots[-1].step > step:
            self.snapshots.pop()

    def timeline(self) -> list[int]:
        return [s.step for s in self.snapshots]

    def state(self) -> dict:
        """Everything, for the store (moments stay moments)."""
        return {"interval": self.interval, "columns": {k: list(v) for k, v in self.columns.items()},
                "snapshots": list(self.snapshots), "snapshot_every": self.snapshot_every}

    def packed(self, moments: list) -> list:
        """These moments as Packed values for a record. A moment is immutable, so each is
        packed once and kept while it is in the timeline: a write of a running session
        packs only what is new (111 snapshots of a 2-8×6-1 net: 59 ms → a few ms)."""
        cache, out = self._packed, []
        for m in moments:
            hit = cache.get(id(m))
            if hit is None or hit[0] is not m:
                hit = (m, Packed.of(m))
            out.append(hit)
        self._packed = {id(m): hit for m, hit in zip(moments, out)}
        return [p for _, p in out]

    @classmethod
    def from_state(cls, state: dict) -> "History":
        h = cls(state["interval"])
        h.columns = {k: array("d", state["columns"][k]) for k in COLUMNS}
        h.snapshots, h.snapshot_every = list(state["snapshots"]), state["snapshot_every"]
        return h

    def copy(self) -> "History":
        return History.from_state(self.state())

    def payload(self) -> dict:
        out = {k: [None if math.isnan(v) else v for v in col] for k, col in self.columns.items()}
        out["step"] = [int(v) for v in self.columns["step"]]
        return out
