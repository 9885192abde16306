"""Seam: `csrf_token()` in a template asks flask-wtf once per render.

Saves 8.3% of a list page's instructions (57.5 M a page with it, 62.3 M with flask-wtf's
own `csrf_token`) and 0.9% of a toggle's (`make bench-instructions`, PostgreSQL,
2026-12-01). flask-wtf keeps the token for the request, but each `generate_csrf()` call
still reads config, session and g through Flask's proxies, and a list page calls it twice
per row. Lazily, so a page without forms makes no token (and no session cookie for it).

Relies on (Flask-WTF 1.3, Flask 3.1):
- `CSRFProtect.init_app` puts `csrf_token` (= `generate_csrf`) in the template context
  with a context processor (and in `jinja_env.globals`, which macros imported without
  context keep using);
- Flask runs context processors in the order they were registered and later ones win, so
  this one, installed after `csrf.init_app`, shadows flask-wtf's;
- `generate_csrf()` returns the same token for the whole request.
tests/test_seams.py is the canary for all three.
"""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import generate_csrf


def csrf_token_per_render() -> dict:
    """Context processor: a `csrf_token()` that asks flask-wtf at most once per render."""
    token = None

    def csrf_token() -> str:
        nonlocal token
        if token is None:
            token = generate_csrf()
        return token

    return {"csrf_token": csrf_token}


def install(app: Flask) -> None:
    if "csrf" not in app.extensions:
        raise RuntimeError("install the CSRF seam after csrf.init_app, which it shadows")
    app.context_processor(csrf_token_per_render)
