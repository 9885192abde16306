from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from app.admin import bp
from app.extensions import db
from app.models import User


@bp.before_request
@login_required
def _admins_only():
    # One gate for the whole blueprint: anonymous -> login, signed-in non-admin -> 403.
    if not current_user.is_admin:
        abort(403)


@bp.get("/users")
def users():
    rows = db.session.scalars(select(User).order_by(User.created_at, User.id)).all()
    return render_template("admin/users.html", users=rows)
