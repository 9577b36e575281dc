"""A session's past and its durable form: the timeline (frames of past moments, resume
from one) and the record the store keeps — config, the current moment (weights,
optimizer, batch order, cursor), history — from which a session, or a fork, continues
exactly. Uploaded data is named by its hash; the store keeps the bytes."""

from __future__ import annotations

from .errors import SessionError, check_index
from .frames import build_frame, measure, network_of
from .frames import encode as encode_json
from .history import History
from .moment import Moment, pack, unpack
from .problem import Upload

VERSION = 1


def _snapshot(session, index: int) -> Moment:
    snaps = session.history.snapshots
    return snaps[check_index("index", index, len(snaps), "a timeline position")]


def timeline_frame(session, index: int) -> bytes:
    """The frame of a past moment; the live state is not touched."""
    with session.command():
        m, problem = _snapshot(session, index), session.problem
    return encode_json(build_frame(m, problem, measure(network_of(m, problem), problem, m.config, m.step)))


def restore_snapshot(session, index: int) -> None:
    """Resume from a past moment: its weights and counters; later history is dropped."""
    with session.command():
        m = _snapshot(session, index)
        if session.status == "running":
            session.status = "paused"
        session.trainer.restore(m, keep_optimizer=False)
        session.generation += 1
        session.history.truncate(m.step)
        if session.status == "diverged":
            session.status, session.message = "paused", None
        session._changed(record=True)


def encode(session) -> bytes:
    """The record: taken under the session's lock (references to immutable moments and a
    copy of the loss columns), packed outside it, so training never waits for a write."""
    with session.lock:
        u = session.upload
        record = {"version": VERSION, "id": session.id, "config": dict(session.config),
                  "upload": None if u is None else {"sha256": u.sha256, "target": u.target,
                                                    "options": u.options, "problem": u.problem},
                  "moment": session.moment(), "history": session.history.state(),
                  "generation": session.generation, "structure": session.structure}
    history = record["history"]
    history["snapshots"] = session.history.packed(history["snapshots"])
    return pack(record)


def decode(cls, blob: bytes, limits, upload: bytes | None, new_id: str | None):
    """A session of class `cls` from a record (`upload`: the raw CSV its hash names);
    with `new_id`, a paused copy under that id (a fork)."""
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
    session.focus, session.message = m.focus, m.message
    session.status = "paused" if new_id else m.status
    session._changed()
    return session
