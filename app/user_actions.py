"""Changes to a user's standing, their password, and their removal: the one place whose
guards keep an admin, and the one place a password is set.

The admin console, `flask users ...` and the account page all call these, so every path that
can take admin rights away or make a user disappear meets the same guard
(`_guard_admin_loss`): nobody removes themself through the console, and however it is asked
(demote, deactivate, delete by an admin or by the user themself), the last active admin stays.

Each action locks what its guards depend on inside the caller's write transaction, checks the
guards, changes the user, records an audit entry and commits. A refused action raises
ActionRefused (409 on the web, an error message on the command line) after rolling back, so no
lock outlives it.
"""

from __future__ import annotations

from sqlalchemy import select

from app import audit, login_sessions, user_tokens
from app.extensions import db
from app.models import User
from app.passwords import hash_password
from app.sharing.services import hand_over_projects


class ActionRefused(Exception):
    """A guard refused the action; str(exc) is the message for the person who asked."""


def _lock(target: User) -> int:
    """Lock the active admins, then the target; return how many active admins there are.

    The count is taken inside the write transaction that acts on it: on PostgreSQL the row
    locks make a concurrent action wait and then see this one's outcome; SQLite runs writing
    transactions one at a time (BEGIN IMMEDIATE). So two admins demoting each other at once
    cannot leave nobody in charge. Locks are taken in one order (admins by id, then the
    target), so two actions cannot deadlock.
    """
    admins = db.session.scalars(
        select(User.id)
        .where(User.is_admin.is_(True), User.is_active.is_(True))
        .order_by(User.id)
        .with_for_update()
    ).all()
    db.session.refresh(target, with_for_update=True)
    return len(admins)


def _refuse(message: str):
    db.session.rollback()
    raise ActionRefused(message)


def _guard_self(actor: login_sessions.Actor | None, target: User, verb: str) -> None:
    if actor is not None and actor.id == target.id:
        _refuse(f"You cannot {verb} your own account. Ask another admin to do it.")


def _guard_admin_loss(
    target: User, *, actor: login_sessions.Actor | None, verb: str | None
) -> None:
    """The guard of every action after which `target` may no longer be an active admin.

    Takes the locks, then refuses an admin acting on themself (`verb` names the action; None
    where removing oneself is the point, on the account page) and, whoever asks, the removal
    of the last active admin.
    """
    active_admins = _lock(target)
    if verb is not None:
        _guard_self(actor, target, verb)
    if target.is_admin and target.is_active and active_admins <= 1:
        who = "You are" if actor is not None and actor.id == target.id else f"{target.email} is"
        _refuse(
            f"{who} the last active admin, and a Tasklane instance always keeps one. "
            "Make another user an admin first."
        )


def deactivate(target: User, *, actor: login_sessions.Actor | None) -> None:
    """The user can no longer sign in, and every session of theirs ends now."""
    _guard_admin_loss(target, actor=actor, verb="deactivate")
    target.is_active = False
    ended = login_sessions.end_all(target)
    audit.record("user_deactivated", actor=actor, target=target, detail=f"{ended} session(s) ended")
    db.session.commit()


def activate(target: User, *, actor: login_sessions.Actor | None) -> None:
    _lock(target)
    target.is_active = True
    audit.record("user_activated", actor=actor, target=target)
    db.session.commit()


def promote(target: User, *, actor: login_sessions.Actor | None) -> None:
    _lock(target)
    target.is_admin = True
    audit.record("user_promoted", actor=actor, target=target)
    db.session.commit()


def demote(target: User, *, actor: login_sessions.Actor | None) -> None:
    _guard_admin_loss(target, actor=actor, verb="remove admin rights from")
    target.is_admin = False
    audit.record("user_demoted", actor=actor, target=target)
    db.session.commit()


def set_password(
    target: User,
    password: str,
    *,
    actor: login_sessions.Actor | None,
    temporary: bool = True,
) -> None:
    """An admin or the command line sets a password (already checked against the policy); a
    temporary one must be changed at the next sign-in. Every session of the user ends:
    whoever held them must sign in anew."""
    _lock(target)
    _guard_self(actor, target, "set a temporary password for")
    ended = _replace_password(target, password, temporary=temporary, keep=None)
    kind = "temporary" if temporary else "permanent"
    audit.record(
        "user_password_set", actor=actor, target=target, detail=f"{kind}; {ended} session(s) ended"
    )
    db.session.commit()


def change_own_password(user: User, password: str, *, keep: login_sessions.CurrentLogin) -> int:
    """The user chooses their own password (the account page checked the current one and the
    policy); it clears a temporary one. Their other sessions end, `keep` (the one asking)
    stays; returns how many ended. No guard and no lock: nothing here can cost an admin."""
    ended = _replace_password(user, password, temporary=False, keep=keep)
    audit.record(
        "password_changed", actor=user, target=user, detail=f"{ended} other session(s) ended"
    )
    db.session.commit()
    return ended


def reset_forgotten_password(user: User, password: str) -> int:
    """The user chose a new password through a reset link (the recovery view used the link
    up and checked the policy). Every session of theirs ends, since whoever forgot a
    password may have lost it to someone; the view then signs this browser in anew."""
    ended = _replace_password(user, password, temporary=False, keep=None)
    audit.record(
        "password_reset", actor=user, target=user, detail=f"by email link; {ended} session(s) ended"
    )
    db.session.commit()
    return ended


def _replace_password(
    target: User, password: str, *, temporary: bool, keep: login_sessions.CurrentLogin | None
) -> int:
    """Store the new password's hash, end the user's sessions but `keep` and revoke their
    reset links and pending changes of address: the one way every path changes a password.
    How many sessions ended. (Verification links stay: they prove an address, which a new
    password does not change.)"""
    target.password_hash = hash_password(password)
    target.must_change_password = temporary
    user_tokens.revoke(target, user_tokens.RESET, user_tokens.EMAIL)
    return login_sessions.end_others(target, keep=keep)


def delete_user(target: User, *, actor: login_sessions.Actor | None) -> None:
    """An admin (or the command line) deletes the user with their tasks, tags and sessions."""
    _guard_admin_loss(target, actor=actor, verb="delete")
    audit.record("user_deleted", actor=actor, target=target)
    _delete(target)


def delete_own_account(user: User) -> None:
    """The user deletes their own account (from the account page): allowed, except to the
    last active admin."""
    _guard_admin_loss(user, actor=user, verb=None)
    audit.record("account_deleted", actor=user, target=user)
    _delete(user)


def _delete(target: User) -> None:
    # The caller's audit entry is flushed first; deleting the user then sets its keys to NULL
    # (the database cascades to their Inbox with its tasks, their memberships, tags and
    # sessions, and clears them as the adder or assignee of tasks elsewhere) and its email
    # snapshots keep saying who it was. The shared projects they own pass to another member
    # first (or go, when nobody else is in them).
    db.session.flush()
    hand_over_projects(target)
    db.session.delete(target)
    db.session.commit()
