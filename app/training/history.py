"""The session's memory of training: the loss curve (bounded, thinned as it grows)
and a ring buffer of weight snapshots for the timeline."""

import time
from collections import deque

MAX_POINTS = 4000
MAX_SNAPSHOTS = 200


class History:
    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval          # seconds between recorded points while playing
        self.columns: dict[str, list] = {k: [] for k in
                                         ("step", "train", "test", "accuracy_train", "accuracy_test")}
        self.snapshots: deque = deque(maxlen=MAX_SNAPSHOTS)
        self._last = 0.0

    def due(self) -> bool:
        return time.monotonic() - self._last >= self.interval

    def add(self, step: int, stats: dict) -> None:
        self._last = time.monotonic()
        c = self.columns
        if c["step"] and c["step"][-1] == step:
            for k in c:
                c[k].pop()
        acc = stats["accuracy"] or {}
        c["step"].append(step)
        c["train"].append(stats["loss"]["train"])
        c["test"].append(stats["loss"]["test"])
        c["accuracy_train"].append(acc.get("train"))
        c["accuracy_test"].append(acc.get("test"))
        if len(c["step"]) > MAX_POINTS:   # keep the whole run, at half the resolution
            for k in c:
                c[k] = c[k][::2]
            self.interval *= 2

    def snapshot(self, step: int, examples: int, weights: list, biases: list) -> None:
        if self.snapshots and self.snapshots[-1][0] == step:
            self.snapshots.pop()
        self.snapshots.append((step, examples, [W.copy() for W in weights], [b.copy() for b in biases]))

    def truncate(self, step: int) -> None:
        """Forget everything after `step` (the timeline's "resume from here")."""
        keep = sum(1 for s in self.columns["step"] if s <= step)
        for k in self.columns:
            self.columns[k] = self.columns[k][:keep]
        while self.snapshots and self.snapshots[-1][0] > step:
            self.snapshots.pop()

    def timeline(self) -> list[int]:
        return [s[0] for s in self.snapshots]

    def payload(self) -> dict:
        return {k: list(v) for k, v in self.columns.items()}
