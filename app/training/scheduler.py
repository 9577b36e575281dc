"""One scheduler trains every running session, in turn, in short time slices.

A thread per session would have 30 busy threads contend for the GIL, and their stream
readers wait behind all of them (10 frames/s, 390 ms gaps at 30 sessions). Instead a
couple of trainer threads take the next runnable session from a queue, train it for a
slice, encode its frame if a reader is waiting for one, and put it back at the end:
training time is shared fairly, readers never contend with a crowd, and a paused
session costs nothing.
"""

import heapq
import itertools
import threading
import time
from collections import deque

SLICE_SECONDS = 0.003
YIELD_SECONDS = 0.02   # a command waiting for a playing session's lock waits about this long


class Scheduler:
    def __init__(self, threads: int = 2) -> None:
        self._ready: deque = deque()          # sessions to train now (max speed)
        self._timed: list = []                # (due, n, session): slow and fixed-rate sessions
        self._queued: set[int] = set()        # ids of sessions in either, so none is queued twice
        self._count = itertools.count()
        self._cond = threading.Condition()
        self._threads = threads
        self._started = False

    def add(self, session) -> None:
        """Start (or keep) training `session` while its status is running."""
        with self._cond:
            if id(session) in self._queued:
                return
            self._queued.add(id(session))
            self._ready.append(session)
            self._cond.notify()
            if not self._started:
                self._started = True
                for k in range(self._threads):
                    threading.Thread(target=self._loop, name=f"trainer-{k}", daemon=True).start()

    def _next(self):
        with self._cond:
            while True:
                now = time.monotonic()
                while self._timed and self._timed[0][0] <= now:
                    self._ready.append(heapq.heappop(self._timed)[2])
                if self._ready:
                    return self._ready.popleft()
                timeout = self._timed[0][0] - now if self._timed else None
                self._cond.wait(timeout)

    def _loop(self) -> None:
        yielded = 0.0
        while True:
            session = self._next()
            published = session.published
            try:
                delay = session.train_slice(SLICE_SECONDS)
            except Exception:   # a session's failure must not stop everyone's training
                delay = None
                session.fail()
            # Hand the GIL to the stream readers woken for a new frame, and now and then to
            # commands waiting for the session lock. Not after every slice: sleep(0) also
            # gives the core away, and on a busy machine (the page's browser) it comes back late.
            if session.published is not published or time.monotonic() - yielded >= YIELD_SECONDS:
                time.sleep(0)
                yielded = time.monotonic()
            with self._cond:
                # Re-read the status here, under our lock: a `run` that raced with this
                # slice's end either sees the session still queued or queues it again.
                if delay is None and session.status == "running" and not session.closed:
                    delay = 0.0
                if delay is None:
                    self._queued.discard(id(session))
                elif delay <= 0:
                    self._ready.append(session)
                else:
                    heapq.heappush(self._timed, (time.monotonic() + delay, next(self._count), session))
                    self._cond.notify()


SCHEDULER = Scheduler()
