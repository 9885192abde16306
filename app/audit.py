"""The audit log: one record() call per security-relevant event.

record() only adds the entry to the session; it is written with the caller's commit, so an
action and its entry succeed or fail together.
"""

from __future__ import annotations

from flask import has_request_context, request

from app.extensions import db
from app.login_sessions import Actor, current_actor
from app.models import AuditEntry, User

# Every action the log knows, with the words the audit page shows for it.
ACTIONS = {
    "login": "Signed in",
    "login_failed": "Sign-in failed",
    "rate_limited": "Locked out by rate limit",
    "password_changed": "Changed own password",
    "password_reset": "Reset own password by email",
    "email_verified": "Verified own address",
    "email_change_requested": "Asked to change own address",
    "email_changed": "Changed own address by email link",
    "account_deleted": "Deleted own account",
    "user_deactivated": "Deactivated user",
    "user_activated": "Reactivated user",
    "user_promoted": "Made user an admin",
    "user_demoted": "Removed admin rights",
    "user_password_set": "Set a temporary password",
    "user_deleted": "Deleted user and their data",
    # Sharing (app/sharing): the target is the member (or the invited address).
    "member_invited": "Invited to a project",
    "invitation_cancelled": "Cancelled an invitation",
    "invitation_accepted": "Accepted an invitation",
    "invitation_declined": "Declined an invitation",
    "member_role_changed": "Changed a member's role",
    "member_removed": "Removed a member",
    "member_left": "Left a project",
    "ownership_transferred": "Handed a project over",
    "project_handed_over": "Received a deleted user's project",
    "project_deleted_with_owner": "Deleted a project with its owner",
}

_CURRENT = object()  # "whoever is signed in", the default actor


def record(
    action: str,
    *,
    actor: Actor | object | None = _CURRENT,
    target: User | None = None,
    target_email: str | None = None,
    detail: str = "",
) -> AuditEntry:
    """Add an entry for `action` to the session (the caller commits).

    `actor` defaults to the signed-in user (none outside a request, e.g. the CLI);
    `target_email` names a target that may not exist (a failed sign-in for an unknown email).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if actor is _CURRENT:
        actor = current_actor()
    in_request = has_request_context()
    entry = AuditEntry(
        action=action,
        actor_id=actor.id if actor is not None else None,
        actor_email=actor.email if actor is not None else "",
        target_id=target.id if target is not None else None,
        target_email=(target.email if target is not None else target_email or "")[:254],
        ip=(request.remote_addr or "")[:45] if in_request else "",
        # Outside a request the only caller is `flask users ...`: say so.
        detail=(detail or ("" if in_request else "command line"))[:255],
    )
    db.session.add(entry)
    return entry
