"""Views of the session's data beyond the 2-D plane: a PCA projection of the inputs with
true and predicted classes, per-class accuracy and the confusion matrix (GET
/api/sessions/<id>/projection); and what the upload form needs to state its limits and
pass its options (header, problem, standardize, drop_empty) through to the loader."""

import numpy as np
from flask import Blueprint, current_app, jsonify
from werkzeug.datastructures import MultiDict

from app.data import class_accuracy, confusion_matrix, pca_2d
from app.data.csvdata import MAX_INPUTS

from .helpers import with_session

bp = Blueprint("data_views", __name__, url_prefix="/api")

UPLOAD_OPTIONS = ("header", "problem", "standardize", "drop_empty")


@bp.app_context_processor
def upload_limits() -> dict:
    """The limits the upload form states before anyone picks a file."""
    limits = current_app.config["LIMITS"]
    return {"upload_limits": {"rows": limits.max_points, "columns": MAX_INPUTS,
                              "kilobytes": limits.max_upload_bytes // 1000}}


def upload_options(values: MultiDict) -> dict:
    """The loader's options present in a form or query string, as sent (the loader
    checks them). A form's unticked checkbox sends nothing, so the form marks each
    checkbox it has with `<name>-present`."""
    options = {name: values.get(name) for name in UPLOAD_OPTIONS if values.get(name) is not None}
    for name in ("standardize", "drop_empty"):
        if name not in options and f"{name}-present" in values:
            options[name] = False
    return options


def input_description(session) -> dict:
    """What a weights export needs to reproduce predictions on raw rows: the raw input
    columns, the feature map (2-D sets), whether the inputs are standardised and with
    which constants, and the class names."""
    d = session.data
    return {"inputs": {
        "names": list(d.input_names),
        "features": list(session.config["features"]) if d.is_2d else None,
        "standardized": d.scale is not None,
        "mean": None if d.scale is None else d.scale[0].tolist(),
        "std": None if d.scale is None else d.scale[1].tolist(),
        "problem": d.problem, "class_names": list(d.class_names),
    }}


@bp.get("/sessions/<session_id>/projection")
@with_session
def projection(session):
    """The inputs the network sees, projected onto the training set's first two principal
    components, with each example's true and predicted class (classification) or target
    and prediction (regression), and the test set's confusion matrix and per-class
    accuracy. `plane` is true when the data has two raw inputs, so the decision-boundary
    chart shows it and this view is not needed."""
    with session.lock:
        d, net = session.data, session.network
        X_train, X_test = session.X_train, session.X_test
        h_train, h_test = net.predict(X_train), net.predict(X_test)
        step = session.moment().step
    points_train, explained = pca_2d(X_train)
    points_test, _ = pca_2d(X_test, fit=X_train)
    classification = d.problem == "classification"
    guess = _classes if classification else (lambda h: h[:, 0])
    reply = {
        "dataset": d.name, "problem": d.problem, "step": step,
        "plane": d.extent is not None and d.X_train.shape[1] == 2,
        "input_names": list(d.input_names), "target_name": d.target_name,
        "class_names": list(d.class_names), "explained": explained.tolist(),
        "scale": None if d.scale is None else {"mean": d.scale[0].tolist(), "std": d.scale[1].tolist()},
        "notes": list(d.notes),
        "train": _points(points_train, d.y_train, guess(h_train)),
        "test": _points(points_test, d.y_test, guess(h_test)),
        "confusion": None, "per_class": None,
    }
    if classification:
        matrix = confusion_matrix(d.y_test, guess(h_test), d.classes)
        accuracy = class_accuracy(matrix)
        reply["confusion"] = {"labels": list(d.class_names), "matrix": matrix.tolist()}
        reply["per_class"] = [
            {"name": name, "count": int(matrix[k].sum()), "right": int(matrix[k, k]),
             "accuracy": None if np.isnan(accuracy[k]) else float(accuracy[k])}
            for k, name in enumerate(d.class_names)
        ]
    return jsonify(reply)


def _classes(h: np.ndarray) -> np.ndarray:
    """The predicted class of each row: threshold 0.5 for one output, else the largest."""
    return (h[:, 0] >= 0.5).astype(np.int64) if h.shape[1] == 1 else h.argmax(axis=1)


def _points(points: np.ndarray, y: np.ndarray, predicted: np.ndarray) -> dict:
    """Coordinates, targets and predictions; a non-finite prediction (a diverged run)
    is null, never NaN in JSON."""
    shown = [v if np.isfinite(v) else None for v in predicted.tolist()]
    return {"x": np.round(points, 4).tolist(), "y": y.tolist(), "predicted": shown}
