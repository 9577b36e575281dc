"""Compare runs: fork a session's current moment with one setting changed, so two runs
of the same network can be watched side by side (the page's "Compare…" overlay).

Thin like the rest of the API: the store makes the fork (it counts against the session
cap and expires like any session), the session copies its own moment."""

from flask import Blueprint, jsonify

from app.training import TooManySessions

from .api import json_body, store, with_session
from .helpers import error_response

bp = Blueprint("compare", __name__, url_prefix="/api")


@bp.post("/sessions/<session_id>/fork")
@with_session
def fork(parent):
    """Body: an optional config patch (a JSON object; empty or absent = an exact copy)
    → 201 the new session's summary, the same shape POST /api/sessions answers."""
    patch = json_body(required=False)
    try:
        child = store().fork(parent.id, patch)
    except TooManySessions as e:
        return error_response(429, str(e), None)
    if child is None:   # the parent expired or was deleted between lookup and fork
        return error_response(404, "No such session (it may have expired)", "id")
    return jsonify(child.summary()), 201
