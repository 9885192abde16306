"""The links Tasklane mails about an account: reset a password, verify an address, confirm a
new address. One mechanism for the three, told apart by their purpose.

A token is 32 bytes no one can guess (an HMAC under SECRET_KEY of 16 random bytes, its seed:
app/mail/compose.py), mailed once and stored only as its SHA-256, so a copy of the database
hands out no working link; the queue carries the seed, so a copy of the queue hands out none
either. It works once (redeem() deletes it), until it expires,
and only while its user is active. What else ends one:
- reset: every change of the user's password (app/user_actions.py), and a change of their
  address (the old mailbox no longer speaks for the account).
- verify: the address changing (the link names the address it was sent to, and verifies
  that one alone); a newer verification link.
- email: every change of the password; a newer request for a change.

Shared by the recovery and address views and user_actions, like login_sessions.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import NamedTuple

from sqlalchemy import delete, select

from app import mail
from app.extensions import db
from app.models import User, UserToken, utcnow

RESET = "reset"
VERIFY = "verify"
EMAIL = "email"

# How long a link works. An hour for a reset: it hands over the account. Seven days for a
# verification: it proves only that mail to the address arrives, which is what opening it
# shows, and a welcome message is often read days later. A day for a change of address: it
# moves the account's sign-in and recovery to another mailbox, so it should not lie about
# for a week, yet the new mailbox may be one the user checks only at home.
LIFETIMES = {RESET: timedelta(hours=1), VERIFY: timedelta(days=7), EMAIL: timedelta(days=1)}
# Purposes where only the newest link works: a second request replaces the first (a change
# to another address, or a resent verification), so a stale message cannot be acted on.
NEWEST_ONLY = frozenset({VERIFY, EMAIL})
MAX_LENGTH = 100  # a token is 43 characters; longer input is not one of ours


class Held(NamedTuple):
    """A live token's user, and the address the token was mailed to."""

    user: User
    email: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(user: User, purpose: str, email: str | None = None) -> str:
    """A new `purpose` token for `user`, mailed to `email` (their own address unless given),
    added to the session (the caller commits); the token's seed, from which the message that
    carries the token makes it (mail.token_link)."""
    if purpose in NEWEST_ONLY:
        revoke(user, purpose)
    seed = secrets.token_urlsafe(16)
    now = utcnow()
    db.session.add(
        UserToken(
            user_id=user.id,
            purpose=purpose,
            email=email or user.email,
            token_hash=_hash(mail.token_from_seed(seed)),
            created_at=now,
            expires_at=now + LIFETIMES[purpose],
        )
    )
    return seed


def mail_link(
    user: User, purpose: str, endpoint: str, template: str, subject: str, *, to: str = "", **context
) -> None:
    """Issue a `purpose` token, commit it, and queue `template` to `to` (the user's address
    unless given) with the link to `endpoint` that carries it (`link_url` in the template)."""
    to = to or user.email
    seed = issue(user, purpose, to)
    db.session.commit()
    link = mail.token_link(endpoint, seed)
    mail.send(to, template, subject, name=user.display_name, token_link=link, **context)


def holder(token: str, purpose: str) -> Held | None:
    """The active user a live `purpose` token belongs to and the address it was mailed to,
    or None: unknown, used, expired, revoked or of another purpose (the answer does not say
    which)."""
    if not token or len(token) > MAX_LENGTH:
        return None
    row = db.session.execute(
        select(User, UserToken.email)
        .join(UserToken, UserToken.user_id == User.id)
        .where(
            UserToken.token_hash == _hash(token),
            UserToken.purpose == purpose,
            UserToken.expires_at > utcnow(),
            User.is_active.is_(True),
        )
    ).first()
    return Held(*row) if row else None


def redeem(token: str, purpose: str) -> bool:
    """Use the token up, in the caller's transaction; False when it is gone already (a
    second request with the same link lost the race: PostgreSQL makes it wait on the row,
    SQLite runs writers one at a time)."""
    stmt = delete(UserToken).where(
        UserToken.token_hash == _hash(token),
        UserToken.purpose == purpose,
        UserToken.expires_at > utcnow(),
    )
    return db.session.execute(stmt).rowcount == 1


def revoke(user: User, *purposes: str) -> None:
    """The user's tokens of these purposes, gone, in the caller's transaction."""
    db.session.execute(
        delete(UserToken).where(UserToken.user_id == user.id, UserToken.purpose.in_(purposes))
    )
