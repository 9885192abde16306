"""URLs for the many rows of a page, built once per process instead of once per row.

A list page links each row to four task endpoints and each tag chip to the list: with
url_for that was ~400 route builds for 50 rows, a fifth of the page's time. `row_url` asks
url_for once per endpoint and application root, with a placeholder id, and fills each row's
id in. (Once per request was still a quarter of a toggle's URL work: five route builds for
one row.)
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import lru_cache
from urllib.parse import urlencode, urlsplit

from flask import request, url_for

from app.url_converters import MAX_ID

_PLACEHOLDER = str(MAX_ID)  # a valid id, so the route builds exactly as for a real one

# The application root (SCRIPT_NAME) of the request being served, set by Tasklane.wsgi_app.
# Read through flask.request, a LocalProxy, it cost ~8 K instructions a call: 6% of a list
# page's, which builds ~500 row URLs (make bench-instructions counts, see bench/README.md).
serving_root: ContextVar[str | None] = ContextVar("serving_root", default=None)


def row_url(endpoint: str, task_id: int | None = None) -> str:
    """url_for(endpoint) or url_for(endpoint, task_id=task_id), the same string, cheaper."""
    root = serving_root.get()
    if root is None:  # a request context made outside wsgi_app: a test, the shell
        root = request.root_path
    parts = _url_parts(root, endpoint, task_id is not None)
    if task_id is None:
        return parts[0]
    return f"{parts[0]}{int(task_id)}{parts[1]}"


# Keyed by the application root (SCRIPT_NAME), the one thing a request changes in a path
# that url_for builds; the server sets it, so the cache stays small. (Keys from
# serving_root and from request.root_path may spell one root differently: both are right.)
@lru_cache(maxsize=256)
def _url_parts(_root_path: str, endpoint: str, with_id: bool) -> tuple[str, ...]:
    if not with_id:
        return (url_for(endpoint),)
    head, sep, tail = url_for(endpoint, task_id=MAX_ID).partition(_PLACEHOLDER)
    if not sep:
        raise ValueError(f"{endpoint} does not put the id in its path")
    return (head, tail)


@lru_cache(maxsize=4096)
def _tag_query(name: str) -> str:
    return urlencode({"tag": name})


def tag_url(name: str) -> str:
    """The list filtered by one tag: what every tag chip links to (three or so per row)."""
    return f"{row_url('tasks.index')}?{_tag_query(name)}"


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (open-redirect guard)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
