"""The production server: gunicorn, ONE worker process with many threads.

    gunicorn -c gunicorn.conf.py "app:create_app()"

Why one process: training sessions (their networks, their training threads, their
stream bookkeeping) live in the worker's memory. A second worker would not see the
first one's sessions, so a request routed to it would get a 404. To serve more, run
more single-worker servers (ports or containers) behind a proxy that routes by session
id; see docs/deploy.md.

Why threads (the gthread worker): every open page holds one Server-Sent-Events
connection for as long as it is open, and with gthread that is one thread of the pool.
Threads that wait on a session cost almost nothing; what runs out is the pool. If every
thread holds a stream, new requests (page loads, API calls) wait in a queue until a
stream ends, so size BPL_THREADS above the number of pages you expect open at once.

Settings from the environment:
  BPL_BIND     address to listen on, default 127.0.0.1:5000 (this machine only). Listening
               on every interface (0.0.0.0:5000) is an explicit choice: the Docker image
               makes it, because a container's port is only reachable that way.
               Several addresses may be given, comma-separated.
  BPL_THREADS  size of the thread pool, default 128: room for about 100 open pages (one
               stream each) plus short requests. Each stream caps itself at
               BPL_STREAM_MAX_SECONDS (the browser reconnects), and one session accepts at
               most BPL_MAX_STREAMS readers.
Any other gunicorn option can be added with GUNICORN_CMD_ARGS, for example
GUNICORN_CMD_ARGS="--access-logfile -" turns on the access log (off by default: each
frame stream is one long request, and page assets are many small ones).
"""

import os

bind = [b.strip() for b in os.environ.get("BPL_BIND", "127.0.0.1:5000").split(",") if b.strip()]

worker_class = "gthread"
workers = 1          # sessions live in this process's memory: never more than one
threads = int(os.environ.get("BPL_THREADS", "128"))

# The gthread worker's main loop tells the arbiter it is alive about once a second
# whatever its threads are doing, so a stream that lasts an hour is not a "timeout".
# `timeout` only catches a worker whose main loop is stuck; killing it loses every
# session, so it is generous rather than tight.
timeout = 60
# On stop/restart, open streams never finish by themselves: give requests in flight a
# few seconds, then exit (`docker stop` waits 10 s before it kills).
graceful_timeout = 5
keepalive = 5

# Restarting the worker would drop every session: never recycle it after N requests,
# and build the app in the worker (after the fork), not in the arbiter.
max_requests = 0
preload_app = False

accesslog = None
errorlog = "-"
loglevel = "info"

# The worker's heartbeat file: on tmpfs where there is one (in containers /tmp may sit on
# an overlay filesystem whose writes can stall the heartbeat).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
