"""Who may be assigned a task: a member of the task's project. The one place that says so.

Quick add (`@name`), the editor's "Assignee" choice and the bulk action "Assign to" all ask
here, and every write that sets an assignee re-checks membership in its own statement
(`assignee_if_member`; the bulk action's WHERE: access.is_member, the one membership test), so
a member removed between the check and the write is not stored (removing a member unassigns
their tasks: app/sharing/services.py). A task moved to a project where its assignee is not a
member is unassigned the same way (services.moved_to).

A user id that is not a member is answered as "not a member", whether or not such a user
exists: the answer never tells a non-member's name or whether an id is taken.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import bindparam, case, select

from app import access
from app.extensions import db
from app.models import Membership, Project, User

NOT_A_MEMBER = "Only a member of the task's project can be assigned it."
INBOX_NOT_SHARED = "your Inbox cannot be shared, so its tasks are yours alone"


class Member(NamedTuple):
    id: int
    name: str  # display name
    email: str


def assignee_if_member(project_id, user_id):
    """`user_id` where they are a member of `project_id`, else NULL: the value a write stores,
    so the check and the write are one statement."""
    return case((access.is_member(project_id, user_id), user_id), else_=None)


def members(project_id: int) -> list[Member]:
    """The people a task in the project may be assigned to, by name: the editor's and the
    bulk bar's choices. One statement built once and run on the session's connection: a
    shared project's page asks on every load, and building it and the ORM's execution
    layer cost more than running it."""
    rows = db.session.connection().execute(_MEMBERS, {"project_id": project_id})
    return [Member(*row) for row in rows]


_MEMBERS = (
    select(User.id, User.display_name, User.email)
    .join(Membership, access.membership_join(bindparam("project_id"), User.id))
    .order_by(User.display_name, User.id)
)


def problem(project_id: int, user_id: int) -> str | None:
    """Why `user_id` cannot be assigned a task in the project, or None when they can."""
    found = db.session.scalar(select(access.is_member(project_id, user_id)))
    return None if found else NOT_A_MEMBER


def name_of(user_id: int) -> str:
    """A member's display name, for the activity log ("assigned … Bob")."""
    return db.session.scalar(select(User.display_name).where(User.id == user_id)) or ""


class Named(NamedTuple):
    user_id: int | None
    problem: str | None  # what quick add's answer says when `@name` assigns nobody


def member_named(project_id: int, name: str) -> Named:
    """The member of the project that quick add's `@name` names: a display name or an email's
    local part, case-insensitive; failing those, the first word of a display name, so that
    `@ada` finds "Ada Lovelace" (a name with a space is otherwise reachable only quoted).
    Nobody when no member or several members answer to it."""
    folded = name.casefold()
    people = members(project_id)
    matches = {
        member.id
        for member in people
        if folded in (member.name.casefold(), member.email.partition("@")[0].casefold())
    } or {member.id for member in people if member.name.casefold().split()[:1] == [folded]}
    if len(matches) == 1:
        return Named(matches.pop(), None)
    if len(matches) > 1:
        return Named(None, f"{len(matches)} members answer to “@{name}”: assign it in the editor.")
    inbox = db.session.scalar(select(Project.inbox_of_id).where(Project.id == project_id))
    if inbox is not None:
        return Named(None, f"Nobody else can be assigned “@{name}”: {INBOX_NOT_SHARED}.")
    return Named(None, f"No member of this project answers to “@{name}”.")
