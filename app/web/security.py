"""Security headers on every response, and an Origin check on state-changing requests."""

from urllib.parse import urlsplit

from flask import Flask, request

from .errors import error_response

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _origin_allowed(app: Flask) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:          # same-origin navigation, curl, scripts: no browser to forge
        return True
    if origin in app.config["TRUSTED_ORIGINS"]:
        return True
    host = urlsplit(origin).netloc
    return host == request.host


def install(app: Flask) -> None:
    @app.before_request
    def check_origin():
        if request.method in UNSAFE and not _origin_allowed(app):
            return error_response(403, "Cross-origin request refused", "origin")
        return None

    @app.after_request
    def headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h["X-Content-Type-Options"] = "nosniff"
        h["X-Frame-Options"] = "DENY"
        h["Referrer-Policy"] = "no-referrer"
        return response
