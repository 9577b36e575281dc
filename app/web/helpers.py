"""What the routes share: the store and session lookup (404), the request body read
under its cap (413) and parsed as strict JSON (415/400), the one rule for weights,
the shareable-URL header, and the error handlers, registered once by the factory."""

import math
import re
from collections.abc import Callable
from functools import wraps

import orjson
from flask import current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from app.data import DatasetError
from app.training import ConfigError, SessionBusy, SessionError, TooManySessions, to_query

MAX_WEIGHT = 1e6
RETRY_AFTER = 30   # seconds: a few sessions expire or are deleted in that time
NOT_FOUND = "No such session (it may have expired)"


def error_response(status: int, message: str, field: str | None = None, retry_after: int | None = None):
    """The one error shape: {"error": {"message": ..., "field": ...}}."""
    response = jsonify({"error": {"message": message, "field": field}})
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def store():
    return current_app.extensions["sessions"]


def with_session(view: Callable) -> Callable:
    """An API view of `/sessions/<session_id>/…`: called with the session, or 404."""
    @wraps(view)
    def wrapper(session_id: str, **kwargs):
        session = store().get(session_id)
        if session is None:
            return error_response(404, NOT_FOUND, "id")
        return view(session, **kwargs)
    return wrapper


def with_form_session(view: Callable) -> Callable:
    """An htmx view: the session named by the form's `session` field, or 404."""
    @wraps(view)
    def wrapper(**kwargs):
        session = store().get(request.form.get("session", ""))
        if session is None:
            return error_response(404, "This session has expired; reload the page", "session")
        return view(session, **kwargs)
    return wrapper


def replace_url(response, config):
    """Put the configuration in the address bar (htmx), so the URL is always a link."""
    response.headers["HX-Replace-Url"] = "/?" + to_query(config)
    return response


def query_int(name: str, low: int | None = None, high: int | None = None) -> int:
    """The query parameter `name` as a whole number (within [low, high] if given), or a
    400 naming it."""
    text = request.args.get(name, "")
    bounded = low is not None and high is not None
    if not re.fullmatch(r"-?[0-9]{1,9}", text) or (bounded and not low <= int(text) <= high):
        span = f" from {low} to {high}" if bounded else ""
        raise SessionError(name, f"{name} must be a whole number{span}")
    return int(text)


# -- request bodies ------------------------------------------------------------------
def read_chunked_body() -> None:
    """Over the limit is 413, always. Werkzeug refuses a Content-Length over the cap, but
    reads a chunked body (no Content-Length) only *up to* the cap and stops there without
    a word. So read such a body here, whole, before any view or form parser sees it (they
    then read this cached copy), and refuse it if it reached the cap."""
    if request.content_length is None and "wsgi.input_terminated" in request.environ:
        if len(request.get_data(cache=True)) >= current_app.config["MAX_CONTENT_LENGTH"]:
            raise RequestEntityTooLarge()


def is_json() -> bool:
    return request.mimetype == "application/json" or request.mimetype.endswith("+json")


def json_body(required: bool = True) -> dict:
    """The request's JSON object; {} for an empty optional body (any or no Content-Type).

    A body needs Content-Type application/json (415 otherwise: a form-encoded body
    would otherwise be silently ignored). orjson is strict JSON (no NaN literals) and
    limits nesting instead of raising a RecursionError."""
    data = request.get_data(cache=True)
    if not data.strip() and not required:
        return {}
    if not is_json():
        raise UnsupportedBody()
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise SessionError(*_json_problem(data, str(e))) from None
    if not isinstance(body, dict):
        raise SessionError("body", "The request body must be a JSON object")
    return body


class UnsupportedBody(Exception):
    """A body that is not application/json on a JSON route (415)."""


NON_FINITE = re.compile(rb'(?:"((?:[^"\\]|\\.){0,40})"\s*:\s*)?'          # its key, if any
                        rb'(?<![\w".])(-?(?:NaN|Infinity)|-?\d+(?:\.\d*)?[eE]\+?\d{3,})(?![\w"])')


