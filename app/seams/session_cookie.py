"""Reliability seam: Flask's signed cookie session, trimmed before it is written.

Protects: a browser's sign-in from a session cookie that outgrows 4 KB (the policy and the
story are in app/session_cookie.py, which decides what goes).

Relies on (Flask 3.1):
- `SecureCookieSessionInterface.save_session(app, session, response)` writes the cookie,
  and `get_signing_serializer(app)` and `get_cookie_name(app)` give what it writes with;
- `flask.flash()` keeps the pending messages as a list in the private session key
  `_flashes` (app.session_cookie.FLASHES).
tests/test_seams.py is the canary for both.
"""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from app import session_cookie


class BoundedCookieSession(SecureCookieSessionInterface):
    """Flask's signed cookie session, trimmed by session_cookie.fit before it is written."""

    def save_session(self, app, session, response) -> None:
        if session.modified and session_cookie.may_outgrow(session):
            serializer = self.get_signing_serializer(app)
            overhead = len(self.get_cookie_name(app)) + 1
            session_cookie.fit(session, lambda s: overhead + len(serializer.dumps(dict(s))))
        super().save_session(app, session, response)


def install(app: Flask) -> None:
    app.session_interface = BoundedCookieSession()
