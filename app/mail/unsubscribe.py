"""One-click unsubscribe links for the mail a user may turn off: the daily digest and
reminder mail. Each kind is one switch on the user (`KINDS`).

A link carries a token signed with the app's secret (itsdangerous), salted per kind so a
digest link cannot turn reminder mail off, holding the user's id and their `mail_key`, a
random per-user value: the signature stops anyone making a link for another user, and a
new mail_key would void every link mailed before. No expiry: a digest read a year later
must still unsubscribe (RFC 8058 asks for links that keep working), and all a link can do is
stop mail, which the user can turn back on from /account.

The links go in the message body and in the List-Unsubscribe header (app/mail/compose.py).
"""

from __future__ import annotations

import hmac
import secrets

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import User

DIGEST = "digest"
REMINDERS = "reminders"
# What each kind turns off, and how the pages name it.
KINDS = {DIGEST: "the daily digest", REMINDERS: "reminder emails"}
MAX_LENGTH = 200  # a token is about 60 characters; longer input is not one of ours


def _serializer(kind: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=f"tasklane.unsubscribe.{kind}")


def _mail_key(user: User) -> str:
    """The user's mail_key, made the first time a link is needed, in a short write
    transaction of its own (as login_sessions' bookkeeping writes): committed at once, so a
    link mailed works even if the caller's transaction fails later, and the caller's
    transaction is left alone (on SQLite a read transaction cannot become a write once another
    connection has written: two schedulers failed with "database is locked"). Two processes
    making it at once: the conditional UPDATE lets the first win, and both read the winner's."""
    if user.mail_key is not None:
        return user.mail_key
    with db.engine.connect().execution_options(tasklane_write=True) as conn, conn.begin():
        conn.execute(
            update(User)
            .where(User.id == user.id, User.mail_key.is_(None))
            .values(mail_key=secrets.token_hex(16))
        )
        key = conn.execute(select(User.mail_key).where(User.id == user.id)).scalar_one()
    set_committed_value(user, "mail_key", key)
    return key


def token_for(user: User, kind: str) -> str:
    return _serializer(kind).dumps([user.id, _mail_key(user)])


def url_for_user(user: User, kind: str) -> str:
    from app.mail.compose import external_url

    return external_url("unsubscribe.confirm", kind=kind, token=token_for(user, kind))


def holder(token: str, kind: str) -> User | None:
    """The active user a `kind` token was made for, or None: not ours, forged, of another
    kind, or voided (the answer does not say which)."""
    if kind not in KINDS or not token or len(token) > MAX_LENGTH:
        return None
    try:
        user_id, key = _serializer(kind).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active or not isinstance(key, str) or user.mail_key is None:
        return None
    return user if hmac.compare_digest(user.mail_key, key) else None


def is_subscribed(user: User, kind: str) -> bool:
    return user.digest_hour is not None if kind == DIGEST else user.reminder_mail


def turn_off(user: User, kind: str) -> None:
    """Stop `kind` mail to `user` (the caller commits)."""
    if kind == DIGEST:
        user.digest_hour = None
    else:
        user.reminder_mail = False
