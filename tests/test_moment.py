"""A moment is a value: frames are pure functions of it, the past is read without
touching the present, a record restores training exactly, forks continue in step, and
the core's modules import without a cycle."""

import ast
import threading
import time
from pathlib import Path

import numpy as np
import orjson
import pytest

from app.training import Session, SessionBusy
from app.training.frames import build_frame
from app.training.session import COMMAND_SECONDS

APP = Path(__file__).resolve().parent.parent / "app"


def same_params(a: Session, b: Session) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a.network.weights + a.network.biases,
                                                   b.network.weights + b.network.biases))


def test_a_moment_is_immutable_and_outlives_training():
    s = Session("m", {"seed": 1})
    s.step("batch", 3)
    m = s.moment()
    kept = [W.copy() for W in m.weights]
    with pytest.raises(ValueError):
        m.weights[0][0, 0] = 9.0              # read-only arrays
    with pytest.raises(AttributeError):
        m.step = 99                           # frozen record
    s.step("batch", 5)
    assert m.step == 3 and all(np.array_equal(a, b) for a, b in zip(kept, m.weights))
    assert s.moment().step == 8


def test_frame_is_a_pure_function_of_the_moment():
    s = Session("m", {"seed": 2})
    s.step("phase", 5)                         # into the backward pass
    m, seq = s.moment(), s.seq
    stats = s.stats()
    a = orjson.dumps(build_frame(m, s.problem, stats), option=orjson.OPT_SERIALIZE_NUMPY)
    b = orjson.dumps(build_frame(m, s.problem, stats), option=orjson.OPT_SERIALIZE_NUMPY)
    assert a == b and s.seq == seq
    frame = orjson.loads(a)
    assert frame["cursor"] == {"phase": "backward", "layer": 3}   # forward 1-3, cost, backward 3
    assert frame["focus"]["delta"][1] is None and frame["focus"]["delta"][3] is not None


def test_viewing_the_past_never_changes_the_present():
    s = Session("m", {"seed": 3})
    s.step("batch", 20)
    s.step("phase", 2)
    before, seq, cursor = [W.copy() for W in s.network.weights], s.seq, s.trainer.cursor
    past = orjson.loads(s.timeline_frame(0))
    assert past["step"] == 0
    assert s.seq == seq and s.trainer.cursor is cursor
    assert all(np.array_equal(a, b) for a, b in zip(before, s.network.weights))


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("where", ["between batches", "mid phase walk", "mid example loop"])
def test_a_record_restores_training_exactly(optimizer, where):
    s = Session("m", {"seed": 4, "optimizer": optimizer, "regularization": "l2", "lambda": 0.5})
    s.step("batch", 17)
    if where == "mid phase walk":
        s.step("phase", 5)
    elif where == "mid example loop":
        s.step("example", 4)
    r = Session.from_record(s.to_record())
    assert r.id == s.id and r.moment().step == s.moment().step and same_params(r, s)
    assert orjson.loads(r.events().frame)["cursor"] == orjson.loads(s.events().frame)["cursor"]
    for session in (s, r):
        session.step("phase", 3)
        session.step("batch", 9)
    assert same_params(r, s) and r.moment().step == s.moment().step


def test_fork_without_a_patch_stays_identical_step_for_step():
    s = Session("m", {"seed": 5, "optimizer": "adam"})
    s.step("batch", 11)
    f = s.fork("f", {})
    for _ in range(3):
        s.step("batch", 7)
        f.step("batch", 7)
        assert same_params(s, f) and s.moment().step == f.moment().step


def test_a_live_learning_rate_change_scales_the_next_update_exactly():
    s = Session("m", {"seed": 6, "optimizer": "sgd", "learning_rate": 0.03})
    s.step("batch", 4)
    f = s.fork("f", {"learning_rate": 0.3})
    s.step("batch")
    f.step("batch")
    for a, b in zip(s.moment().last.change_W, f.moment().last.change_W):
        np.testing.assert_allclose(b, 10 * a, rtol=1e-12)


