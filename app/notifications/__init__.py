"""In-app notifications: the header's unread count (polled by htmx, rendered with every
page) and /notifications with mark-as-read."""

from flask import Blueprint

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

from app.notifications import routes  # noqa: E402, F401
