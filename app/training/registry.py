"""All live sessions of one server process: creation under a cap, lookup by an
unguessable id, idle expiry. There is deliberately no way to list them."""

import secrets
import threading
import time
from collections.abc import Mapping

from .config import Limits
from .session import Session


class TooManySessions(Exception):
    pass


class SessionStore:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._reaper: threading.Thread | None = None
        self._stopped = threading.Event()

    def _start_reaper(self) -> None:
        """Expire idle sessions in the background, so a forgotten tab's worker stops
        even when nobody creates a session."""
        if self._reaper is None:
            interval = max(0.05, min(self.limits.session_ttl / 4, 60.0))
            self._reaper = threading.Thread(target=self._reap, args=(interval,), daemon=True,
                                            name="session-reaper")
            self._reaper.start()

    def _reap(self, interval: float) -> None:
        while not self._stopped.wait(interval):
            self.expire()

    def create(self, config: Mapping) -> Session:
        self.expire()
        with self._lock:
            if len(self._sessions) >= self.limits.max_sessions:
                raise TooManySessions(f"The server already runs {self.limits.max_sessions} "
                                      "sessions; try again when some have expired.")
        session = Session(secrets.token_urlsafe(24), config, self.limits)   # 192 random bits
        with self._lock:
            self._sessions[session.id] = session
        self._start_reaper()
        return session

    def get(self, session_id: str) -> Session | None:
        with self._lock:
            session = self._sessions.get(session_id)
        if session is not None:
            session.last_access = time.monotonic()
        return session

    def delete(self, session_id: str) -> bool:
        with self._lock:
            session = self._sessions.pop(session_id, None)
        if session is None:
            return False
        session.close()
        return True

    def expire(self) -> int:
        """Close sessions idle longer than the TTL (a stream being read counts as use)."""
        cutoff = time.monotonic() - self.limits.session_ttl
        with self._lock:
            idle = [s for s in self._sessions.values() if s.last_access < cutoff and not s.streams]
            for s in idle:
                del self._sessions[s.id]
        for s in idle:
            s.close()
        return len(idle)

    def open_stream(self, session: Session) -> str | None:
        """Count a new stream, or say why not (per-session and server-wide caps)."""
        with self._lock:
            total = sum(s.streams for s in self._sessions.values())
            if total >= self.limits.max_total_streams:
                return f"The server is carrying its maximum of {self.limits.max_total_streams} streams; retry shortly"
            if session.streams >= self.limits.max_streams:
                return f"At most {self.limits.max_streams} streams per session"
            session.streams += 1
            return None

    def close_stream(self, session: Session) -> None:
        with self._lock:
            session.streams -= 1

    def __len__(self) -> int:
        return len(self._sessions)

    def close_all(self) -> None:
        self._stopped.set()
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for s in sessions:
            s.close()
