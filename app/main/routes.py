from __future__ import annotations

from flask import redirect, url_for
from flask_login import current_user

from app.extensions import limiter
from app.main import bp


@bp.get("/")
def index():
    return redirect(url_for("tasks.index" if current_user.is_authenticated else "auth.login"))


@bp.get("/favicon.ico")
@limiter.exempt
def favicon():
    # Browsers ask for /favicon.ico whatever the page says (e.g. when showing JSON): point
    # them at the real icon instead of logging a 404 for every such visit.
    return redirect(url_for("static", filename="favicon.svg"), code=301)
