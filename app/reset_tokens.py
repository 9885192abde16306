"""Password reset links: the tokens behind "Forgot your password?".

A token is 32 random bytes, mailed once and stored only as its SHA-256, so a copy of the
database hands out no working link. It works once (redeem() deletes it), for an hour, and
only while its user is active; every change of the user's password deletes all of theirs
(app/user_actions.py), so a link mailed before the change is dead after it.

Shared by the recovery views (app/auth/recovery.py) and user_actions, like login_sessions.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from app.extensions import db
from app.models import PasswordResetToken, User, utcnow

LIFETIME = timedelta(hours=1)
MAX_LENGTH = 100  # a token is 43 characters; longer input is not one of ours


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(user: User) -> str:
    """A new token for `user`, added to the session (the caller commits); the raw token,
    which exists only in the message that carries it."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        PasswordResetToken(
            user_id=user.id, token_hash=_hash(token), created_at=now, expires_at=now + LIFETIME
        )
    )
    return token


def holder(token: str) -> User | None:
    """The active user a live token belongs to, or None: unknown, used, expired or revoked
    (the answer does not say which)."""
    if not token or len(token) > MAX_LENGTH:
        return None
    return db.session.scalar(
        select(User)
        .join(PasswordResetToken, PasswordResetToken.user_id == User.id)
        .where(
            PasswordResetToken.token_hash == _hash(token),
            PasswordResetToken.expires_at > utcnow(),
            User.is_active.is_(True),
        )
    )


def redeem(token: str) -> bool:
    """Use the token up, in the caller's transaction; False when it is gone already (a
    second request with the same link lost the race: PostgreSQL makes it wait on the row,
    SQLite runs writers one at a time)."""
    stmt = delete(PasswordResetToken).where(
        PasswordResetToken.token_hash == _hash(token), PasswordResetToken.expires_at > utcnow()
    )
    return db.session.execute(stmt).rowcount == 1


def revoke_all(user: User) -> None:
    """Every token of the user, gone (their password changed), in the caller's transaction."""
    db.session.execute(delete(PasswordResetToken).where(PasswordResetToken.user_id == user.id))
