"""Error pages in the site's layout, or a small fragment for htmx swaps."""

from __future__ import annotations

import logging

from flask import g, make_response
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from app.errors import bp
from app.extensions import db, login_manager
from app.htmx import render

log = logging.getLogger("tasklane.errors")

MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    401: ("Sign-in needed", "Please sign in to continue."),
    403: ("Not allowed", "You do not have access to this page."),
    404: ("Not found", "There is nothing here, or it is not yours to see."),
    405: ("Method not allowed", "This address does not accept that kind of request."),
    409: ("Conflict", "Someone changed this in the meantime."),
    413: ("Too large", "What you sent is larger than the 1 MB this site accepts."),
    422: ("Invalid input", "Some of what you entered needs fixing."),
    429: (
        "Too many attempts",
        "You have tried this too often. Please wait a minute and try again.",
    ),
    500: ("Something went wrong", "An unexpected error happened. It has been logged."),
    503: (
        "Temporarily unavailable",
        "Tasklane cannot reach its database right now. Please try again in a moment.",
    ),
}


def error_response(status: int, detail: str | None = None):
    title, message = MESSAGES.get(status, ("Error", "Something went wrong."))
    if status >= 500:
        # flask-login's template context loads the user, which needs the database that may
        # be what failed: render as anonymous instead.
        g._login_user = login_manager.anonymous_user()
    return render(
        "errors/page.html",
        "errors/_fragment.html",
        status,
        status_code=status,
        title=title,
        message=detail or message,
        # The user menu needs the database, which may be what failed.
        show_user_menu=status < 500,
    )


@bp.app_errorhandler(CSRFError)
def csrf_error(_error):
    return error_response(
        400,
        "Your form expired or was sent from another site. Reload the page and try again.",
    )


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    # abort(400, description=...) says what was wrong (a list URL's bad limit, an undo's bad
    # id); Werkzeug's stock descriptions are for developers, our own messages stand instead.
    detail = error.description if error.description != type(error).description else None
    body, status = error_response(error.code or 500, detail)
    response = make_response(body, status)
    # Keep what the exception tells clients: Allow on 405, for instance.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


@bp.app_errorhandler(OperationalError)
@bp.app_errorhandler(PoolTimeout)
def database_unavailable(error):
    log.warning("database unavailable: %s", error.__class__.__name__)
    _rollback_quietly()
    return error_response(503)


@bp.app_errorhandler(Exception)
def server_error(error):
    log.exception("unhandled error", exc_info=error)
    _rollback_quietly()
    return error_response(500)


def _rollback_quietly():
    try:
        db.session.rollback()
    except Exception:  # the database may be the thing that failed
        log.debug("rollback failed", exc_info=True)
