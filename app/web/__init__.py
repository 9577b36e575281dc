"""The web layer: pages and htmx partials, the JSON API, the SSE stream, security.
Thin by design: it validates input and calls the session; it never does maths."""

from flask import Flask

from . import api, assets, compare, exercise, pages, security, stream


def register(app: Flask) -> None:
    security.install(app)
    assets.install(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(stream.bp)
    app.register_blueprint(compare.bp)
    app.register_blueprint(exercise.bp)
