"""Static files, served fast: compressed once (gzip) and kept in memory, with a content
hash in every URL the templates write (`asset_url`) so those can be cached for a year;
unversioned URLs (ES-module imports) revalidate cheaply with an ETag."""

import gzip
import hashlib
import mimetypes
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, request, url_for

COMPRESSIBLE = {".js", ".css", ".svg", ".json", ".html", ".txt", ".map"}
YEAR = 365 * 24 * 3600

bp = Blueprint("assets", __name__)


@dataclass(frozen=True)
class Asset:
    mtime: float
    body: bytes
    gzipped: bytes | None
    version: str
    mimetype: str


class AssetStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._cache: dict[str, Asset] = {}
        self._lock = threading.Lock()

    def get(self, filename: str) -> Asset | None:
        path = (self.root / filename).resolve()
        if self.root not in path.parents:
            return None
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        asset = self._cache.get(filename)
        if asset is not None and asset.mtime == mtime:   # an edited file is read again
            return asset
        if not path.is_file():
            return None
        body = path.read_bytes()
        gzipped = gzip.compress(body, 9, mtime=0) if path.suffix in COMPRESSIBLE else None
        mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if mimetype.startswith("text/") or path.suffix == ".js":
            mimetype = ("text/javascript" if path.suffix == ".js" else mimetype) + "; charset=utf-8"
        asset = Asset(mtime, body, gzipped, hashlib.sha256(body).hexdigest()[:12], mimetype)
        with self._lock:
            self._cache[filename] = asset
        return asset


def store() -> AssetStore:
    return current_app.extensions["assets"]


def asset_url(filename: str) -> str:
    asset = store().get(filename)
    return url_for("assets.static", filename=filename, v=asset.version if asset else None)


@bp.get("/static/<path:filename>")
def static(filename: str):
    asset = store().get(filename)
    if asset is None:
        abort(404)
    etag = f'"{asset.version}"'
    if request.headers.get("If-None-Match") == etag:
        response = Response(status=304)
    else:
        use_gzip = asset.gzipped is not None and "gzip" in request.headers.get("Accept-Encoding", "")
        response = Response(asset.gzipped if use_gzip else asset.body, mimetype=asset.mimetype)
        if use_gzip:
            response.headers["Content-Encoding"] = "gzip"
    response.headers["ETag"] = etag
    response.headers["Vary"] = "Accept-Encoding"
    versioned = request.args.get("v") == asset.version
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable" if versioned else "no-cache"
    return response


def install(app) -> None:
    app.extensions["assets"] = AssetStore(Path(app.root_path).parent / "static")
    app.add_template_global(asset_url)
    app.register_blueprint(bp)
