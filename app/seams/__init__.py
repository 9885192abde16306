"""Framework seams: every place Tasklane reaches past Flask's, Werkzeug's, flask-limiter's,
flask-wtf's, psycopg's or Huey's public behaviour, for speed or for reliability.

Each module says what it saves (measured) or protects, and exactly which private name or
behaviour of which library version it relies on; tests/test_seams.py has an upgrade canary
and a behaviour test for each. When a library upgrade breaks a canary, fix the seam or drop
it (fall back to the plain library behaviour and re-measure).

Speed-ups, kept because each saves at least 2% of a toggle or a list page (instructions per
request, `make bench-instructions`, PostgreSQL, 2026-12-01; what the request costs with the
seam replaced by plain library use):

| seam (module) | toggle without it | list page without it |
|---|---|---|
| row_urls: one route build per process (with serving_root) | +6.6% | +34.6% |
| row_urls: serving_root, the root without flask.request | +0.6% | +7.1% |
| limiter: decorated limits only | +6.8% | +0.6% |
| csrf_per_render: one generate_csrf() per render | +0.9% | +8.3% |
| wsgi_headers: security headers on the WSGI list | +2.1% | +0.4% |

With every seam: 5.79 M instructions a toggle, 57.5 M a list page.

Reliability seams (not speed-ups):
- request_bound_connection: psycopg waits a bounded time for each answer in a request.
- session_cookie: the session cookie is trimmed before Flask writes it.
- sqlite_index_hint: SQLite's INDEXED BY for the cross-project views' keyset pieces.
- huey_storage: the module-level Huey pointed at the queue the config names (app/jobs/queue.py
  calls it from its init_app).

Dropped (under 2%): a cache of `Flask.ensure_sync`'s answer per hook and view (+0.8% a
toggle, +0.2% a list page without it), in a Tasklane(Flask) subclass; Flask's own runs.

`install(app)` puts them in place; create_app calls it once, after the extensions are bound.
The limiter seam is the class of `app.extensions.limiter` instead (flask-limiter registers its
hooks in init_app, from the instance), and `row_url`/`tag_url` are reached through app.urls.
"""

from __future__ import annotations

from flask import Flask

from app.seams import (
    csrf_per_render,
    request_bound_connection,
    row_urls,
    session_cookie,
    sqlite_index_hint,
    wsgi_headers,
)


def install(app: Flask) -> None:
    """Install every seam but the limiter's on `app` (after csrf.init_app, whose template
    function one shadows, and database.configure, whose connect listener one follows)."""
    session_cookie.install(app)
    request_bound_connection.install(app)
    csrf_per_render.install(app)
    row_urls.install(app)
    wsgi_headers.install(app)
    sqlite_index_hint.install()
