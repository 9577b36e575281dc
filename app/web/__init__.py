"""The web layer: pages and htmx partials, the JSON API, the SSE stream, security.
Thin by design: it validates input and calls the session; it never does maths."""

from flask import Flask

from . import api, assets, compare, data_views, exercise, helpers, pages, security, stream


def register(app: Flask) -> None:
    security.install(app)
    helpers.install(app)   # error handlers and body caps, once for the whole app
    assets.install(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(stream.bp)
    app.register_blueprint(compare.bp)
    app.register_blueprint(exercise.bp)
    app.register_blueprint(data_views.bp)
