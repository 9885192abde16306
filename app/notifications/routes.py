"""/notifications: the list, the header's count fragment, and marking as read (POST)."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, url_for
from flask_login import current_user, login_required

from app import access
from app.htmx import is_htmx, render, trigger
from app.models import Notification
from app.notifications import bp, services


@bp.before_request
@login_required
def _signed_in_only():
    pass


@bp.get("")
def index():
    return render(
        "notifications/page.html",
        "notifications/_list.html",
        notifications=services.latest(current_user.id),
    )


@bp.get("/count")
def count():
    """The header's count, for htmx's polling; a plain visit goes to the page."""
    if not is_htmx():
        return redirect(url_for("notifications.index"))
    return render_template("notifications/_count.html")


@bp.post("/<int:notification_id>/read")
def read(notification_id: int):
    services.mark_read(access.get_or_404(Notification, notification_id).obj)
    return _answer()


@bp.post("/read")
def read_all():
    marked = services.mark_all_read(current_user.id)
    if not is_htmx():
        flash(f"Marked {marked} as read." if marked else "Nothing unread.", "success")
    return _answer()


def _answer():
    if is_htmx():
        response = make_response(
            render_template(
                "notifications/_list.html", notifications=services.latest(current_user.id)
            )
        )
        # The header's badge refetches itself on this event: its count was read as this request
        # began (with who is signed in), before the marking.
        return trigger(response, "notifications-read")
    return redirect(url_for("notifications.index"), code=303)
