"""The SSE stream: the latest frame, at most 60 times a second per reader.

The reader waits on the session's condition and, when woken, encodes whatever the
state is *now*, so a slow reader skips states instead of queueing them: latest
frame wins, no backlog, and the training worker never waits on a socket. A frame
leaves out "heatmaps" and "boundary" when this stream has sent the same pictures
already (docs/frames.md); the page keeps the last ones it got.

`?fps=N` (1–60) sends at most N frames a second: a page that draws fewer frames than
it receives (a slow laptop, a background tab) asks for fewer, instead of paying to
receive and decode frames it never shows (static/js/stream.js).
"""

import socket
import time

from flask import Blueprint, Response, current_app, request

from .helpers import NOT_FOUND, error_response, query_int, store

bp = Blueprint("stream", __name__, url_prefix="/api")
MAX_FPS = 60
SEND_BUFFER = 32 * 1024


def shrink_send_buffer() -> None:
    """Latest-frame-wins only helps if frames cannot pile up in the kernel: a small
    send buffer makes a stalled reader block our write (and so skip states) after
    a few frames instead of after megabytes."""
    sock = request.environ.get("werkzeug.socket") or request.environ.get("gunicorn.socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        except OSError:
            pass


def event(name: str, data: bytes, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n".encode() if event_id is not None else b""
    return head + b"event: " + name.encode() + b"\ndata: " + data + b"\n\n"


def next_frame(session, sent_seq: int, timeout: float, not_before: float = 0.0):
    """The next state newer than `sent_seq`, or None after `timeout` (a keep-alive).

    While the session plays, the scheduler encodes a frame at most 60 times a second,
    right after a training slice, when a reader asks (`frame_wanted`); the reader only
    waits on `changed` and never competes with training for the session lock. A paused
    session's frame is encoded here, once per state, no sooner than `not_before`."""
    deadline = time.monotonic() + timeout
    session.last_access = time.monotonic()
    with session.changed:
        while True:
            if session.closed:
                return None
            if session.status == "running":
                encoded = session.published
                if encoded is not None and encoded.seq > sent_seq:
                    return encoded
                session.frame_wanted = True
            elif session.seq != sent_seq:
                if time.monotonic() >= not_before:
                    break
                session.changed.wait(not_before - time.monotonic())
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            session.changed.wait(left)
    return session.events()


@bp.get("/sessions/<session_id>/events")
def events(session_id: str):
    """The stream's slot is counted here and released when the response is closed,
    which the WSGI server does for every request: also for a HEAD (whose body is never
    iterated) and for a client that hangs up before the first byte. A HEAD is how the
    page asks whether a stream would be accepted, and when to retry if not."""
    session = store().get(session_id)
    if session is None:
        return error_response(404, NOT_FOUND, "id")
    interval = 1 / (query_int("fps", 1, MAX_FPS) if "fps" in request.args else MAX_FPS)
    heartbeat = current_app.config["STREAM_HEARTBEAT"]
    max_seconds = current_app.config["STREAM_MAX_SECONDS"]
    sessions = store()
    refused = sessions.open_stream(session)
    if refused:
        return error_response(429 if "per session" in refused else 503, refused, "stream", retry_after=2)
    shrink_send_buffer()

    def generate():
        yield b"retry: 1000\n\n"
        sent_seq, sent_status, sent_cursor, sent_pictures = -1, None, None, None
        # `due`: when this reader's next frame is due. It advances by `interval` from the
        # last due time, not from the last send, so a late wake-up (the GIL, the
        # scheduler) does not lower the rate: 60 asked is ~60 sent, not 55.
        due, end = 0.0, time.monotonic() + max_seconds
        while time.monotonic() < end:
            wait = due - time.monotonic()
            if wait > 0 and session.status == "running":
                # a frame is asked for now, so that one is ready when the wait ends
                with session.changed:
                    session.frame_wanted = True
                time.sleep(wait)
            encoded = next_frame(session, sent_seq, heartbeat, due)
            if session.closed:
                break
            if encoded is None:
                yield b": keep-alive\n\n"
                continue
            # heatmaps and boundary change a few times a second: sent once, not with every frame
            light = encoded.pictures is sent_pictures
            chunk = event("frame", encoded.light if light else encoded.frame, encoded.seq)
            if encoded.phase is not None and encoded.cursor != sent_cursor:
                chunk += event("phase", encoded.phase, encoded.seq)
            if encoded.status != sent_status:
                chunk += event("status", encoded.status, encoded.seq)
            sent_seq, sent_status, sent_cursor = encoded.seq, encoded.status, encoded.cursor
            sent_pictures = encoded.pictures
            due = max(due + interval, time.monotonic() + interval / 2)
            yield chunk
        if session.closed:
            yield event("error", b'{"message": "This session has ended."}')

    response = Response(generate(), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    response.call_on_close(lambda: sessions.close_stream(session))
    return response
