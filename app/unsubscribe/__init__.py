"""The pages unsubscribe links open: /unsubscribe/<kind>?token=... (app/mail/unsubscribe.py)."""

from flask import Blueprint

bp = Blueprint("unsubscribe", __name__, url_prefix="/unsubscribe")

from app.unsubscribe import routes  # noqa: E402, F401
