"""Where sessions outlive their process: records, uploads and leases behind one small
interface, with SQLite (embedded, the default) and Redis (several processes or machines).

A *record* is `Session.to_record()`: the whole durable state of one session, written by
the process that owns it. Uploaded CSV files are kept once, by content hash, beside the
records that name them. A *lease* says which process owns a session: only the owner
trains it and writes its record (every write checks the lease, so a process that lost
its lease cannot overwrite the new owner's state). A lease is alive while its owner's
heartbeat is: a process that dies stops beating, and after `lease_seconds` another one
may take its sessions. A live owner hands a session over when another process asks for
it (`acquire` leaves a request the owner sees at its next heartbeat).

Everything expires: records and uploads `ttl` seconds after their last write or refresh,
heartbeats after `lease_seconds`. Nothing is listed to clients; ids are the only keys.

    open_store("sqlite:///instance/sessions.db", ttl=1800, lease_seconds=4)
    open_store("redis://127.0.0.1:6379/0", ttl=1800, lease_seconds=4)
"""

import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit


class StoreError(RuntimeError):
    """The store is unreachable or refused a write (the session stays in memory)."""


class Store(ABC):
    def __init__(self, ttl: float, lease_seconds: float) -> None:
        self.ttl, self.lease_seconds = ttl, lease_seconds

    @abstractmethod
    def acquire(self, session_id: str, owner: str) -> str | None:
        """Take the lease if it is free, ours, or its owner is dead: None. Otherwise
        ask its live owner to hand it over and answer that owner's name."""

    @abstractmethod
    def release(self, session_id: str, owner: str) -> None:
        """Give the lease up (only if it is ours); the record stays."""

    @abstractmethod
    def save(self, session_id: str, owner: str, record: bytes, upload_hash: str | None = None) -> bool:
        """Write the record if `owner` holds the lease (False: the lease was lost).
        Refreshes the expiry of the record, the lease and the upload it names."""

    @abstractmethod
    def load(self, session_id: str) -> tuple[bytes, str | None] | None:
        """(record, the upload hash it names), or None (never written, deleted or expired)."""

    @abstractmethod
    def delete(self, session_id: str, owner: str) -> None:
        """Forget the session for good: record and lease (if the lease is ours or free)."""

    @abstractmethod
    def save_upload(self, digest: str, data: bytes) -> None:
        """Keep raw upload bytes by their sha256 hex digest."""

    @abstractmethod
    def load_upload(self, digest: str) -> bytes | None: ...

    @abstractmethod
    def heartbeat(self, owner: str) -> set[str]:
        """Say `owner` is alive for another `lease_seconds`; answer (and clear) the ids
        of its sessions that other processes asked for."""

    @abstractmethod
    def held(self, owner: str, session_ids: Iterable[str]) -> set[str]:
        """Those of `session_ids` whose lease `owner` still holds."""

    @abstractmethod
    def refresh(self, sessions: Mapping[str, str | None]) -> None:
        """Push back the expiry of these records and the uploads they name
        ({id: upload hash or None}: sessions in use but unchanged)."""

    @abstractmethod
    def forget_owner(self, owner: str) -> None:
        """`owner` is known to be dead: its leases are free from now on."""

    @abstractmethod
    def purge(self) -> None:
        """Drop what has expired (a store without its own expiry does it here)."""

    @abstractmethod
    def close(self) -> None:
        """Let go of connections."""


SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, record BLOB NOT NULL,
                                     upload TEXT, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS uploads (hash TEXT PRIMARY KEY, data BLOB NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS leases (id TEXT PRIMARY KEY, owner TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS leases_by_owner ON leases (owner);
CREATE TABLE IF NOT EXISTS owners (owner TEXT PRIMARY KEY, alive_until REAL NOT NULL);
CREATE TABLE IF NOT EXISTS wants (id TEXT PRIMARY KEY, holder TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS wants_by_holder ON wants (holder);
"""


class SqliteStore(Store):
    """One file shared by the processes of one machine (WAL: readers never wait for the
    writer). Times are this machine's clock. One connection per store, used under a lock."""

    def __init__(self, path: str | Path, ttl: float, lease_seconds: float) -> None:
        super().__init__(ttl, lease_seconds)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA auto_vacuum = INCREMENTAL")   # before the first table only
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")        # durable across a process kill
            self._db.executescript(SCHEMA)

    def _transaction(self, work):
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                result = work(self._db, time.time())
                self._db.execute("COMMIT")
                return result
            except sqlite3.Error as e:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StoreError(f"session store {self.path.name}: {e}") from e

    def _read(self, sql: str, args: tuple):
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as e:
                raise StoreError(f"session store {self.path.name}: {e}") from e

    def acquire(self, session_id: str, owner: str) -> str | None:
        def work(db, now):
            row = db.execute("SELECT l.owner, o.alive_until FROM leases l LEFT JOIN owners o "
                             "ON o.owner = l.owner WHERE l.id = ?", (session_id,)).fetchone()
            if row is None or row[0] == owner or row[1] is None or row[1] < now:
                db.execute("INSERT OR REPLACE INTO leases (id, owner) VALUES (?, ?)", (session_id, owner))
                db.execute("DELETE FROM wants WHERE id = ?", (session_id,))
                return None
            db.execute("INSERT OR REPLACE INTO wants (id, holder) VALUES (?, ?)", (session_id, row[0]))
            return row[0]
        return self._transaction(work)

    def release(self, session_id: str, owner: str) -> None:
        self._transaction(lambda db, now: db.execute(
            "DELETE FROM leases WHERE id = ? AND owner = ?", (session_id, owner)))

    def save(self, session_id: str, owner: str, record: bytes, upload_hash: str | None = None) -> bool:
        def work(db, now):
            done = db.execute(
                "INSERT INTO sessions (id, record, upload, expires) SELECT ?, ?, ?, ? "
                "WHERE EXISTS (SELECT 1 FROM leases WHERE id = ? AND owner = ?) "
                "ON CONFLICT (id) DO UPDATE SET record = excluded.record, upload = excluded.upload, "
                "expires = excluded.expires",
                (session_id, record, upload_hash, now + self.ttl, session_id, owner)).rowcount
            if done and upload_hash:
                db.execute("UPDATE uploads SET expires = ? WHERE hash = ?", (now + self.ttl, upload_hash))
            return bool(done)
        return self._transaction(work)

    def load(self, session_id: str) -> tuple[bytes, str | None] | None:
        rows = self._read("SELECT record, upload FROM sessions WHERE id = ? AND expires >= ?",
                          (session_id, time.time()))
        return (bytes(rows[0][0]), rows[0][1]) if rows else None

    def delete(self, session_id: str, owner: str) -> None:
        def work(db, now):
            db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
            db.execute("DELETE FROM leases WHERE id = ?", (session_id,))
            db.execute("DELETE FROM wants WHERE id = ?", (session_id,))
        self._transaction(work)

    def save_upload(self, digest: str, data: bytes) -> None:
        self._transaction(lambda db, now: db.execute(
            "INSERT OR REPLACE INTO uploads (hash, data, expires) VALUES (?, ?, ?)", (digest, data, now + self.ttl)))

    def load_upload(self, digest: str) -> bytes | None:
        rows = self._read("SELECT data FROM uploads WHERE hash = ?", (digest,))
        return bytes(rows[0][0]) if rows else None

    def heartbeat(self, owner: str) -> set[str]:
        def work(db, now):
            db.execute("INSERT OR REPLACE INTO owners (owner, alive_until) VALUES (?, ?)",
                       (owner, now + self.lease_seconds))
            wanted = {r[0] for r in db.execute("SELECT id FROM wants WHERE holder = ?", (owner,))}
            if wanted:
                db.execute("DELETE FROM wants WHERE holder = ?", (owner,))
            return wanted
        return self._transaction(work)

    def held(self, owner: str, session_ids: Iterable[str]) -> set[str]:
        mine = {r[0] for r in self._read("SELECT id FROM leases WHERE owner = ?", (owner,))}
        return mine & set(session_ids)

    def refresh(self, sessions: Mapping[str, str | None]) -> None:
        def work(db, now):
            db.executemany("UPDATE sessions SET expires = ? WHERE id = ?", [(now + self.ttl, i) for i in sessions])
            db.executemany("UPDATE uploads SET expires = ? WHERE hash = ?",
                           [(now + self.ttl, h) for h in set(sessions.values()) if h])
        if sessions:
            self._transaction(work)

    def forget_owner(self, owner: str) -> None:
        self._transaction(lambda db, now: db.execute("DELETE FROM owners WHERE owner = ?", (owner,)))

    def purge(self) -> None:
        def work(db, now):
            db.execute("DELETE FROM sessions WHERE expires < ?", (now,))
            db.execute("DELETE FROM uploads WHERE expires < ?", (now,))
            db.execute("DELETE FROM owners WHERE alive_until < ?", (now - self.ttl,))
            # Orphan leases of dead owners only: a live owner's new lease may not have its
            # first record yet (acquire, then save).
            db.execute("DELETE FROM leases WHERE id NOT IN (SELECT id FROM sessions) AND owner NOT IN "
                       "(SELECT owner FROM owners WHERE alive_until >= ?)", (now,))
        self._transaction(work)
        with self._lock:
            self._db.execute("PRAGMA incremental_vacuum")   # give freed pages back to the disk

    def close(self) -> None:
        with self._lock:
            self._db.close()


# Redis keeps time and expiry itself (every key has a TTL), so machines need not agree on
# the clock. Keys: s:<id> record, u:<hash> upload, l:<id> lease (owner name),
# o:<owner> heartbeat, w:<owner> set of ids others asked that owner for.
ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
if (not holder) or holder == ARGV[1] or redis.call('EXISTS', ARGV[3] .. holder) == 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return false
end
redis.call('SADD', ARGV[4] .. holder, ARGV[5])
redis.call('EXPIRE', ARGV[4] .. holder, ARGV[6])
return holder
"""
SAVE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'r', ARGV[2], 'u', ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[3])
if KEYS[3] then redis.call('EXPIRE', KEYS[3], ARGV[3]) end
return 1
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
"""
DELETE = """
local holder = redis.call('GET', KEYS[1])
if (not holder) or holder == ARGV[1] then redis.call('DEL', KEYS[1], KEYS[2]) end
"""


class RedisStore(Store):
    def __init__(self, url: str, ttl: float, lease_seconds: float, prefix: str = "bpl:") -> None:
        import redis  # only needed when BPL_STORE names Redis

        super().__init__(ttl, lease_seconds)
        self.prefix = prefix
        self._errors = (redis.RedisError,)
        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5,
                                           health_check_interval=30)
        self._acquire = self._redis.register_script(ACQUIRE)
        self._save = self._redis.register_script(SAVE)
        self._release = self._redis.register_script(RELEASE)
        self._delete = self._redis.register_script(DELETE)

    def _key(self, kind: str, name: str) -> str:
        return f"{self.prefix}{kind}:{name}"

    def _seconds(self, value: float) -> int:
        return max(1, round(value))

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except self._errors as e:
            raise StoreError(f"session store (Redis): {e}") from e

    def acquire(self, session_id: str, owner: str) -> str | None:
        holder = self._call(self._acquire, keys=[self._key("l", session_id)],
                            args=[owner, self._seconds(self.ttl), self._key("o", ""), self._key("w", ""),
                                  session_id, self._seconds(self.lease_seconds * 4)])
        return holder.decode() if holder else None

    def release(self, session_id: str, owner: str) -> None:
        self._call(self._release, keys=[self._key("l", session_id)], args=[owner])

    def save(self, session_id: str, owner: str, record: bytes, upload_hash: str | None = None) -> bool:
        keys = [self._key("l", session_id), self._key("s", session_id)]
        if upload_hash:
            keys.append(self._key("u", upload_hash))
        return bool(self._call(self._save, keys=keys, args=[owner, record, self._seconds(self.ttl),
                                                            upload_hash or ""]))

    def load(self, session_id: str) -> tuple[bytes, str | None] | None:
        record, digest = self._call(self._redis.hmget, self._key("s", session_id), ["r", "u"])
        return None if record is None else (record, (digest or b"").decode() or None)

    def delete(self, session_id: str, owner: str) -> None:
        self._call(self._delete, keys=[self._key("l", session_id), self._key("s", session_id)], args=[owner])

    def save_upload(self, digest: str, data: bytes) -> None:
        self._call(self._redis.set, self._key("u", digest), data, ex=self._seconds(self.ttl))

    def load_upload(self, digest: str) -> bytes | None:
        return self._call(self._redis.get, self._key("u", digest))

    def heartbeat(self, owner: str) -> set[str]:
        wants = self._key("w", owner)
        pipe = self._redis.pipeline()
        pipe.set(self._key("o", owner), b"1", px=max(1, int(self.lease_seconds * 1000)))
        pipe.smembers(wants)
        pipe.delete(wants)
        _, wanted, _ = self._call(pipe.execute)
        return {w.decode() for w in wanted}

    def held(self, owner: str, session_ids: Iterable[str]) -> set[str]:
        ids = list(session_ids)
        if not ids:
            return set()
        holders = self._call(self._redis.mget, [self._key("l", i) for i in ids])
        return {i for i, h in zip(ids, holders) if h is not None and h.decode() == owner}

    def refresh(self, sessions: Mapping[str, str | None]) -> None:
        pipe = self._redis.pipeline()
        for i, digest in sessions.items():
            pipe.expire(self._key("s", i), self._seconds(self.ttl))
            pipe.expire(self._key("l", i), self._seconds(self.ttl))
            if digest:
                pipe.expire(self._key("u", digest), self._seconds(self.ttl))
        if sessions:
            self._call(pipe.execute)

    def forget_owner(self, owner: str) -> None:
        self._call(self._redis.delete, self._key("o", owner))

    def purge(self) -> None:
        """Nothing to do: every key has its own TTL."""

    def close(self) -> None:
        self._redis.close()


def open_store(url: str, ttl: float, lease_seconds: float) -> Store:
    """`sqlite:///relative/path.db`, `sqlite:////absolute/path.db` or `redis://host:port/db`."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite" and url.startswith("sqlite:///"):
        return SqliteStore(url.removeprefix("sqlite:///"), ttl, lease_seconds)
    if scheme in ("redis", "rediss", "unix"):
        return RedisStore(url, ttl, lease_seconds)
    raise ValueError(f"BPL_STORE must be sqlite:///path or redis://host:port/db, not {url!r}")
