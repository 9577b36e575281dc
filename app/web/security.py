"""Security headers on every response; state-changing requests only from an allowed
origin (scheme, host and port, never taken from the request's own Host header) and
never from a cross-site page (Sec-Fetch-Site)."""

import os
from urllib.parse import urlsplit

from flask import Flask, request

from .helpers import error_response

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
LOCAL_HOSTS = ("127.0.0.1", "localhost")


def origin_of(entry: str, scheme: str) -> str:
    """`host[:port]` or `scheme://host[:port]` → a normalised origin."""
    entry = entry.strip().rstrip("/").lower()
    return entry if "://" in entry else f"{scheme}://{entry}"


def allowed_origins(app: Flask) -> set[str]:
    """BPL_ALLOWED_HOSTS and BPL_TRUSTED_ORIGINS, plus this server on 127.0.0.1 and
    localhost at the port it listens on."""
    port = request.environ.get("SERVER_PORT", "")
    scheme = request.scheme
    origins = {f"{scheme}://{host}:{port}" for host in LOCAL_HOSTS}
    if (scheme, port) in (("http", "80"), ("https", "443")):
        origins |= {f"{scheme}://{host}" for host in LOCAL_HOSTS}
    for entry in app.config["ALLOWED_HOSTS"] + app.config["TRUSTED_ORIGINS"]:
        origins.add(origin_of(entry, scheme))
    return origins


def refusal(app: Flask) -> str | None:
    """Why a state-changing request is refused, or None."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return "Cross-site request refused"
    origin = request.headers.get("Origin")
    if origin is None:          # curl, scripts, same-origin navigation: no browser to forge
        return None
    parts = urlsplit(origin.lower())
    if f"{parts.scheme}://{parts.netloc}" in allowed_origins(app):
        return None
    return f"Cross-origin request refused: {origin[:80]} is not an allowed origin (BPL_ALLOWED_HOSTS)"


def install(app: Flask) -> None:
    app.config.setdefault("ALLOWED_HOSTS", [h.strip() for h in os.environ.get("BPL_ALLOWED_HOSTS", "").split(",")
                                            if h.strip()])

    @app.before_request
    def check_origin():
        if request.method in UNSAFE:
            why = refusal(app)
            if why:
                return error_response(403, why, "origin")
        return None

    @app.after_request
    def headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h["X-Content-Type-Options"] = "nosniff"
        h["X-Frame-Options"] = "DENY"
        h["Referrer-Policy"] = "no-referrer"
        # The page and the API answer with live state: never cache them (static files
        # set their own caching).
        h.setdefault("Cache-Control", "no-store")
        return response
