"""Backprop Lens: watch backpropagation happen.

`create_app()` builds the Flask application; the engine (`app.engine`) is importable
on its own for scripts and notebooks.
"""

import os
from pathlib import Path

# Our matrices are small and many sessions train at once: one BLAS thread per call is
# faster than two fighting each other (measured: 25 µs vs up to milliseconds under load).
# Set before NumPy is first imported; a caller's own setting wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None):
    """The application factory: settings from BPL_* environment variables, then `config`.
    Flask is imported here, not at the top, so `import app.engine` needs no web stack."""
    from flask import Flask

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
    app.extensions["sessions"] = SessionStore.for_app(app)   # BPL_STORE: durable sessions
    register(app)
    return app
