"""The page and its htmx endpoints. Controls post the whole settings form on change;
the reply re-renders only the fields that need it (an error next to the control, or
a value the server adjusted) as out-of-band swaps, and puts the new configuration in
the address bar so the URL is always a shareable link."""

import secrets
from functools import wraps

from flask import Blueprint, abort, make_response, render_template, request

from app.data import FEATURE_LABELS, DatasetError
from app.training import FIELDS, ConfigError, SessionError, TooManySessions, to_query
from app.training.config import BY_NAME, LEARNING_RATES, PLANE_ONLY, SEED_MAX, applies, from_query
from app.training.frames import encoded_frame

from .api import store
from .errors import error_response

bp = Blueprint("pages", __name__)


@bp.app_context_processor
def template_globals():
    return {"FIELDS": FIELDS, "BY_NAME": BY_NAME, "FEATURE_LABELS": FEATURE_LABELS,
            "LEARNING_RATES": LEARNING_RATES, "applies": applies}


@bp.get("/healthz")
def healthz():
    return {"status": "ok", "sessions": len(store())}


@bp.get("/")
def index():
    notice = None
    raw = from_query(request.args)
    try:
        session = store().create(raw)
    except (ConfigError, DatasetError) as e:
        notice = f"The link's settings were not valid ({e}); showing the defaults instead."
        session = store().create({})
    except TooManySessions as e:
        return render_template("busy.html", message=str(e)), 429
    with session.lock:   # the first frame rides in the page: the diagram draws before the stream opens
        first_frame = encoded_frame(session).frame.decode().replace("</", "<\\/")
    return render_template("index.html", session=session.summary(), config=session.config,
                           query=to_query(session.config), notice=notice, errors={},
                           first_frame=first_frame)


def form_config() -> dict:
    """The submitted settings form as raw values (validated by the typed config)."""
    raw = {}
    for f in FIELDS:
        if f.kind == "choice_list":
            if f"{f.name}-present" in request.form:
                raw[f.name] = request.form.getlist(f.name)
        elif f.name in request.form:
            raw[f.name] = request.form[f.name]
    return raw


def ui_session(view):
    @wraps(view)
    def wrapper(**kwargs):
        session = store().get(request.form.get("session", ""))
        if session is None:
            return error_response(404, "This session has expired; reload the page", "session")
        return view(session, **kwargs)
    return wrapper


def render_fields(names, config, errors, status=200):
    html = "".join(render_template("partials/field.html", f=BY_NAME[n], value=config.get(n),
                                   error=errors.get(n), oob=True, active=applies(n, config)) for n in names)
    response = make_response(html, status)
    return response


@bp.post("/ui/config")
@ui_session
def ui_config(session):
    """The form always carries every field; only those that differ from the session's
    configuration are applied, so an untouched field (say the output) can still follow
    a change of another (the data set)."""
    old = dict(session.config)
    raw = {n: v for n, v in form_config().items() if _shown(v) != _shown(old[n])}
    old_errors = [n for n in request.form.getlist("invalid") if n in BY_NAME]
    try:
        config = session.update_config(raw)
    except ConfigError as e:
        if e.field not in BY_NAME:
            abort(400)
        shown = dict(session.config, **{e.field: raw.get(e.field, session.config[e.field])})
        return render_fields({e.field, *old_errors}, shown, {e.field: e.message}, 400)
    except DatasetError as e:
        return render_fields({"dataset", *old_errors}, session.config, {"dataset": str(e)}, 400)
    adjusted = {n for n, v in raw.items() if _shown(v) != _shown(config[n])}
    followed = {n for n in config if n not in raw and config[n] != old[n]}
    if config["dataset"] != old["dataset"]:
        followed |= set(PLANE_ONLY)   # they grey out or come back
    response = render_fields(adjusted | followed | set(old_errors), config, {})
    response.headers["HX-Replace-Url"] = "/?" + to_query(config)
    return response


def _shown(value) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value))
    if isinstance(value, float):
        return repr(value)
    try:
        return repr(float(value)) if not isinstance(value, str) or value.strip() else value
    except ValueError:
        return str(value)


@bp.post("/ui/layers")
@ui_session
def ui_layers(session):
    """+/− a hidden layer, or +/− a unit of one layer."""
    layers = list(session.config["layers"])
    op = request.form.get("op", "")
    try:
        index = int(request.form.get("layer", "-1"))
    except ValueError:
        index = -1
    if op == "add-layer":
        layers.append(layers[-1] if layers else 2)
    elif op == "remove-layer" and layers:
        layers.pop()
    elif op in ("add-unit", "remove-unit") and 0 <= index < len(layers):
        layers[index] += 1 if op == "add-unit" else -1
    else:
        return error_response(400, "Unknown layer operation", "layers")
    try:
        config = session.update_config({"layers": layers})
    except ConfigError as e:
        return render_fields(["layers"], dict(session.config), {"layers": e.message}, 400)
    response = render_fields(["layers"], config, {})
    response.headers["HX-Replace-Url"] = "/?" + to_query(config)
    return response


@bp.post("/ui/upload")
@ui_session
def ui_upload(session):
    file = request.files.get("file")
    if file is None or not file.filename:
        return render_template("partials/upload.html", error="Choose a CSV file first."), 400
    target = request.form.get("target", "").strip() or None
    if target is not None and target.isdigit():
        target = int(target)
    try:
        summary = session.upload_csv(file.read(), target)
    except DatasetError as e:
        return render_template("partials/upload.html", error=str(e)), 400
    fields = render_fields(["dataset", "output", "loss", *PLANE_ONLY], session.config, {})
    response = make_response(render_template("partials/upload.html", summary=summary, name=file.filename)
                             + fields.get_data(True))
    response.headers["HX-Replace-Url"] = "/?" + to_query(session.config)
    return response


@bp.post("/ui/<action>")
@ui_session
def ui_action(session, action: str):
    try:
        if action == "run":
            session.run()
        elif action == "pause":
            session.pause()
        elif action == "toggle":
            session.pause() if session.status == "running" else session.run()
        elif action == "reset":
            session.reset()
        elif action == "step":
            session.step(request.form.get("unit", "batch"), 1)
        elif action == "regenerate":
            config = session.update_config({"seed": secrets.randbelow(SEED_MAX)})
            response = render_fields(["seed"], config, {})
            response.headers["HX-Replace-Url"] = "/?" + to_query(config)
            return response
        else:
            return error_response(404, "Unknown action", "action")
    except SessionError as e:
        return render_template("partials/notice.html", message=e.message), 409
    return "", 204
