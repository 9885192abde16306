"""The temporary-password guard: a user an administrator gave a temporary password reaches
only the account page until they have chosen their own.

App-wide (it stands before every blueprint's views), so it lives here rather than in the
account blueprint's routes, and create_app installs it after request_log's hook: a request
the guard turns away still gets a request id and its log line.
"""

from __future__ import annotations

from flask import flash, make_response, redirect, request, url_for
from flask_login import current_user

from app.health import PROBES
from app.htmx import is_htmx

TEMPORARY_PASSWORD = (
    "An administrator set a temporary password for you. Choose your own password to continue."  # noqa: S105 (a message)
)
# What someone with a temporary password may still reach: the form that changes it, the
# page it is on, signing out, and static files.
TEMPORARY_PASSWORD_ALLOWS = frozenset({"account.page", "account.password", "auth.logout", "static"})


def require_new_password():
    """App-wide before_request: a user with a temporary password goes to /account until they
    have chosen a new one (the password view clears the flag)."""
    endpoint = request.endpoint
    if endpoint in TEMPORARY_PASSWORD_ALLOWS or endpoint in PROBES or endpoint is None:
        return None
    if not current_user.is_authenticated or not current_user.must_change_password:
        return None
    flash(TEMPORARY_PASSWORD, "warning")
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url_for("account.page")
        return response
    return redirect(url_for("account.page"))