def _json_problem(data: bytes, why: str) -> tuple[str, str]:
    """(field, message) for a body orjson refused: name a non-finite number and its key."""
    for match in NON_FINITE.finditer(data[:100_000]):
        literal = match.group(2).decode()
        if literal[-1].isdigit() and math.isfinite(float(literal)):
            continue
        key = match.group(1).decode(errors="replace") if match.group(1) is not None else None
        return (key or "body",
                f"{literal} is not a finite number{f' (in {key!r})' if key else ''}; JSON numbers must be finite")
    return "body", f"The request body is not valid JSON ({why.split(':')[0]})"


def column(target: str | None) -> str | int | None:
    """A CSV target as typed: a 0-based index when it is ASCII digits, else a column
    name ("²".isdigit() is true, but int("²") fails)."""
    target = (target or "").strip()
    if not target:
        return None
    return int(target) if target.isascii() and target.isdecimal() else target


# -- weights: one rule for /weight and PUT /params -------------------------------------
def check_weight(field: str, value, where: str | None = None) -> float:
    """A weight or bias someone sends: a real number (not a boolean, not a string),
    finite, |w| ≤ 1e6 — the same rule wherever a weight is set. `where` names the
    entry in the message (weights[0][1][2]); the error's field stays `field`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or abs(value) > MAX_WEIGHT:
        shown = orjson.dumps(value).decode() if isinstance(value, (bool, str, type(None))) else repr(value)
        raise SessionError(field, f"{where or field} must be a finite number with |w| ≤ 1e6, got {shown[:40]}")
    return float(value)


def check_arrays(field: str, value, depth: int) -> None:
    """Nested lists (`depth` deep) of weights, each checked by `check_weight`; the
    message names the first bad entry, e.g. weights[0][1][2]."""
    def walk(v, path: str, level: int) -> None:
        if level == depth:
            check_weight(field, v, path)
            return
        if not isinstance(v, list):
            raise SessionError(field, f"{path} must be a list")
        for i, item in enumerate(v):
            walk(item, f"{path}[{i}]", level + 1)

    walk(value, field, 0)


# -- errors --------------------------------------------------------------------------
def _htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def _notice(message: str, status: int):
    """An htmx control's error that belongs to no field: said in the page's notice line."""
    return render_template("partials/notice.html", message=message), status


def install(app) -> None:
    """Map every error the core raises to its status, once for the whole app."""
    app.before_request(read_chunked_body)

    @app.errorhandler(ConfigError)
    @app.errorhandler(SessionError)
    def bad_input(e: ConfigError | SessionError):
        if _htmx():
            return _notice(e.message, 400)
        return error_response(400, e.message, e.field)

    @app.errorhandler(DatasetError)
    def bad_data(e: DatasetError):
        if _htmx():
            return _notice(str(e), 400)
        return error_response(400, str(e), "dataset")

    @app.errorhandler(SessionBusy)
    def busy(e: SessionBusy):
        message = str(e) or "The session is busy with another long command; try again in a moment"
        if _htmx():
            return _notice(message, 409)
        return error_response(409, message, "session", retry_after=1)

    @app.errorhandler(TooManySessions)
    def full(e: TooManySessions):
        return error_response(429, str(e), "session", retry_after=RETRY_AFTER)

    @app.errorhandler(UnsupportedBody)
    def unsupported(e: UnsupportedBody):
        shown = request.mimetype or "none"
        return error_response(415, f"Send the body as JSON with Content-Type: application/json (got {shown})",
                              "content_type")

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        if e.code == 413:
            limit = current_app.config["MAX_CONTENT_LENGTH"]
            if _htmx() and request.path == "/ui/upload":   # one sentence next to the upload control
                size = f"{request.content_length / 1e6:.1f} MB" if request.content_length else "too large"
                return render_template("partials/upload.html", error=f"The file is {size}; at most "
                                       f"{limit // 1000:,} KB can be uploaded, so keep fewer rows."), 413
            return error_response(413, f"The request is too large: at most {limit // 1000:,} KB", "file")
        messages = {404: "Not found", 405: "Method not allowed"}
        return error_response(e.code or 500, messages.get(e.code, e.description or e.name), None)

    @app.errorhandler(Exception)
    def unexpected(e: Exception):
        # A bug, not bad input: logged with its traceback, answered without one.
        current_app.logger.exception("unexpected error")
        return error_response(500, "Something went wrong on the server; the error was logged", None)
