"""Fingerprinted static files: URLs carry a hash of the file's content, and a request naming
the current hash is cached by browsers for a year.

`static_url("css/app.css")` gives `/static/css/app.css?v=<first 12 hex of its SHA-256>`.
Hashes are computed once per file (at startup for the files present then, on first use for
the rest; again on each use in debug mode, where files change under the server). A changed
file gets a new URL, so "immutable" is safe; a request without the current hash (an old page,
a hand-typed URL) is still served, but must be revalidated.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, current_app, request, url_for

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


class Fingerprints:
    def __init__(self, folder: str | None, debug: bool):
        self.folder = Path(folder).resolve() if folder else None
        self.debug = debug
        self.hashes: dict[str, str] = {}
        if self.folder and self.folder.is_dir():
            for path in self.folder.rglob("*"):
                if path.is_file():
                    self.hashes[path.relative_to(self.folder).as_posix()] = fingerprint(path)

    def get(self, filename: str) -> str | None:
        if self.debug or filename not in self.hashes:
            path = self.folder / filename if self.folder else None
            if path is None or not path.is_file() or self.folder not in path.resolve().parents:
                return None
            self.hashes[filename] = fingerprint(path)
        return self.hashes[filename]


def static_url(filename: str) -> str:
    """The URL of a static file with its content hash (the one way templates link to them)."""
    version = current_app.extensions["tasklane_static"].get(filename)
    if version is None:
        return url_for("static", filename=filename)
    return url_for("static", filename=filename, v=version)


def _cache_headers(response):
    if request.endpoint != "static" or response.status_code not in (200, 304):
        return response
    filename = (request.view_args or {}).get("filename", "")
    current = current_app.extensions["tasklane_static"].get(filename)
    fresh = current is not None and request.args.get("v") == current
    response.headers["Cache-Control"] = IMMUTABLE if fresh else REVALIDATE
    if fresh:
        response.expires = None
    return response


def init_app(app: Flask) -> None:
    app.extensions["tasklane_static"] = Fingerprints(app.static_folder, app.debug)
    app.jinja_env.globals["static_url"] = static_url
    app.after_request(_cache_headers)
