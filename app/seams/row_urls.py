"""Seam: the URLs of a page's many rows, built once per process instead of once per row.

Saves 34.6% of a list page's instructions (57.5 M a page with it, 77.5 M with plain
`url_for` for every link) and 6.6% of a toggle's (5.79 M, 6.17 M); of that, the
`serving_root` ContextVar alone saves 7.1% of the page (61.6 M when the root is read through
`flask.request` instead) and 0.6% of the toggle (`make bench-instructions`, PostgreSQL,
2026-12-01).

A list page links each row to four task endpoints and each tag chip to the list (and, in the
views across projects, each row to its project): with url_for that was ~400 route builds for
50 rows, a fifth of the page's time. `row_url` asks
url_for once per endpoint and application root, with a placeholder id, and fills each row's
id in.

Relies on (Flask 3.1, Werkzeug 3.1):
- Werkzeug's MapAdapter.build: a route's path is a function of the endpoint, its arguments
  and the application root (SCRIPT_NAME) only, and an `<int:task_id>` argument appears in
  the path as its decimal digits (`<int:project_id>` alike); `Map.iter_rules(endpoint)`
  names a route's arguments. Tasklane's routes have no host or subdomain matching.
- Flask's `app.wsgi_app` attribute is what `app.__call__` calls (the documented middleware
  hook): the `ServingRoot` middleware notes SCRIPT_NAME there. Read through `flask.request`,
  a LocalProxy, the root cost ~8 K instructions a call, and a list page builds ~500 URLs.
tests/test_seams.py checks that row_url equals url_for and that the middleware is in place.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import lru_cache
from urllib.parse import urlencode

from flask import Flask, current_app, request, url_for

from app.url_converters import MAX_ID

_PLACEHOLDER = str(MAX_ID)  # a valid id, so the route builds exactly as for a real one

# The application root (SCRIPT_NAME) of the request being served, set by ServingRoot.
serving_root: ContextVar[str | None] = ContextVar("serving_root", default=None)


class ServingRoot:
    """WSGI middleware: notes the request's application root for row_url."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        token = serving_root.set(environ.get("SCRIPT_NAME", ""))
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            serving_root.reset(token)


def install(app: Flask) -> None:
    app.wsgi_app = ServingRoot(app.wsgi_app)


def row_url(endpoint: str, row_id: int | None = None) -> str:
    """url_for(endpoint), or url_for(endpoint, <its id argument>=row_id) for a route with one
    id in its path (task_id, project_id): the same string, cheaper."""
    root = serving_root.get()
    if root is None:  # a request context made outside wsgi_app: a test, the shell
        root = request.root_path
    parts = _url_parts(root, endpoint, row_id is not None)
    if row_id is None:
        return parts[0]
    return f"{parts[0]}{int(row_id)}{parts[1]}"


# Keyed by the application root (SCRIPT_NAME), the one thing a request changes in a path
# that url_for builds; the server sets it, so the cache stays small. (Keys from
# serving_root and from request.root_path may spell one root differently: both are right.)
@lru_cache(maxsize=256)
def _url_parts(_root_path: str, endpoint: str, with_id: bool) -> tuple[str, ...]:
    if not with_id:
        return (url_for(endpoint),)
    # The route's one id (task_id, project_id), whichever of its rules (methods) builds it.
    [argument] = {
        name for rule in current_app.url_map.iter_rules(endpoint) for name in rule.arguments
    }
    head, sep, tail = url_for(endpoint, **{argument: MAX_ID}).partition(_PLACEHOLDER)
    if not sep:
        raise ValueError(f"{endpoint} does not put the id in its path")
    return (head, tail)


@lru_cache(maxsize=4096)
def _tag_query(name: str) -> str:
    return urlencode({"tag": name})


def tag_url(name: str) -> str:
    """The list filtered by one tag: what every tag chip links to (three or so per row)."""
    return f"{row_url('tasks.index')}?{_tag_query(name)}"
