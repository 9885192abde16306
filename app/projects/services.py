"""What happens to projects: every user's Inbox, and (with sharing) who may do what in them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert, literal, select

from app.extensions import db
from app.models import Membership, Project, Role, utcnow

INBOX_NAME = "Inbox"


def add_inboxes(user_ids: Iterable[int]) -> None:
    """Give new users their Inboxes, each with its owner's membership, in two statements
    however many users (the caller commits). The one way an Inbox is made: registration, the
    command line and the tests' bulk users all come here."""
    user_ids = list(user_ids)
    if not user_ids:
        return
    now = utcnow()
    db.session.execute(
        insert(Project),
        [
            {
                "name": INBOX_NAME,
                "name_key": INBOX_NAME.casefold(),
                "inbox_of_id": uid,
                "created_at": now,
            }
            for uid in user_ids
        ],
    )
    db.session.execute(
        insert(Membership).from_select(
            ["project_id", "user_id", "role", "created_at"],
            select(
                Project.id, Project.inbox_of_id, literal(int(Role.OWNER)), Project.created_at
            ).where(Project.inbox_of_id.in_(user_ids)),
        )
    )