def test_a_structural_fork_starts_both_from_step_0_of_the_same_seed():
    s = Session("m", {"seed": 7})
    s.step("batch", 30)
    f = s.fork("f", {"init": "constant"})
    assert s.moment().step == 0 and f.moment().step == 0
    np.testing.assert_array_equal(s.X_train, f.X_train)
    g = s.fork("g", {"learning_rate": 0.1, "layers": [4, 2]})   # same structure: no restart needed
    assert same_params(s, g)


def test_structural_change_while_playing_rebuilds_and_keeps_playing():
    s = Session("m", {"seed": 8, "speed": "10"})
    s.run()
    try:
        s.update_config({"layers": [3]})
        assert s.status == "running" and s.problem.sizes == (2, 3, 1)
        deadline = time.monotonic() + 3
        while s.moment().step == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert s.moment().step > 0
    finally:
        s.close()


def test_a_busy_session_answers_busy_instead_of_queueing():
    s = Session("m", {"seed": 9})
    held = threading.Event()
    release = threading.Event()

    def hold():
        with s.lock:
            held.set()
            release.wait(5)

    t = threading.Thread(target=hold)
    t.start()
    held.wait(2)
    start = time.monotonic()
    with pytest.raises(SessionBusy):
        s.step("batch")
    assert time.monotonic() - start < 1.5
    release.set()
    t.join()


def test_a_long_step_is_bounded_and_says_what_it_did():
    s = Session("m", {"seed": 1, "dataset": "spiral", "points": 2000, "layers": [32] * 6,
                      "batch_size": 1})
    start = time.monotonic()
    done = s.step("epoch", 1000)
    assert done < 1000 and time.monotonic() - start < COMMAND_SECONDS + 2
    assert s.moment().step > 0


def test_the_course_divergence_recipe_diverges_and_says_where():
    s = Session("m", {"seed": 0, "dataset": "plane", "learning_rate": 3.0})
    s.step("epoch", 20)
    assert s.status == "diverged"
    assert "unit" in s.message and "layer" in s.message and "step" in s.message
    frame = orjson.loads(s.events().frame)
    assert frame["status"] == "diverged"


def test_dead_relus_are_named():
    s = Session("m", {"seed": 0, "activation": "relu", "learning_rate": 10.0})
    s.step("epoch", 20)
    assert s.status != "diverged" and "dead ReLU" in (s.message or "")


def test_app_modules_import_without_a_cycle():
    modules = {".".join(p.relative_to(APP.parent).with_suffix("").parts).removesuffix(".__init__"): p
               for p in APP.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    target = f"{base}.{node.module}" if node.module else base
                else:
                    target = node.module or ""
                candidates = [target] + [f"{target}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                candidates = [a.name for a in node.names]
            else:
                continue
            deps |= {c for c in candidates if c in modules and c != name}
        graph[name] = deps

    def parents(mod):   # importing a.b.c runs a and a.b first
        parts = mod.split(".")
        return {".".join(parts[:i]) for i in range(1, len(parts))} & set(modules)

    state = {}

    def visit(mod, stack):
        state[mod] = "open"
        for dep in graph[mod] - parents(mod):
            if state.get(dep) == "open":
                raise AssertionError("import cycle: " + " → ".join([*stack, mod, dep]))
            if dep not in state:
                visit(dep, [*stack, mod])
        state[mod] = "done"

    for mod in graph:
        if mod not in state:
            visit(mod, [])


def test_a_record_packs_each_past_moment_once_and_restores_it_exactly():
    """Writes of a running session re-pack only new moments (a moment never changes)."""
    s = Session("p", {"seed": 2, "layers": [3]})
    for _ in range(5):
        s.step("batch", 3)
    first = s.history.packed(list(s.history.snapshots))
    s.step("batch", 2)
    again = s.history.packed(list(s.history.snapshots))
    assert len(again) == len(first) + 1
    assert all(a is b for a, b in zip(first, again))            # cached, not re-packed
    restored = Session.from_record(s.to_record())
    assert [m.step for m in restored.history.snapshots] == [m.step for m in s.history.snapshots]
    for a, b in zip(restored.history.snapshots, s.history.snapshots):
        assert all(np.array_equal(x, y) for x, y in zip(a.weights + a.biases, b.weights + b.biases))
    assert same_params(restored, s) and restored.moment().step == s.moment().step
