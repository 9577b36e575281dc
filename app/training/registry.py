"""All the sessions one server process owns: creation under caps (count and memory),
lookup by an unguessable id, idle expiry, and durability. There is deliberately no way
to list them.

Durability (see store.py): every session this process holds is leased to it in the
store. A keeper thread, off the training threads, writes a session's record when it
changed: at once when it is paused (and before the reply of the command that changed
it, through `after_request`), at most every `persist_seconds` while it trains. On a
miss, `get` loads the session from the store (after a restart, after the process that
owned it died, or when nginx's consistent hash moved its id here) and takes the lease:
at once if the lease is free or its owner is dead, else after the live owner hands it
over (it writes the latest state, stops, and lets go).
"""

import ctypes
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from .config import Limits
from .scheduler import SCHEDULER
from .session import Session, SessionBusy
from .store import Store, StoreError, open_store

log = logging.getLogger("bpl.sessions")
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
TICK = 0.05                  # the keeper's pace: a paused session's change is written within it
SESSION_OVERHEAD = 200_000   # bytes a session costs beyond its arrays (objects, dicts, small lists)


class TooManySessions(Exception):
    pass


class SessionMoving(SessionBusy):
    """The session's owner, another live process, did not hand it over in time (→ 409, retry)."""


@dataclass(frozen=True)
class Durability:
    """How sessions outlive this process, from BPL_* environment variables."""

    store: str = ""               # BPL_STORE; empty: sqlite:///<instance folder>/sessions.db
    lease_seconds: float = 4.0    # a dead process's sessions can move after this long
    persist_seconds: float = 2.0  # a running session is written at most this often
    unused_ttl: float = 60.0      # a session that never opened a stream expires after this idle time
    max_memory_mb: float = 1500.0 # sessions × their estimated size, per process (429 beyond)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Durability":
        return cls(**{f.name: type(f.default)(env[f"BPL_{f.name.upper()}"])
                      for f in fields(cls) if f"BPL_{f.name.upper()}" in env})


def owner_name() -> str:
    """host/pid-namespace/pid/random: unique per process, and it tells a process on the
    same host (and PID namespace) whether the owner still runs."""
    try:
        namespace = os.readlink("/proc/self/ns/pid").strip("pid:[]")
    except OSError:
        namespace = "-"
    return f"{socket.gethostname()}/{namespace}/{os.getpid()}/{secrets.token_hex(4)}"


def dead_here(owner: str) -> bool:
    """Whether `owner` is a process of this host and PID namespace that no longer runs."""
    host, namespace, pid, _ = (owner.split("/") + ["", "", "", ""])[:4]
    me = owner_name().split("/")
    if (host, namespace) != (me[0], me[1]) or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:     # it exists but is not ours to signal
        return False
    return False


def footprint(obj, depth: int = 4) -> int:
    """Bytes held by the NumPy arrays (and packed buffers) reachable from `obj`."""
    seen: set[int] = set()

    def walk(v, d: int) -> int:
        if id(v) in seen or d < 0:
            return 0
        seen.add(id(v))
        if isinstance(v, np.ndarray):
            return v.nbytes if v.base is None else 0
        if isinstance(v, (bytes, bytearray, memoryview)):
            return len(v)
        if hasattr(v, "buffer_info") and hasattr(v, "itemsize"):   # array.array
            return len(v) * v.itemsize
        if isinstance(v, dict):
            return sum(walk(x, d - 1) for x in v.values())
        if isinstance(v, (list, tuple, set, frozenset)):
            return sum(walk(x, d - 1) for x in v)
        inner = getattr(v, "__dict__", None)
        if inner is None and hasattr(v, "__slots__"):
            inner = {s: getattr(v, s, None) for s in v.__slots__}
        return sum(walk(x, d - 1) for x in inner.values()) if isinstance(inner, dict) else 0

    return walk(obj, depth) + SESSION_OVERHEAD


