"""The JSON views of a session the API answers with: its summary, its data points and
what its uploaded file holds. Read-only: they change nothing."""


def upload_summary(session) -> dict | None:
    if session.upload is None:
        return None
    d = session.data if session.config["dataset"] == "csv" else \
        session.upload.load(session.config["train_ratio"], session.config["seed"], session.limits.max_points)
    return {"rows": len(d.X_train) + len(d.X_test), "inputs": list(d.input_names),
            "target": d.target_name, "problem": d.problem, "classes": d.classes,
            "columns": [*d.input_names, d.target_name],
            **{k: v for k, v in (("notes", getattr(d, "notes", None)),
                                 ("class_names", getattr(d, "class_names", None))) if v is not None}}


def summary(session) -> dict:
    with session.lock:
        m = session.moment()
        return {"id": session.id, "config": dict(session.config), "status": session.status,
                "message": session.message, "step": m.step, "epoch": m.epoch,
                "sizes": list(session.problem.sizes), "parameters": session.network.n_params,
                "focus": session.focus, "train_size": len(session.X_train),
                "test_size": len(session.X_test), **session.stats()}


def data_payload(session) -> dict:
    """The raw points (before the feature map) for the data chart."""
    with session.lock:
        d = session.data
        points = lambda X, y: {"x": X[:, :2].tolist() if d.extent else [],  # noqa: E731
                               "y": y.tolist()}
        return {"dataset": d.name, "problem": d.problem, "classes": d.classes,
                "extent": list(d.extent) if d.extent else None,
                "train": points(d.X_train, d.y_train), "test": points(d.X_test, d.y_test),
                "input_names": list(d.input_names), "structure": session.structure,
                "class_names": list(getattr(d, "class_names", None) or ())}
