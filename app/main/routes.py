from __future__ import annotations

from flask import redirect, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db, limiter
from app.main import bp


@bp.get("/")
def index():
    return redirect(url_for("tasks.index" if current_user.is_authenticated else "auth.login"))


@bp.get("/healthz")
@limiter.exempt
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": "down"}, 503
    return {"status": "ok", "database": "up"}, 200


@bp.get("/favicon.ico")
@limiter.exempt
def favicon():
    # Browsers ask for /favicon.ico whatever the page says (e.g. when showing JSON): point
    # them at the real icon instead of logging a 404 for every such visit.
    return redirect(url_for("static", filename="favicon.svg"), code=301)