def trim_memory() -> None:
    """Hand freed heap back to the OS (glibc keeps it otherwise, and RSS stays high)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class SessionStore:
    def __init__(self, limits: Limits, durable: Store | None = None,
                 settings: Durability | None = None) -> None:
        self.limits, self.durable, self.settings = limits, durable, settings or Durability()
        self.owner = owner_name()
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._saved: dict[str, tuple[int, float]] = {}   # id → (seq written, when)
        self._uploads: set[str] = set()                  # upload hashes already in the store
        self._sizes: dict[str, int] = {}                 # id → estimated bytes
        self._streamed: set[str] = set()                 # ids that have opened a stream
        self._loading: dict[str, threading.Lock] = {}
        self._touched = threading.local()                # ids a request of this thread used
        self._keeper: threading.Thread | None = None
        self._stopped = threading.Event()
        self._last_beat = 0.0
        self._trim = False

    @classmethod
    def for_app(cls, app) -> "SessionStore":
        """The registry of a Flask app: BPL_STORE (or app.config["STORE"]) names the store
        ("memory": none, sessions die with the process); records are written before the
        reply of every request that changed a session."""
        settings = Durability.from_env()
        url = app.config.get("STORE") or settings.store or \
            f"sqlite:///{Path(app.instance_path) / 'sessions.db'}"
        limits = app.config["LIMITS"]
        durable = None if url == "memory" else open_store(url, limits.session_ttl, settings.lease_seconds)
        registry = cls(limits, durable, settings)
        app.after_request(registry.after_request)
        return registry

    # -- the keeper: heartbeat, handovers, writes, expiry ---------------------------------
    def _start_keeper(self) -> None:
        with self._lock:
            if self._keeper is not None or self._stopped.is_set():
                return
            self._keeper = threading.Thread(target=self._keep, daemon=True, name="session-keeper")
        if self.durable is not None:
            self._beat()       # our sessions are leased from now on: say we are alive
        self._keeper.start()

    def _keep(self) -> None:
        beat_every = self.settings.lease_seconds / 8
        reap_every = max(TICK, min(self.limits.session_ttl / 4, self.settings.unused_ttl / 4, 30.0))
        refresh_every = max(1.0, min(self.limits.session_ttl / 4, 60.0))
        next_beat = next_reap = next_refresh = 0.0
        while not self._stopped.wait(TICK):
            now = time.monotonic()
            try:
                if self.durable is not None and now >= next_beat:
                    next_beat = now + beat_every
                    self._beat()
                self._persist(now)
                if now >= next_reap:
                    next_reap = now + reap_every
                    self.expire()
                if now >= next_refresh:
                    next_refresh = now + refresh_every
                    self._refresh()
            except StoreError as e:
                log.warning("%s (will retry)", e)
            except Exception:   # the keeper must survive any one session's failure
                log.exception("session keeper")

    def _beat(self) -> None:
        started = time.monotonic()
        wanted = self.durable.heartbeat(self.owner)
        if self._last_beat and started - self._last_beat > self.settings.lease_seconds:
            # We were stalled long enough for others to think us dead: keep only what is still ours.
            with self._lock:
                ids = list(self._sessions)
            held = self.durable.held(self.owner, ids)
            for sid in set(ids) - held:
                log.warning("session %s… was taken over while this process stalled", sid[:6])
                self._forget(sid)
        self._last_beat = started
        for sid in wanted:
            self._hand_over(sid)

    def _persist(self, now: float) -> None:
        """Write every session whose state changed: paused ones now, running ones every
        `persist_seconds`."""
        with self._lock:
            sessions = list(self._sessions.values())
        for s in sessions:
            if self._due(s, now):
                self._write(s)

    def _due(self, s: Session, now: float) -> bool:
        seq, at = self._saved.get(s.id, (-1, 0.0))
        return s.seq != seq and (s.status != "running" or now - at >= self.settings.persist_seconds)

    def _write(self, s: Session) -> None:
        if self.durable is None or s.closed:
            return
        with s.lock:
            seq, record, digest = s.seq, s.to_record(), s.upload_hash
        if digest and digest not in self._uploads:
            self.durable.save_upload(digest, s.upload_bytes())
            self._uploads.add(digest)
        if self.durable.save(s.id, self.owner, record, digest):
            self._saved[s.id] = (seq, time.monotonic())
        else:
            log.warning("session %s… lost its lease; another process has it now", s.id[:6])
            self._forget(s.id)

    def _refresh(self) -> None:
        """Push back the store's expiry of sessions in use here, and re-estimate memory."""
        with self._lock:
            sessions = dict(self._sessions)
        if self.durable is not None:
            self.durable.refresh({sid: s.upload_hash for sid, s in sessions.items()})
            self.durable.purge()
        for sid, s in sessions.items():
            self._sizes[sid] = footprint(s)
        if self._trim:
            self._trim = False
            trim_memory()

    def after_request(self, response):
        """Flask hook: write the sessions this request changed before the reply leaves, so
        a reply means the change is durable (running sessions: within persist_seconds)."""
        touched = getattr(self._touched, "ids", None)
        if touched:
            self._touched.ids = set()
            now = time.monotonic()
            for sid in touched:
                with self._lock:
                    s = self._sessions.get(sid)
                if s is not None and self._due(s, now):
                    try:
                        self._write(s)
                    except StoreError as e:
                        log.warning("%s (the keeper will retry)", e)
        return response

    # -- creating, finding, forking ---------------------------------------------------------
    def _room(self) -> None:
        with self._lock:
            count = len(self._sessions)
        if count >= self.limits.max_sessions:
            raise TooManySessions(f"The server already runs {self.limits.max_sessions} "
                                  "sessions; try again when some have expired.")

    def _fits(self, session: Session) -> None:
        size = footprint(session)
        cap = self.settings.max_memory_mb * 1e6
        with self._lock:
            used = sum(self._sizes.get(sid, 0) for sid in self._sessions)
        if used + size > cap:
            session.close()
            raise TooManySessions(f"The server's memory for sessions is full ({cap / 1e6:,.0f} MB); "
                                  "try again when some have expired, or with a smaller network or data set.")
        self._sizes[session.id] = size

    def _adopt(self, session: Session) -> Session:
        """Take a new session in: lease it, write it, hold it."""
        self._fits(session)
        if self.durable is not None:
            try:
                self.durable.acquire(session.id, self.owner)   # a new id: free
                self._write(session)
            except StoreError as e:
                log.warning("%s (session %s… kept in memory only for now)", e, session.id[:6])
        with self._lock:
            self._sessions[session.id] = session
        self._start_keeper()
        return session

    def create(self, config: Mapping) -> Session:
        self.expire()
        self._room()
        return self._adopt(Session(secrets.token_urlsafe(24), config, self.limits))   # 192 random bits

    def fork(self, parent_id: str, patch: Mapping) -> Session | None:
        """A new session from the parent's current moment (None: no such parent)."""
        parent = self.get(parent_id)
        if parent is None:
            return None
        self.expire()
        self._room()
        return self._adopt(parent.fork(secrets.token_urlsafe(24), patch))

    def get(self, session_id: str) -> Session | None:
        with self._lock:
            session = self._sessions.get(session_id)
        if session is None and self.durable is not None and isinstance(session_id, str) \
                and SESSION_ID.fullmatch(session_id):
            session = self._load(session_id)
        if session is not None:
            session.last_access = time.monotonic()
            touched = getattr(self._touched, "ids", None)
            if touched is None:
                touched = self._touched.ids = set()
            touched.add(session_id)
        return session

    def _load(self, sid: str) -> Session | None:
        with self._lock:
            gate = self._loading.setdefault(sid, threading.Lock())
        with gate:   # one load per id at a time; who waited finds it loaded
            try:
                with self._lock:
                    if sid in self._sessions:
                        return self._sessions[sid]
                if self.durable.load(sid) is None:   # unknown ids cost one read, no lease
                    return None
                self._take_lease(sid)
                found = self.durable.load(sid)       # the latest: the last owner wrote it before letting go
                if found is None:
                    self.durable.release(sid, self.owner)
                    return None
                session = self._revive(sid, *found)
            finally:
                with self._lock:
                    self._loading.pop(sid, None)
        with self._lock:
            self._sessions[sid] = session
        self._saved[sid] = (session.seq, time.monotonic())
        self._sizes[sid] = footprint(session)
        self._start_keeper()
        if session.status == "running":
            SCHEDULER.add(session)   # it was training when its last owner wrote it
        log.info("session %s… loaded from the store at step %s", sid[:6], session.moment().step)
        return session

    def _take_lease(self, sid: str) -> None:
        """The lease, from a dead owner at once, from a live one after it hands over."""
        deadline = time.monotonic() + self.settings.lease_seconds + 2.0
        while True:
            holder = self.durable.acquire(sid, self.owner)
            if holder is None:
                return
            if dead_here(holder):
                self.durable.forget_owner(holder)
                continue
            if time.monotonic() > deadline:
                raise SessionMoving("session", "This session is moving between servers; try again in a moment")
            time.sleep(TICK)

    def _revive(self, sid: str, record: bytes, digest: str | None) -> Session:
        upload = self.durable.load_upload(digest) if digest else None
        try:
            session = Session.from_record(record, self.limits, upload)
        except Exception:
            self.durable.release(sid, self.owner)
            raise
        if digest:
            self._uploads.add(digest)
        return session

    # -- letting go ---------------------------------------------------------------------
    def _forget(self, sid: str) -> Session | None:
        """Drop a session from memory (its lease is not ours any more, or it is gone)."""
        with self._lock:
            session = self._sessions.pop(sid, None)
        self._saved.pop(sid, None)
        self._sizes.pop(sid, None)
        self._streamed.discard(sid)
        if session is not None:
            session.close()
            self._trim = True
        return session

    def _hand_over(self, sid: str) -> None:
        """Another process asked for this session: write its latest state, stop, let go."""
        with self._lock:
            session = self._sessions.get(sid)
        if session is None:
            return
        with session.lock:          # no training between the last write and the close
            seq, _ = self._saved.get(sid, (-1, 0.0))
            if session.seq != seq:
                self._write(session)
            self._forget(sid)
        self.durable.release(sid, self.owner)
        log.info("session %s… handed over", sid[:6])

    def delete(self, session_id: str) -> bool:
        session = self.get(session_id)
        if session is None:
            return False
        self._forget(session_id)
        if self.durable is not None:
            self.durable.delete(session_id, self.owner)
        return True

    def expire(self) -> int:
        """Close sessions idle longer than the TTL, or than `unused_ttl` if they never
        opened a stream (a page load nobody uses, a flood of creations); a stream being
        read counts as use. Expired sessions are gone from the store too."""
        now = time.monotonic()
        cutoff = now - self.limits.session_ttl
        unused = now - min(self.settings.unused_ttl, self.limits.session_ttl)
        with self._lock:
            idle = [sid for sid, s in self._sessions.items() if not s.streams and (
                s.last_access < cutoff or (sid not in self._streamed and s.last_access < unused))]
        for sid in idle:
            self._forget(sid)
            if self.durable is not None:
                try:
                    self.durable.delete(sid, self.owner)
                except StoreError as e:
                    log.warning("%s (it will expire in the store by itself)", e)
        return len(idle)

    # -- streams ------------------------------------------------------------------------
    def open_stream(self, session: Session) -> str | None:
        """Count a new stream, or say why not (per-session and server-wide caps)."""
        with self._lock:
            total = sum(s.streams for s in self._sessions.values())
            if total >= self.limits.max_total_streams:
                return f"The server is carrying its maximum of {self.limits.max_total_streams} streams; retry shortly"
            if session.streams >= self.limits.max_streams:
                return f"At most {self.limits.max_streams} streams per session"
            session.streams += 1
            self._streamed.add(session.id)
            return None

    def close_stream(self, session: Session) -> None:
        with self._lock:
            session.streams -= 1

    def __len__(self) -> int:
        return len(self._sessions)

    def close_all(self) -> None:
        """Shut down: write what changed, let every lease go (the next process takes the
        sessions at once), close the sessions. The records stay."""
        self._stopped.set()
        with self._lock:
            ids = list(self._sessions)
        for sid in ids:
            with self._lock:
                session = self._sessions.get(sid)
            if session is None:
                continue
            try:
                if self.durable is not None:
                    with session.lock:
                        if session.seq != self._saved.get(sid, (-1, 0.0))[0]:
                            self._write(session)
                        self._forget(sid)
                    self.durable.release(sid, self.owner)
                else:
                    self._forget(sid)
            except StoreError as e:
                log.warning("%s (session %s… may lose its last seconds)", e, sid[:6])
                self._forget(sid)
        if self.durable is not None:
            self.durable.close()
