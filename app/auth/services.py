"""Signing in and out, and creating accounts."""

from __future__ import annotations

from flask import session
from flask_login import login_user, logout_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import login_sessions
from app.extensions import db
from app.forms import normalise_email
from app.models import User, utcnow
from app.passwords import hash_password, needs_rehash, verify_password
from app.projects.services import add_inboxes
from app.sharing.services import note_waiting


class EmailTaken(Exception):
    pass


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    email: str,
    password: str,
    display_name: str,
    *,
    is_admin: bool = False,
    timezone: str | None = None,
    verified: bool = False,
) -> User:
    """Add and commit a user; raises EmailTaken when the address is in use (race-safe).
    `timezone`: a zone app.timezones knows, or None for the instance's. `verified`: whoever
    creates it vouches for the address (the command line), so no link needs to prove it."""
    email = normalise_email(email)
    user = User(
        email=email,
        password_hash=hash_password(password),
        display_name=display_name or email.split("@")[0],
        is_admin=is_admin,
        timezone=timezone,
        email_verified_at=utcnow() if verified else None,
    )
    db.session.add(user)
    try:
        db.session.flush()
        add_inboxes([user.id])
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise EmailTaken(email) from None
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None; the same work is done for an unknown email."""
    user = find_user(email)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def sign_in(user: User, *, remember: bool) -> None:
    # A new cookie session at every login: nothing from before (a planted session) survives.
    session.clear()
    # Invitations to this address wait: the task list says so (app/sharing).
    note_waiting(user)
    login_sessions.start(user, remember=remember)
    user.last_login_at = utcnow()
    db.session.commit()
    login_user(user, remember=remember)


def sign_out(user: login_sessions.Actor) -> None:
    if user.current_login_session is not None:
        login_sessions.end(user.current_login_session)
        db.session.commit()
    session.clear()
    logout_user()  # after clear(): it leaves the instruction that deletes the remember cookie
