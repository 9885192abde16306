"""Unsubscribing from the daily digest or reminder mail, signed in or not: the link's token
says who.

GET shows what the link will do and a button; the POST does it. Mail scanners and link
previews fetch links with GET, and must not unsubscribe anyone.

The POST is exempt from CSRF, alone of the app's state changes, because RFC 8058's
one-click unsubscribe is a POST made by the mail client (or the mail provider's servers)
with nothing but the link and the body "List-Unsubscribe=One-Click": no session, no
cookie, no CSRF token it could send. What CSRF protects against, a request forged by
another site in the user's browser, needs the signed token here, which only the mailbox
that received it has; and the most the POST can do is turn off one kind of mail, which
the user can turn back on from /account. It reads no session and changes nothing else.
"""

from __future__ import annotations

from flask import render_template, request

from app.extensions import csrf, db
from app.mail import unsubscribe
from app.unsubscribe import bp

# Any word: an unknown kind is a link that does not work, like a forged one (400).
KIND = "<kind>"


def _user_or_bad_link(kind: str):
    user = unsubscribe.holder(request.values.get("token", ""), kind)
    if user is None:
        return None, (render_template("unsubscribe/bad_link.html"), 400)
    return user, None


@bp.get(f"/{KIND}")
def confirm(kind: str):
    user, refused = _user_or_bad_link(kind)
    if refused:
        return refused
    return render_template(
        "unsubscribe/confirm.html",
        what=unsubscribe.KINDS[kind],
        email=user.email,
        subscribed=unsubscribe.is_subscribed(user, kind),
        token=request.args["token"],
        kind=kind,
    )


@bp.post(f"/{KIND}")
@csrf.exempt  # RFC 8058 one-click: see the module docstring
def apply(kind: str):
    user, refused = _user_or_bad_link(kind)
    if refused:
        return refused
    unsubscribe.turn_off(user, kind)
    db.session.commit()
    return render_template("unsubscribe/done.html", what=unsubscribe.KINDS[kind], email=user.email)
