"""A project's activity log: who added, completed, edited, moved, deleted or assigned which
task, and who joined or left, newest first (GET /projects/<id>/activity).

Every write path of app/tasks/services.py and app/sharing/services.py records here, in its
own transaction (the caller commits), so a change and its event succeed or fail together.
Events about tasks are written set-based, INSERT ... SELECT from the tasks they are about:
one statement however many tasks a bulk action touches, and the task's title and project
are read where they are. The statements are built once (the toggle records on every tick).

Names are snapshots: the actor's display name and the task's title at the time, so an event
still says who and what after a member leaves, an account is deleted or a task is purged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, and_, bindparam, func, insert, literal, null, select

from app import access
from app.extensions import db
from app.login_sessions import current_actor
from app.models import Activity, Membership, Project, Task, User, utcnow

# Every action the log knows, with the words the page shows after the actor's name.
ACTIONS = {
    "added": "added",
    "completed": "completed",
    "reopened": "reopened",
    "edited": "edited",
    "moved_in": "moved in",
    "moved_out": "moved out",
    "deleted": "deleted",
    "restored": "restored",
    "tagged": "tagged",
    "untagged": "untagged",
    "assigned": "assigned",
    "unassigned": "unassigned",
    # Membership: no task, the detail names the member or the role.
    "joined": "joined the project",
    "left": "left the project",
    "removed": "removed a member",
    "role_changed": "changed a role",
    "ownership": "handed the project over",
}

# The page shows the newest SHOWN events, PAGE_SIZE at a time ("Load more" for the next).
# Older rows are deleted by the hourly clean-up (app/cleanup.py).
SHOWN = 200
PAGE_SIZE = 50

_DETAIL_LENGTH = Activity.detail.type.length


_SIGNED_IN = object()  # "whoever is signed in": the default actor, None on the command line


def _actor(actor_id) -> tuple[int | None, str]:
    """The actor's id and name now: the signed-in user's from the loader's query (no query of
    its own on the toggle's path), anyone else's (the command line's) read here."""
    signed_in = current_actor()
    if actor_id is _SIGNED_IN:
        actor_id = signed_in.id if signed_in is not None else None
    if actor_id is None:
        return None, ""
    if signed_in is not None and signed_in.id == actor_id:
        return actor_id, signed_in.display_name
    return actor_id, db.session.scalar(select(User.display_name).where(User.id == actor_id)) or ""


_NOW = bindparam("now", type_=Activity.created_at.type)
_COLUMNS = [
    "project_id",
    "actor_id",
    "actor_name",
    "task_id",
    "task_title",
    "action",
    "detail",
    "created_at",
    "other_project_id",
]


def _from_tasks(task_matches, project_id=Task.project_id, other_project_id=None):
    """INSERT ... SELECT: one event per task matching `task_matches`, in `project_id` (the
    task's own by default); `other_project_id` is a move's other end."""
    rows = select(
        project_id,
        bindparam("actor"),
        bindparam("actor_name", type_=String),
        Task.id,
        Task.title,
        bindparam("action", type_=String),
        bindparam("detail", type_=String),
        _NOW,
        null() if other_project_id is None else other_project_id,
    ).where(task_matches)
    return insert(Activity).from_select(_COLUMNS, rows)


_ONE_TASK = _from_tasks(Task.id == bindparam("task_ids"))
_MANY_TASKS = _from_tasks(Task.id.in_(bindparam("task_ids", expanding=True)))
_NO_TASK = insert(Activity).values(
    project_id=bindparam("project_id"),
    actor_id=bindparam("actor"),
    actor_name=bindparam("actor_name"),
    task_title="",
    action=bindparam("action"),
    detail=bindparam("detail"),
    created_at=_NOW,
)


def _params(action: str, actor_id, detail: str) -> dict:
    if action not in ACTIONS:
        raise ValueError(f"unknown activity action {action!r}")
    actor_id, actor_name = _actor(actor_id)
    return {
        "actor": actor_id,
        "actor_name": actor_name,
        "action": action,
        "detail": detail[:_DETAIL_LENGTH],
        "now": utcnow(),
    }


def record_tasks(
    action: str, task_ids: Iterable[int], *, detail: str = "", actor_id=_SIGNED_IN
) -> None:
    """One `action` event per task, each in the task's project: one statement (even for no
    tasks, so that a bulk action costs the same whatever it matched). `actor_id` defaults
    to the signed-in user."""
    task_ids = list(task_ids)
    one = len(task_ids) == 1
    params = _params(action, actor_id, detail) | {"task_ids": task_ids[0] if one else task_ids}
    db.session.connection().execute(_ONE_TASK if one else _MANY_TASKS, params)


def record(project_id: int, action: str, *, detail: str = "", actor_id=_SIGNED_IN) -> None:
    """An event about the project rather than a task (someone joined, left, ...)."""
    db.session.connection().execute(
        _NO_TASK, _params(action, actor_id, detail) | {"project_id": project_id}
    )


def record_move(matches, to_project_id: int, *, actor_id=_SIGNED_IN) -> None:
    """Before tasks move to `to_project_id`: "moved out" in each one's project and "moved in"
    in the other, each naming the other end, for the live tasks that meet the condition
    `matches` and are not there already. Two statements however many tasks."""
    matches = and_(matches, Task.project_id != to_project_id, Task.deleted_at.is_(None))
    params = _params("moved_out", actor_id, "")
    connection = db.session.connection()
    connection.execute(_from_tasks(matches, other_project_id=literal(to_project_id)), params)
    moved_in = _from_tasks(matches, literal(to_project_id), other_project_id=Task.project_id)
    connection.execute(moved_in, params | {"action": "moved_in"})


# ---- the page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    id: int
    actor_name: str
    task_id: int | None
    task_title: str
    action: str
    detail: str
    created_at: datetime
    task_live: bool  # the task is still in this project, not deleted: the title links to it
    other_project: str | None  # a move's other end, if the viewer is a member there

    @property
    def words(self) -> str:
        return ACTIONS.get(self.action, self.action)

    @property
    def details(self) -> str:
        """What the page adds in brackets: the detail, or where a move went or came from."""
        if self.action in _MOVES:
            return f"{_MOVES[self.action]} {self.other_project or 'another project'}"
        return self.detail


_MOVES = {"moved_out": "to", "moved_in": "from"}


@dataclass(frozen=True)
class Page:
    events: list[Event]
    next_before: int | None  # the cursor of "Load more": None on the last page


def page(project_id: int, viewer_id: int, before: int | None = None) -> Page:
    """One page of the project's events, newest first, from below id `before`: one query,
    reading the (project_id, id) index backwards; only the newest SHOWN events are reached.
    A move's other project is named only if `viewer_id` is a member of it."""
    oldest_shown = (
        select(Activity.id)
        .where(Activity.project_id == project_id)
        .order_by(Activity.id.desc())
        .offset(SHOWN - 1)
        .limit(1)
        .scalar_subquery()
    )
    # The page's rows first, from the index alone (a subquery, so that the joins below
    # cannot tempt the planner into reading the whole id range and sorting it).
    shown = Activity.id >= func.coalesce(oldest_shown, 0)
    if before is not None:
        shown = and_(shown, Activity.id < before)
    rows = (
        select(Activity)
        .where(Activity.project_id == project_id, shown)
        .order_by(Activity.project_id.desc(), Activity.id.desc())
        .limit(PAGE_SIZE + 1)
        .subquery()
    )
    live = and_(
        Task.id == rows.c.task_id,
        Task.project_id == rows.c.project_id,
        Task.deleted_at.is_(None),
    )
    other = Project.__table__.alias("other")
    seen = access.membership_join(rows.c.other_project_id, viewer_id)
    stmt = (
        select(
            rows.c.id,
            rows.c.actor_name,
            rows.c.task_id,
            rows.c.task_title,
            rows.c.action,
            rows.c.detail,
            rows.c.created_at,
            Task.id.is_not(None).label("task_live"),
            other.c.name,
        )
        .outerjoin(Task, live)
        .outerjoin(Membership, seen)
        .outerjoin(other, other.c.id == Membership.project_id)
        .order_by(rows.c.id.desc())
    )
    events = [Event(*row) for row in db.session.execute(stmt)]
    more = len(events) > PAGE_SIZE
    events = events[:PAGE_SIZE]
    return Page(events, events[-1].id if more else None)
