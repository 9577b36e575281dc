"""Backprop Lens: watch backpropagation happen.

`create_app()` builds the Flask application; the engine (`app.engine`) is importable
on its own for scripts and notebooks.
"""

import os
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """The application factory: settings from BPL_* environment variables, then `config`."""
    from app.training import Limits, SessionStore
    from app.web import register

    app = Flask(__name__, static_folder=None, template_folder=str(ROOT / "templates"))
    app.config.update(
        LIMITS=Limits.from_env(),
        TRUSTED_ORIGINS=[o for o in os.environ.get("BPL_TRUSTED_ORIGINS", "").split(",") if o],
        SEND_FILE_MAX_AGE_DEFAULT=0,
        STREAM_HEARTBEAT=15.0,
        STREAM_MAX_SECONDS=float(os.environ.get("BPL_STREAM_MAX_SECONDS", "3600")),
    )
    app.config.update(config or {})
    app.config["MAX_CONTENT_LENGTH"] = app.config["LIMITS"].max_upload_bytes
    app.extensions["sessions"] = SessionStore(app.config["LIMITS"])
    register(app)
    return app
