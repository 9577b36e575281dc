"""Static files, served fast: compressed once (gzip) and kept in memory, with a content
hash in every URL the templates write (`asset_url`) and in every relative ES-module
import inside our JavaScript (rewritten as it is served), so all of them can be cached
for a year; anything else revalidates cheaply with an ETag."""

import gzip
import hashlib
import mimetypes
import posixpath
import re
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from flask import Blueprint, Response, abort, current_app, g, request, url_for
from markupsafe import Markup

COMPRESSIBLE = {".js", ".css", ".svg", ".json", ".html", ".txt", ".map"}
# `from "./x.js"` / `import "../y.js"` / `import("./z.js")` in our modules (vendored
# files are left alone)
MODULE_IMPORT = re.compile(rb"""((?:from|import)\s*\(?\s*["'])(\.{1,2}/[^"'?]+\.js)(["'])""")
YEAR = 365 * 24 * 3600

bp = Blueprint("assets", __name__)


@dataclass(frozen=True)
class Asset:
    mtime: float
    body: bytes
    gzipped: bytes | None
    version: str
    mimetype: str
    imports: tuple = ()    # (filename, version) of each module this one imports


class AssetStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._cache: dict[str, Asset] = {}
        self._lock = threading.Lock()

    def get(self, filename: str, seen: dict | None = None) -> Asset | None:
        """The file, read again if it (or a module it imports) changed on disk. `seen`: the
        files already checked for this request (a page names ~30 modules, which import
        each other: checked once each, not once per path to them)."""
        if seen is not None and filename in seen:
            return seen[filename]
        asset = self._get(filename, seen)
        if seen is not None:
            seen[filename] = asset
        return asset

    def _get(self, filename: str, seen: dict | None) -> Asset | None:
        if "\x00" in filename:   # no file has one; the OS would refuse the path
            return None
        path = (self.root / filename).resolve()
        if self.root not in path.parents:
            return None
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        asset = self._cache.get(filename)
        if asset is not None and asset.mtime == mtime and all(   # edited files are read again
                (dep := self.get(name, seen)) is not None and dep.version == version
                for name, version in asset.imports):
            return asset
        if not path.is_file():
            return None
        body, imports = path.read_bytes(), []
        if path.suffix == ".js" and not filename.startswith("vendor/"):
            body = self._version_imports(filename, body, imports, seen)
        gzipped = gzip.compress(body, 9, mtime=0) if path.suffix in COMPRESSIBLE else None
        mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if mimetype.startswith("text/") or path.suffix == ".js":
            mimetype = ("text/javascript" if path.suffix == ".js" else mimetype) + "; charset=utf-8"
        asset = Asset(mtime, body, gzipped, hashlib.sha256(body).hexdigest()[:12], mimetype, tuple(imports))
        with self._lock:
            self._cache[filename] = asset
        return asset


    def _version_imports(self, filename: str, body: bytes, imports: list, seen: dict | None) -> bytes:
        """Point every relative import at its content-hashed URL. The importer's own hash
        then covers its imports', so a change anywhere reaches the page."""
        base = PurePosixPath(filename).parent

        def versioned(match: re.Match) -> bytes:
            target = posixpath.normpath(str(base / match.group(2).decode()))
            asset = self.get(target, seen)
            if asset is None:
                return match.group(0)
            imports.append((target, asset.version))
            return match.group(1) + match.group(2) + b"?v=" + asset.version.encode() + match.group(3)

        return MODULE_IMPORT.sub(versioned, body)


    def module_graph(self, filename: str, checked: dict | None = None) -> list[str]:
        """Every module `filename` imports, directly or not (for <link rel=modulepreload>)."""
        seen: list[str] = []
        todo = [filename]
        while todo:
            asset = self.get(todo.pop(), checked)
            for name, _ in asset.imports if asset else ():
                if name not in seen:
                    seen.append(name)
                    todo.append(name)
        return seen


def store() -> AssetStore:
    return current_app.extensions["assets"]


def checked() -> dict:
    """The files this request already checked on disk (see AssetStore.get)."""
    return g.setdefault("assets_checked", {})


def asset_url(filename: str) -> str:
    asset = store().get(filename, checked())
    return url_for("assets.static", filename=filename, v=asset.version if asset else None)


@bp.get("/static/<path:filename>")
def static(filename: str):
    asset = store().get(filename, checked())
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


def inline_css(filename: str) -> Markup:
    """A stylesheet's text for a <style> element in the page: the first paint then waits
    for no request but the page's own (our CSS has no url() or @import to resolve)."""
    asset = store().get(filename, checked())
    if asset is None:
        raise FileNotFoundError(filename)
    return Markup(asset.body.decode().replace("</", "<\\/"))


def module_preloads(filename: str) -> list[str]:
    return [asset_url(name) for name in store().module_graph(filename, checked())]


COMPRESSED_TYPES = ("text/html", "application/json", "text/csv", "text/x-python")


def compress_response(response):
    """Gzip dynamic text responses (the page, /data, /history…) when the client accepts
    it; static files are compressed once by the store, and streams never."""
    if (response.status_code != 200 or response.direct_passthrough or response.is_streamed
            or "Content-Encoding" in response.headers
            or response.mimetype not in COMPRESSED_TYPES
            or "gzip" not in request.headers.get("Accept-Encoding", "")):
        return response
    body = response.get_data()
    if len(body) < 1024:
        return response
    response.set_data(gzip.compress(body, 6))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


def install(app) -> None:
    app.extensions["assets"] = AssetStore(Path(app.root_path).parent / "static")
    app.add_template_global(asset_url)
    app.add_template_global(module_preloads)
    app.add_template_global(inline_css)
    app.after_request(compress_response)
    app.register_blueprint(bp)
