"""The JSON API (see the README's API reference). Every input is validated by the
session's typed config or its command checks; bad input is a 4xx, never a 500."""

import secrets
from functools import wraps

import orjson
from flask import Blueprint, current_app, jsonify, render_template, request

from app.data import DatasetError
from app.training import ConfigError, SessionError, TooManySessions, to_query
from app.training.config import SEED_MAX
from app.training.frames import build_frame, encode

from .errors import error_response, install_handlers

bp = Blueprint("api", __name__, url_prefix="/api")
install_handlers(bp)


def store():
    return current_app.extensions["sessions"]


def json_body(required: bool = True) -> dict:
    """The request's JSON object; {} for an empty optional body."""
    if not request.data and not required:
        return {}
    try:   # orjson: strict JSON (no NaN literals) and a nesting limit instead of a RecursionError
        body = orjson.loads(request.get_data(cache=True))
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        raise SessionError("body", "The request body must be a JSON object")
    return body


def with_session(view):
    @wraps(view)
    def wrapper(session_id: str, **kwargs):
        session = store().get(session_id)
        if session is None:
            return error_response(404, "No such session (it may have expired)", "id")
        try:
            return view(session, **kwargs)
        except (ConfigError, SessionError) as e:
            return error_response(400, e.message, e.field)
        except DatasetError as e:
            return error_response(400, str(e), "dataset")
    return wrapper


@bp.post("/sessions")
def create_session():
    try:
        session = store().create(json_body(required=False))
    except (ConfigError, SessionError) as e:
        return error_response(400, e.message, e.field)
    except DatasetError as e:
        return error_response(400, str(e), "dataset")
    except TooManySessions as e:
        return error_response(429, str(e), None)
    return jsonify(session.summary()), 201


@bp.get("/sessions/<session_id>")
@with_session
def get_session(session):
    return jsonify(session.summary())


@bp.patch("/sessions/<session_id>")
@with_session
def patch_session(session):
    session.update_config(json_body())
    return jsonify(session.summary())


@bp.delete("/sessions/<session_id>")
def delete_session(session_id: str):
    if not store().delete(session_id):
        return error_response(404, "No such session (it may have expired)", "id")
    return "", 204


@bp.post("/sessions/<session_id>/run")
@with_session
def run(session):
    session.run()
    return jsonify(session.summary())


@bp.post("/sessions/<session_id>/pause")
@with_session
def pause(session):
    session.pause()
    return jsonify(session.summary())


@bp.post("/sessions/<session_id>/reset")
@with_session
def reset(session):
    session.reset()
    return jsonify(session.summary())


@bp.post("/sessions/<session_id>/regenerate")
@with_session
def regenerate(session):
    session.update_config({"seed": secrets.randbelow(SEED_MAX)})
    return jsonify(session.summary())


@bp.post("/sessions/<session_id>/step")
@with_session
def step(session):
    body = json_body(required=False)
    session.step(body.get("unit", "batch"), body.get("count", 1))
    return jsonify(session.summary())


@bp.post("/sessions/<session_id>/focus")
@with_session
def focus(session):
    session.set_focus(json_body().get("index"))
    return jsonify(session.summary())


@bp.post("/sessions/<session_id>/weight")
@with_session
def weight(session):
    body = json_body()
    session.set_weight(body.get("layer"), body.get("to"), body.get("from"), body.get("value"))
    return jsonify(session.summary())


@bp.post("/sessions/<session_id>/gradcheck")
@with_session
def gradcheck(session):
    cap = json_body(required=False).get("max_params")
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
        raise SessionError("max_params", "max_params must be a whole number ≥ 1")
    return jsonify(session.gradcheck(cap))


@bp.post("/sessions/<session_id>/gradcheck/sweep")
@with_session
def gradcheck_sweep(session):
    return jsonify(session.gradcheck_sweep())


@bp.post("/sessions/<session_id>/probe")
@with_session
def probe(session):
    body = json_body()
    return jsonify(session.probe(body.get("layer"), body.get("unit"), body.get("h", 1e-4)))


@bp.post("/sessions/<session_id>/upload")
@with_session
def upload(session):
    """A CSV file: multipart field `file` (and optional `target`), or the raw body
    with `?target=`. The target is a column name or a 0-based index."""
    file = request.files.get("file")
    data = file.read() if file is not None else request.get_data()
    target = request.form.get("target") or request.args.get("target") or None
    if target is not None and target.isdigit():
        target = int(target)
    try:
        summary = session.upload_csv(data, target)
    except DatasetError as e:
        return error_response(400, str(e), "file")
    return jsonify({"upload": summary, **session.summary()})


@bp.get("/sessions/<session_id>/timeline")
@with_session
def timeline(session):
    with session.lock:
        return jsonify({"steps": session.history.timeline(), "step": session.step_count})


@bp.get("/sessions/<session_id>/timeline/<int:index>")
@with_session
def timeline_frame(session, index: int):
    """The frame of one moment in the history, for the scrubber (changes nothing)."""
    body = encode(session.view_snapshot(index, build_frame))
    return current_app.response_class(body, mimetype="application/json")


@bp.post("/sessions/<session_id>/timeline/<int:index>/restore")
@with_session
def timeline_restore(session, index: int):
    session.restore_snapshot(index)
    return jsonify(session.summary())


def attachment(body, mimetype: str, filename: str):
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/sessions/<session_id>/params")
@with_session
def get_params(session):
    if request.args.get("download"):
        return attachment(encode(session.params()), "application/json", "backprop-lens-weights.json")
    return jsonify(session.params())


@bp.get("/sessions/<session_id>/history.csv")
@with_session
def history_csv(session):
    with session.lock:
        columns = session.history.payload()
    names = list(columns)
    rows = [",".join(names)]
    for values in zip(*(columns[n] for n in names)):
        rows.append(",".join("" if v is None else repr(v) for v in values))
    return attachment("\n".join(rows) + "\n", "text/csv", "backprop-lens-loss.csv")


@bp.get("/sessions/<session_id>/export.py")
@with_session
def export_python(session):
    """A small script that rebuilds this network with these weights."""
    with session.lock:
        net, config = session.network, dict(session.config)
        script = render_template(
            "export/network.py.j2", filename="backprop_lens_network.py", sizes=net.sizes,
            activation=net.activation, output=net.output, loss=net.loss,
            weights=[repr(W.tolist()) for W in net.weights], biases=[repr(b.tolist()) for b in net.biases],
            query=to_query(config))
    return attachment(script, "text/x-python", "backprop_lens_network.py")


@bp.put("/sessions/<session_id>/params")
@with_session
def put_params(session):
    body = json_body()
    if not isinstance(body.get("weights"), list) or not isinstance(body.get("biases"), list):
        raise SessionError("weights", "Send {\"weights\": [...], \"biases\": [...]} as nested lists")
    session.set_params(body["weights"], body["biases"])
    return jsonify(session.params())


@bp.get("/sessions/<session_id>/data")
@with_session
def data(session):
    return jsonify(session.data_payload())


@bp.get("/sessions/<session_id>/history")
@with_session
def history(session):
    with session.lock:
        return jsonify(session.history.payload())
