"""The page and its htmx endpoints.

Each control posts only itself (its name and value; the session id is inherited from
the page) and the server applies exactly that field. The reply re-renders, as
out-of-band swaps, only the fields that need it: the control with its error, or with
the value the server adjusted, a control that was in error before, and any field that
followed (the output follows the data set). So one invalid field blocks nothing else.
The new configuration goes to the address bar: the URL is always a shareable link."""

import json
import secrets

from flask import Blueprint, current_app, make_response, render_template, request

from app.data import FEATURE_LABELS, DatasetError
from app.training import FIELDS, ConfigError, Session, to_query
from app.training.config import BY_NAME, LEARNING_RATES, PLANE_ONLY, SEED_MAX, applies, from_query, structural_change

from .data_views import upload_options
from .helpers import column, error_response, replace_url, with_form_session
from .preview import diagram_svg, numbers

bp = Blueprint("pages", __name__)


@bp.app_context_processor
def template_globals():
    return {"FIELDS": FIELDS, "BY_NAME": BY_NAME, "FEATURE_LABELS": FEATURE_LABELS,
            "LEARNING_RATES": LEARNING_RATES, "applies": applies}


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/")
def index():
    """A page load holds no session. The first frame rides in the page, drawn from a
    preview built from the link and thrown away; the page's script then creates its own
    session from the same configuration (seed included, so both are the same network
    on the same data) when it first talks to the API."""
    notice = None
    limits = current_app.config["LIMITS"]
    try:
        preview = Session("preview", from_query(request.args), limits)
    except (ConfigError, DatasetError) as e:
        if request.args.get("dataset") == "csv":
            notice = ("This link is to a run on an uploaded CSV file, and a link carries settings, "
                      "not files: upload the file again (Data → Your own data) to train on it. "
                      "Showing the defaults until then.")
        else:
            notice = f"The link's settings were not valid ({e}); showing the defaults instead."
        preview = Session("preview", {}, limits)
    frame = preview.events().frame.decode()
    preview.close()
    parsed = json.loads(frame)
    return render_template("index.html", config=preview.config, query=to_query(preview.config),
                           notice=notice, first_frame=frame.replace("</", "<\\/"),
                           diagram=diagram_svg(parsed), numbers=numbers(parsed))


def form_config() -> dict:
    """The settings the control posted, as raw values (validated by the typed config).
    A checkbox group posts its `-present` marker, so that none checked is a value too."""
    raw = {}
    for f in FIELDS:
        if f.kind == "choice_list":
            if f"{f.name}-present" in request.form:
                raw[f.name] = request.form.getlist(f.name)
        elif f.name in request.form:
            raw[f.name] = request.form[f.name]
    return raw


def render_fields(names, config, errors, status=200):
    html = "".join(render_template("partials/field.html", f=BY_NAME[n], value=config.get(n),
                                   error=errors.get(n), oob=True, active=applies(n, config))
                   for n in BY_NAME if n in names)
    return make_response(html, status)


@bp.post("/ui/config")
@with_form_session
def ui_config(session):
    raw = form_config()
    if not raw:
        return error_response(400, "Send one setting, by its name", "config")
    old = dict(session.config)
    try:
        config = session.update_config(raw)
    except ConfigError as e:
        field = e.field if e.field in BY_NAME else next(iter(raw))
        shown = dict(old, **raw)   # what was typed stays in the control, with its message
        return render_fields({field, *raw}, shown, {field: e.message}, 400)
    except DatasetError as e:
        return render_fields({"dataset", *raw}, dict(old, **raw), {"dataset": str(e)}, 400)
    adjusted = {n for n, v in raw.items() if shown_value(v) != shown_value(config[n])}
    followed = {n for n in config if n not in raw and config[n] != old[n]}
    if config["dataset"] != old["dataset"]:
        followed |= set(PLANE_ONLY)   # they grey out or come back
    was_invalid = set(raw) if request.form.get("invalid") else set()
    redrawn = {"layers"} if structural_change(old, config) else set()   # its +/− steppers follow the network
    return replace_url(render_fields(adjusted | followed | was_invalid | redrawn, config, {}), config)


def shown_value(value) -> str:
    """A value as the form shows it, to tell whether the server adjusted what was typed."""
    if isinstance(value, list):
        return ",".join(map(str, value))
    if isinstance(value, float):
        return repr(value)
    try:
        return repr(float(value)) if not isinstance(value, str) or value.strip() else value
    except ValueError:
        return str(value)


@bp.post("/ui/fields")
@with_form_session
def ui_fields(session):
    """Re-render settings from the session's configuration (the page asks after it
    adopted a session, or when the network changed under it): `names`, comma-separated,
    or every field."""
    wanted = {n for n in request.form.get("names", "").split(",") if n in BY_NAME} or set(BY_NAME)
    skip = request.form.get("skip", "")
    config = dict(session.config)
    return replace_url(render_fields(wanted - {skip}, config, {}), config)


@bp.post("/ui/layers")
@with_form_session
def ui_layers(session):
    """+/− a hidden layer, or +/− a unit of one layer."""
    layers = list(session.config["layers"])
    op = request.form.get("op", "")
    index = request.form.get("layer", "")
    index = int(index) if index.isascii() and index.isdecimal() else -1
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
    return replace_url(render_fields(["layers"], config, {}), config)


@bp.post("/ui/upload")
@with_form_session
def ui_upload(session):
    file = request.files.get("file")
    if file is None or not file.filename:
        return render_template("partials/upload.html", error="Choose a CSV file first."), 400
    try:
        summary = session.upload_csv(file.read(), column(request.form.get("target")), **upload_options(request.form))
    except DatasetError as e:
        return render_template("partials/upload.html", error=str(e)), 400
    fields = render_fields(["dataset", "output", "loss", "layers", *PLANE_ONLY], session.config, {})
    response = make_response(render_template("partials/upload.html", summary=summary, name=file.filename,
                                             data=session.data) + fields.get_data(True))
    return replace_url(response, session.config)


@bp.post("/ui/<action>")
@with_form_session
def ui_action(session, action: str):
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
        return replace_url(render_fields(["seed"], config, {}), config)
    else:
        return error_response(404, "Unknown action", "action")
    return "", 204
