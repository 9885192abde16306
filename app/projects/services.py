"""What happens to projects: every user's Inbox, and (with sharing) who may do what in them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import func, insert, literal, or_, select

from app import access
from app.database import PROJECT_NAMES, one_at_a_time
from app.extensions import db
from app.models import Membership, Project, Role, Task, utcnow

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


# ---- one user's projects ----------------------------------------------------------------


class NameTaken(Exception):
    """The user already owns a project by that name (case-insensitive)."""


INBOX_IS_FIXED = "Your Inbox cannot be renamed, archived or deleted."
NAME_TAKEN = "You already have a project with this name."
OWNER_HAS_NAME = "Its owner already has a project with this name."


def project_rows(user_id: int, *, archived: bool = True) -> list:
    """The user's projects (Inbox first, then by name), each with the user's role and its
    open-task count (the counter Project.open_tasks: no task is read), in one query. Rows have
    id, name, colour, inbox_of_id, archived_at, role and open_count (shown as "99+" past
    counts.CAP). `archived=False` leaves archived projects out (the navigation)."""
    stmt = (
        select(
            Project.id,
            Project.name,
            Project.colour,
            Project.inbox_of_id,
            Project.archived_at,
            Membership.role,
            Project.open_tasks.label("open_count"),
        )
        .select_from(Membership)
        .join(Project, access.membership_join(Project.id, user_id))
        .order_by(Project.inbox_of_id.is_(None), Project.name_key, Project.id)
    )
    if not archived:
        stmt = stmt.where(Project.archived_at.is_(None))
    return list(db.session.execute(stmt))


def addable_projects(user_id: int, also: int | None = None) -> list[tuple[int, str]]:
    """(id, name) of the live projects the user may add tasks to (EDITOR or more), Inbox
    first, and the project `also` if it is archived (a task's own, in its editor): the
    choices of the editor and the delete page's "move first"."""
    live = Project.archived_at.is_(None)
    stmt = (
        select(Project.id, Project.name)
        .where(
            *access.reachable(Project, user_id, Role.EDITOR),
            or_(live, Project.id == also) if also else live,
        )
        .order_by(Project.inbox_of_id.is_(None), Project.name_key, Project.id)
    )
    return [(pid, name) for pid, name in db.session.execute(stmt)]


def name_taken(user_id: int, name: str, except_id: int | None = None) -> bool:
    """Whether the user owns another project called `name` (case-insensitive). Names are
    unique per owner only: two people may each have a "Work"."""
    stmt = (
        select(Project.id)
        .join(Membership, access.membership_join(Project.id, user_id))
        .where(Membership.role == Role.OWNER, Project.name_key == name.casefold())
    )
    if except_id is not None:
        stmt = stmt.where(Project.id != except_id)
    return db.session.scalar(stmt.limit(1)) is not None


def create_project(user_id: int, name: str, colour: str) -> Project:
    """A new project owned by `user_id`; NameTaken if they own one by that name."""
    one_at_a_time(PROJECT_NAMES, user_id)  # two tabs creating "Work" at once: one gets it
    if name_taken(user_id, name):
        raise NameTaken(name)
    project = Project(name=name, colour=colour)
    project.memberships.append(Membership(user_id=user_id, role=Role.OWNER))
    db.session.add(project)
    db.session.commit()
    return project


def update_project(project: Project, name: str, colour: str) -> None:
    """Rename and recolour; NameTaken if the project's owner has another project by that
    name (whoever renames it: an admin renames within the owner's list)."""
    owner = db.session.scalar(
        select(Membership.user_id).where(
            Membership.project_id == project.id, Membership.role == Role.OWNER
        )
    )
    one_at_a_time(PROJECT_NAMES, owner)
    if name_taken(owner, name, except_id=project.id):
        raise NameTaken(name)
    project.name = name
    project.colour = colour
    db.session.commit()


def set_archived(project: Project, archived: bool) -> None:
    """Archive (the project leaves the navigation and quick add; its tasks stay, whole) or
    bring it back."""
    project.archived_at = utcnow() if archived else None
    db.session.commit()


def live_task_count(project_id: int) -> int:
    """What the delete page says goes with the project: its tasks, done or not."""
    return db.session.scalar(
        select(func.count(Task.id)).where(Task.project_id == project_id, Task.deleted_at.is_(None))
    )


def delete_project(project: Project) -> None:
    """The project, its memberships, invitations and tasks, gone (ON DELETE CASCADE). The
    caller moves the tasks first if they are to stay."""
    db.session.delete(project)
    db.session.commit()


class QuickAddTarget(NamedTuple):
    project_id: int | None
    problem: str | None  # what the answer says when the name is not (or not one) project


def project_named(user_id: int, name: str) -> QuickAddTarget:
    """The live project called `name` (case-insensitive) that the user may add tasks to, for
    quick add's `+name`. If two match, the one the user owns (names are unique among one
    owner's projects); if none of them is theirs, quick add names no project and says why."""
    rows = db.session.execute(
        select(Project.id, Membership.role)
        .join(Membership, access.membership_join(Project.id, user_id, Role.EDITOR))
        .where(Project.name_key == name.casefold(), Project.archived_at.is_(None))
        .order_by(Project.id)
        .limit(10)
    ).all()
    if not rows:
        return QuickAddTarget(None, f"No project called “{name}” that you can add to.")
    owned = [pid for pid, role in rows if role == Role.OWNER]
    if len(rows) == 1 or len(owned) == 1:
        return QuickAddTarget(rows[0][0] if len(rows) == 1 else owned[0], None)
    return QuickAddTarget(
        None,
        f"{len(rows)} projects called “{name}” could take this task: add it from the"
        " project's own page instead.",
    )
