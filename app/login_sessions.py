"""Server-side login sessions, and who is signed in.

Flask's cookie session is only signed, so a copied cookie would stay valid for as long as it
says. Each login therefore gets a row here, and the cookie carries its random token (via
User.get_id). Deleting the row ends that browser's session at its next request: logout, a
password change (every other session), deactivation or deletion of the user.

Who is signed in, one rule for every view and service:

- To read who asks (id, email, name, is_admin, must_change_password, time zone, this login
  session), views, templates, request hooks and the views' helper access.get_or_404 read
  `current_user`. After the request that signs in it is a frozen SignedIn, which the loader
  builds from the one query that checks the session: no request loads the User row just to
  know who asks (tests/test_query_counts.py). What belongs to the user is reached through
  `current_user.id`: views pass it to the task, tag and session services, and
  access.get_or_404 reads it.
- To tell a service who acts (audit entries, user_actions' guards, sign_out), a view passes
  `current_actor()`, an `Actor`. Services never read `current_user`; the one default is
  audit.record's actor, which is `current_actor()` too.
- To change the user's row, or to read what SignedIn does not carry (the password hash), a
  view loads the mapped User with `signed_in_user()` (one query, only in the views that
  need it: the account page's forms).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, has_request_context, request
from flask_login import UserMixin, current_user
from sqlalchemy import bindparam, delete, select, update

from app.counts import capped_count
from app.database import SAFE_METHODS
from app.extensions import db, login_manager
from app.models import LoginSession, Notification, Project, User, utcnow

# last_seen_at is written at most this often, so ordinary requests stay read-only.
TOUCH_INTERVAL = timedelta(minutes=1)


# The header's unread-notification badge, read in the same query: a page pays no query for it.
_UNREAD = capped_count(
    select(Notification.id)
    .where(Notification.user_id == User.id, Notification.read_at.is_(None))
    .correlate(User)
)

# Built once: this runs on every request, and building the statement anew costs more than
# running it. Plain columns, run on the session's connection: loading a mapped User was most
# of the loader's cost, and most requests only read who is asking.
_SESSION_AND_USER = (
    select(
        User.id,
        User.email,
        User.display_name,
        User.is_admin,
        User.must_change_password,
        User.email_verified_at.is_not(None),
        Project.id,
        User.timezone,
        _UNREAD,
        User.digest_hour,
        User.reminder_mail,
        User.default_reminder,
        LoginSession.id,
        LoginSession.remember,
        LoginSession.expires_at,
        LoginSession.last_seen_at,
    )
    .join(LoginSession, LoginSession.user_id == User.id)
    .join(Project, Project.inbox_of_id == User.id)
    .where(LoginSession.token_hash == bindparam("token_hash"), User.is_active.is_(True))
)


@dataclass(frozen=True)
class CurrentLogin:
    """The login session of this request, as User.current_login_session (id and token)."""

    id: int
    token: str


@dataclass(frozen=True, eq=False)
class SignedIn(UserMixin):
    """`current_user` on every request after the one that signed in: who is asking, as
    plain values. Frozen, so that a view cannot change it thinking it changes the user: views
    that change the user load the mapped one with `signed_in_user()`."""

    id: int
    email: str
    display_name: str
    is_admin: bool
    must_change_password: bool
    email_verified: bool  # whether mail and invitations may reach them (app/models.User)
    inbox_id: int  # where quick add puts a task that names no project
    timezone: str | None  # where "today" is for them (app/timezones.py); None: the instance's
    unread_notifications: int  # the header's badge, up to counts.CAP + 1, as the request began
    # The mail settings /account shows (app/digests.py, app/reminders.py): read by the same
    # query, so that page needs no second read of the user.
    digest_hour: int | None
    reminder_mail: bool
    default_reminder: int | None
    current_login_session: CurrentLogin

    def get_id(self) -> str:
        return self.current_login_session.token


# Whoever acts: what `current_actor()` returns (the mapped User on the request that signs in,
# SignedIn after), or the mapped User where a service acts on the user's own row (signing
# in, changing their password, deleting their account). Services read only its `id`,
# `email` and `current_login_session`, which both have.
Actor = User | SignedIn


def current_actor() -> Actor | None:
    """Who is signed in, as the `actor` a service takes: the object flask-login loaded for this
    request (no query), not the `current_user` proxy; None when nobody is, or outside a
    request (the command line)."""
    if not has_request_context() or not current_user.is_authenticated:
        return None
    return current_user._get_current_object()


def signed_in_user() -> User:
    """The signed-in user as the mapped User, to change it (one query)."""
    return db.session.get(User, current_user.id)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(user: User, *, remember: bool) -> LoginSession:
    """Create the record for a fresh login and attach it to the user for flask-login."""
    cfg = current_app.config
    now = utcnow()
    lifetime = cfg["REMEMBER_COOKIE_DURATION"] if remember else cfg["SESSION_ABSOLUTE_LIFETIME"]
    token = secrets.token_urlsafe(32)
    record = LoginSession(
        user=user,
        token_hash=_hash(token),
        remember=remember,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
        ip=(request.remote_addr or "")[:45],
        user_agent=request.user_agent.string[:255],
    )
    record.token = token
    db.session.add(record)
    user.current_login_session = record
    return record


@login_manager.user_loader
def load_user(token: str) -> SignedIn | None:
    """Resolve the session token to its user in one query, enforcing both time limits."""
    if not token or len(token) > 128:
        return None
    now = utcnow()
    row = db.session.connection().execute(_SESSION_AND_USER, {"token_hash": _hash(token)}).first()
    if row is None:
        return None
    *user, record_id, remember, expires_at, last_seen_at = row
    idle_limit = (
        current_app.config["REMEMBER_COOKIE_DURATION"]
        if remember
        else current_app.config["SESSION_IDLE_TIMEOUT"]
    )
    if expires_at <= now or last_seen_at + idle_limit <= now:
        _write_now(delete(LoginSession).where(LoginSession.id == record_id))
        return None
    if now - last_seen_at >= TOUCH_INTERVAL:
        _write_now(
            update(LoginSession).where(LoginSession.id == record_id).values(last_seen_at=now)
        )
    return SignedIn(*user, CurrentLogin(record_id, token))


def _write_now(stmt) -> None:
    """Bookkeeping writes made while loading the user.

    A read-only request does them in a short transaction of their own, so that its own stays
    read-only (on SQLite a read transaction that starts writing can fail to get the lock). A
    writing request already holds the write lock, so they join its transaction.
    """
    if request.method in SAFE_METHODS:
        with db.engine.connect().execution_options(tasklane_write=True) as conn, conn.begin():
            conn.execute(stmt)
    else:
        db.session.execute(stmt)


def end(record: LoginSession | CurrentLogin) -> None:
    """End one session, in the caller's transaction (the caller commits)."""
    db.session.execute(delete(LoginSession).where(LoginSession.id == record.id))


def end_others(user: User, keep: LoginSession | CurrentLogin | None) -> int:
    """End every session of the user except `keep` (within the caller's transaction)."""
    stmt = delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep is not None:
        stmt = stmt.where(LoginSession.id != keep.id)
    return db.session.execute(stmt).rowcount


def end_all(user: User) -> int:
    return end_others(user, keep=None)


def active_for(user_id: int) -> list[LoginSession]:
    return list(
        db.session.scalars(
            select(LoginSession)
            .where(LoginSession.user_id == user_id, LoginSession.expires_at > utcnow())
            .order_by(LoginSession.last_seen_at.desc())
        )
    )


def others_signed_out(ended: int) -> str:
    """What a flash says of the other sessions a password change ended."""
    if not ended:
        return "No other session was signed in."
    if ended == 1:
        return "1 other session was signed out."
    return f"{ended} other sessions were signed out."
