"""The server's work per frame is small and bounded: while playing, the passes over all
the data (losses, accuracy, confusion) and the heatmaps are redone at their own pace,
not per frame, and each frame says which step they belong to; paused or stepped, every
number is exact; heatmaps that look the same are kept (and so not sent again)."""

import time

import numpy as np
import orjson
import pytest

from app.training import Session
from app.training.frames import Pictures
from app.training.problem import Problem
from app.training.session import PICTURES_INTERVAL, STATS_INTERVAL


@pytest.fixture
def counted(monkeypatch):
    """Counts of the passes over all the data and of the heatmap drawings."""
    calls = {"evaluate": 0, "draw": 0}
    evaluate, draw = Problem.evaluate, Pictures.draw.__func__

    def counting_evaluate(self, *args):
        calls["evaluate"] += 1
        return evaluate(self, *args)

    def counting_draw(cls, *args):
        calls["draw"] += 1
        return draw(cls, *args)

    monkeypatch.setattr(Problem, "evaluate", counting_evaluate)
    monkeypatch.setattr(Pictures, "draw", classmethod(counting_draw))
    return calls


def frames_while_playing(s: Session, seconds: float) -> tuple[list[dict], float]:
    """Frames built as a stream reader asks for them (60 a second) while `s` plays."""
    s.run()
    frames, seq = [], -1
    start = time.monotonic()
    try:
        while time.monotonic() - start < seconds:
            time.sleep(1 / 60)
            with s.lock:
                if s.seq != seq:
                    encoded = s.events()
                    seq = encoded.seq
                    frames.append(orjson.loads(encoded.frame))
    finally:
        s.pause()
    return frames, time.monotonic() - start


def exact_cost(s: Session) -> float:
    return s.network.cost(s.X_train, s.Y_train, s.l2, s.l1, reg_m=len(s.X_train))


def test_playing_frames_measure_all_the_data_a_few_times_a_second_not_per_frame(counted):
    s = Session("b", {"seed": 1, "dataset": "spiral", "layers": [8] * 6, "batch_size": 1, "speed": "max"})
    counted["evaluate"] = counted["draw"] = 0
    frames, elapsed = frames_while_playing(s, 1.5)
    steps = [f["step"] for f in frames]
    assert len(frames) >= 20 and steps == sorted(steps) and steps[-1] > steps[0]
    # +2: the pause's own exact measurement, and the first one when play started
    assert counted["evaluate"] <= elapsed / STATS_INTERVAL + 2 < len(frames)
    assert counted["draw"] <= elapsed / PICTURES_INTERVAL + 2
    for f in frames:     # each frame names the step its losses and heatmaps were measured at
        assert f["loss_step"] <= f["step"] and f["heatmaps_step"] <= f["step"]
    assert len({f["loss_step"] for f in frames}) >= 2          # refreshed while playing
    assert any(f["loss_step"] < f["step"] for f in frames)    # … and not at every frame


def test_a_paused_or_stepped_frame_shows_the_exact_cost_of_its_weights():
    s = Session("b", {"seed": 2, "speed": "max"})
    frames_while_playing(s, 0.5)
    for command in (lambda: None, lambda: s.step("batch", 3), lambda: s.step("phase", 9),
                    lambda: s.set_weight(0, 1, 0, 0.5)):
        command()
        frame = orjson.loads(s.events().frame)
        assert frame["status"] == "paused"
        assert frame["loss"]["train"] == pytest.approx(exact_cost(s), rel=1e-12)
        assert frame["loss_step"] == frame["step"] == s.trainer.step
        assert frame["heatmaps_step"] == frame["step"]
        acc = np.mean((s.network.predict(s.X_train)[:, 0] >= 0.5) == s.data.y_train)
        assert frame["accuracy"]["train"] == acc


def test_heatmaps_that_look_the_same_are_kept_and_new_weights_are_drawn_again():
    s = Session("b", {"seed": 3})
    first = s.pictures()
    s.set_focus(5)                        # a new state, the same weights
    assert s.pictures() is first
    s.set_weight(0, 0, 0, 3.0)            # weights the heatmaps show differently
    redrawn = s.pictures()
    assert redrawn is not first and not redrawn.looks_like(first)
    assert orjson.loads(s.events().frame)["heatmaps"] == orjson.loads(orjson.dumps(redrawn.heatmaps))


def test_a_frame_without_its_pictures_is_the_frame_minus_heatmaps_and_boundary():
    s = Session("b", {"seed": 4})
    s.step("batch", 2)
    encoded = s.events()
    full, light = orjson.loads(encoded.frame), orjson.loads(encoded.light)
    assert full["heatmaps"]["res"] == 16 and full["boundary"]["res"] == 48
    assert light == {k: v for k, v in full.items() if k not in ("heatmaps", "boundary")}
    assert len(encoded.light) < len(encoded.frame) - 2000
