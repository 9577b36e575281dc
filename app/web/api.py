"""The JSON API (see the README's API reference). Every input is validated by the
session's typed config or its command checks, or here (weights); bad input is a 4xx,
never a 500. Errors map to statuses in one place (`helpers.install`)."""

import secrets

from flask import Blueprint, current_app, jsonify, render_template, request

from app.data import DatasetError
from app.training import SessionError, experiments, to_query
from app.training.config import SEED_MAX
from app.training.frames import encode

from .data_views import input_description, upload_options
from .helpers import (
    NOT_FOUND,
    check_arrays,
    check_weight,
    column,
    error_response,
    json_body,
    query_int,
    store,
    with_session,
)

__all__ = ["bp", "json_body", "store", "with_session"]   # compare.py builds on these

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.post("/sessions")
def create_session():
    session = store().create(json_body(required=False))
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
        return error_response(404, NOT_FOUND, "id")
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
    """A long step stops after a bounded time; then "done" says how many were made."""
    body = json_body(required=False)
    count = body.get("count", 1)
    done = session.step(body.get("unit", "batch"), count)
    summary = session.summary()
    if done is not None and done < count:
        summary["done"] = done
    return jsonify(summary)


@bp.post("/sessions/<session_id>/focus")
@with_session
def focus(session):
    session.set_focus(json_body().get("index"))
    return jsonify(session.summary())


@bp.post("/sessions/<session_id>/weight")
@with_session
def weight(session):
    body = json_body()
    value = check_weight("value", body.get("value"))
    session.set_weight(body.get("layer"), body.get("to"), body.get("from"), value)
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


@bp.get("/sessions/<session_id>/paths")
@with_session
def paths(session):
    """?layer=&to=&from=(&step=, a moment of the timeline): the chain rule's paths for one
    weight (the "why not directly" card)."""
    step = query_int("step") if "step" in request.args else None
    return jsonify(experiments.paths(session, *(query_int(name) for name in ("layer", "to", "from")), step=step))


@bp.post("/sessions/<session_id>/upload")
@with_session
def upload(session):
    """A CSV file: multipart field `file` (and optional `target`), or the raw body
    with `?target=`. The target is a column name or a 0-based index; header,
    problem, standardize and drop_empty are passed to the loader (see app.data)."""
    file = request.files.get("file")
    data = file.read() if file is not None else request.get_data()
    target = column(request.form.get("target") or request.args.get("target"))
    try:
        summary = session.upload_csv(data, target, **upload_options(request.values))
    except DatasetError as e:
        return error_response(400, str(e), "file")
    return jsonify({"upload": summary, **session.summary()})


@bp.get("/sessions/<session_id>/timeline")
@with_session
def timeline(session):
    with session.lock:
        return jsonify({"steps": session.history.timeline(), "step": session.moment().step})


@bp.get("/sessions/<session_id>/timeline/<int:index>")
@with_session
def timeline_frame(session, index: int):
    """The frame of one moment in the history, for the scrubber (changes nothing)."""
    return current_app.response_class(session.timeline_frame(index), mimetype="application/json")


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
        with session.lock:
            body = {**session.params(), **input_description(session)}
        return attachment(encode(body), "application/json", "backprop-lens-weights.json")
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
            query=to_query(config), data=session.data,
            features=list(config["features"]) if session.data.is_2d else None)
    return attachment(script, "text/x-python", "backprop_lens_network.py")


@bp.put("/sessions/<session_id>/params")
@with_session
def put_params(session):
    body = json_body()
    if not isinstance(body.get("weights"), list) or not isinstance(body.get("biases"), list):
        raise SessionError("weights", "Send {\"weights\": [...], \"biases\": [...]} as nested lists")
    check_arrays("weights", body["weights"], 3)
    check_arrays("biases", body["biases"], 2)
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
