"""What happens to tasks: create, edit (with optimistic locking), complete, delete and undo."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)

from app import access, activity, reminders
from app.extensions import db
from app.models import Membership, Priority, Role, Tag, Task, task_tags, utcnow
from app.notifications.services import notify_assigned
from app.tagging import insert_ignoring_duplicates, keep_or_resolve_tags, resolve_tags
from app.tasks import assignees
from app.tasks.listing import LISTED_COLUMNS, ListedTask, attach_tags
from app.tasks.recurrence import next_due
from app.url_converters import MAX_ID

# Deleted tasks stay restorable for this long, then the next delete purges them.
UNDO_WINDOW = timedelta(hours=1)


class StaleVersion(Exception):
    """The task changed since the client read it; `current` is what it is now."""

    def __init__(self, current: Task):
        super().__init__(f"task {current.id} is at version {current.version}")
        self.current = current


@dataclass
class TaskChanges:
    title: str
    notes: str
    priority: int
    due_date: date | None
    recurrence: str | None
    tag_names: list[str]
    # Another project to move the task to: one the caller checked the user may add to.
    project_id: int | None = None
    # Whether to set the assignee, and to whom (None: nobody). Stored only if they are a
    # member of the project the task ends up in, checked in the UPDATE itself.
    assign: bool = False
    assignee_id: int | None = None
    due_time: time | None = None
    # The reminders' offsets (minutes before the due time); None leaves them as they are.
    reminders: list[int] | None = None


def moved_to(project_id: int) -> dict:
    """The column values that move tasks to `project_id`: an assignee who is not a member
    there is unassigned (nobody is assigned a task they cannot see)."""
    return {
        "project_id": project_id,
        "assignee_id": assignees.assignee_if_member(project_id, Task.assignee_id),
    }


def create_task(
    project_id: int,
    user_id: int,
    title: str,
    *,
    tag_names: Iterable[str] = (),
    priority: int | None = None,
    due_date: date | None = None,
    recurrence: str | None = None,
    assignee_id: int | None = None,
    due_time: time | None = None,
) -> Task:
    """Add a task to `project_id` for `user_id`, who must be allowed to (the caller checks),
    assigned to `assignee_id` if they are a member there (checked as the row is written)."""
    task = Task(
        project_id=project_id,
        created_by_id=user_id,
        title=title,
        notes="",
        priority=priority or 0,
        due_date=due_date,
        due_time=due_time if due_date else None,
        recurrence=recurrence,
        tags=resolve_tags(user_id, tag_names),
    )
    if assignee_id is not None:
        task.assignee_id = assignees.assignee_if_member(project_id, assignee_id)
    db.session.add(task)
    db.session.flush()  # its id, for the activity log
    activity.record_tasks("added", [task.id], actor_id=user_id)
    if assignee_id is not None:
        activity.record_tasks("assigned", [task.id], detail=assignees.name_of(assignee_id))
        notify_assigned([task.id], assignee_id, user_id)
    if task.due_time is not None:
        reminders.add_default(task.id)
    db.session.commit()
    return task


def update_task(task: Task, seen_version: int, changes: TaskChanges, user_id: int) -> Task:
    """Save `changes` if nobody saved since `seen_version`; else raise StaleVersion.

    The check and the write are one statement (UPDATE ... WHERE version = ?), so two saves of
    the same version cannot both win, on either database.
    """
    edited = _edited_fields(task, changes)
    had_time = task.due_time is not None
    if changes.project_id:
        activity.record_move(Task.id == task.id, changes.project_id, actor_id=user_id)
    result = db.session.execute(
        update(Task)
        .where(Task.id == task.id, Task.version == seen_version)
        .values(
            title=changes.title,
            notes=changes.notes,
            priority=changes.priority,
            due_date=changes.due_date,
            due_time=changes.due_time if changes.due_date else None,
            recurrence=changes.recurrence,
            version=Task.version + 1,
            updated_at=utcnow(),
            # A new assignee, if chosen, replaces what the move would keep.
            **{
                **(moved_to(changes.project_id) if changes.project_id else {}),
                **(_assigned(changes, task.project_id) if changes.assign else {}),
            },
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        db.session.refresh(task)
        raise StaleVersion(task)
    db.session.refresh(task)
    task.tags = keep_or_resolve_tags(task.tags, user_id, changes.tag_names)
    if edited:
        activity.record_tasks("edited", [task.id], detail=", ".join(edited), actor_id=user_id)
    if changes.assign:
        action = "assigned" if task.assignee_id else "unassigned"
        detail = task.assignee_name or ""
        activity.record_tasks(action, [task.id], detail=detail, actor_id=user_id)
        notify_assigned([task.id], task.assignee_id, user_id)
    if changes.reminders is not None:
        reminders.set_offsets(task.id, changes.reminders)  # rescheduled there
    else:
        reminders.reschedule([task.id])
    if task.due_time is not None and not had_time:  # unless the save chose reminders
        reminders.add_default(task.id)
    db.session.commit()
    return task


def _assigned(changes: TaskChanges, project_id: int) -> dict:
    if changes.assignee_id is None:
        return {"assignee_id": None}
    project_id = changes.project_id or project_id
    return {"assignee_id": assignees.assignee_if_member(project_id, changes.assignee_id)}


def _edited_fields(task: Task, changes: TaskChanges) -> list[str]:
    """What the activity log says an editor save changed (moves are events of their own)."""
    edited = [
        name
        for name, before, after in (
            ("title", task.title, changes.title),
            ("notes", task.notes, changes.notes),
            ("repeat", task.recurrence, changes.recurrence),
        )
        if before != after
    ]
    if task.priority != changes.priority:
        edited.append(_priority_words(changes.priority))
    if task.due_date != changes.due_date:
        edited.append(_due_words(changes.due_date))
    elif task.due_time != changes.due_time:
        edited.append(f"due time {changes.due_time:%H:%M}" if changes.due_time else "no due time")
    if {tag.name_key for tag in task.tags} != {name.casefold() for name in changes.tag_names}:
        edited.append("tags")
    return edited


def _priority_words(priority: int) -> str:
    return f"priority {Priority(priority).label}"


def _due_words(due: date | None) -> str:
    return f"due {due.isoformat()}" if due else "no due date"


@dataclass
class BulkResult:
    changed: int
    series_ended: list[str]  # titles
    # "assign": how many of the tasks could not be, their assignee not being a member of
    # their project (tasks from several projects, on a view across projects).
    refused: int = 0


@dataclass
class Toggled:
    """A toggled task as a list row; the next occurrence its repeat rule made, if any; and
    whether its series ended instead (no next date before the calendar's end)."""

    task: ListedTask
    following: ListedTask | None
    series_ended: bool


def set_done(user_id: int, task_id: int, done: bool, today: date) -> Toggled | None:
    """Mark the task done or open; idempotent. None when the user may not see such a task;
    403 (access.require) when they may see but not change it."""
    connection = db.session.connection()
    changed, following, ended = _mark_done(connection, user_id, [task_id], done, today)
    if changed:
        [row] = changed
    else:  # already so (a second tick from another tab), or not the user's to change
        role = connection.scalar(_ROLE_FOR_TASK, {"user": user_id, "task_id": task_id})
        if role is None:
            return None
        access.require(role, Role.EDITOR)
        [row] = ListedTask.from_result(connection.execute(_LISTED_TASK, {"task_id": task_id}))
    attach_tags(connection, [row, *following])
    db.session.commit()
    return Toggled(row, following[0] if following else None, bool(ended))


def _mark_done(
    connection: Connection, user_id: int, task_ids: list[int], done: bool, today: date
) -> tuple[list[ListedTask], list[ListedTask], list[ListedTask]]:
    """Mark the tasks (those the user may edit) done or open, in one UPDATE ... RETURNING on
    the session's `connection` (mapped Tasks loaded before keep their old values). Returns the
    rows that changed, the next occurrences their repeat rules made (tags not attached), and the
    changed rows whose series ended instead."""
    now = utcnow()
    params = {
        "user": user_id,
        "task_ids": task_ids[0] if len(task_ids) == 1 else task_ids,
        "new_done": done,
        "new_done_at": now if done else None,
        "now": now,
    }
    stmt = _SET_DONE_ONE if len(task_ids) == 1 else _SET_DONE_MANY
    changed = ListedTask.from_result(connection.execute(stmt, params))
    action = "completed" if done else "reopened"
    activity.record_tasks(action, [row.id for row in changed], actor_id=user_id)
    repeating = [row for row in changed if done and row.recurrence]
    if not repeating:
        return changed, [], []
    following, ended_ids = _continue_series([row.id for row in repeating], today)
    next_ids = [row.id for row in following]
    activity.record_tasks("added", next_ids, detail="next in its series", actor_id=user_id)
    for row in repeating:
        # The rule moves to the new occurrence (or ends), so re-ticking cannot spawn twice.
        row.recurrence = None
    return changed, following, [row for row in repeating if row.id in ended_ids]


def _continue_series(task_ids: list[int], today: date) -> tuple[list[ListedTask], set[int]]:
    """The next occurrence of each of these just-completed repeating tasks, as list rows
    (tags not attached), and the ids of those that have none (their next date would be past
    9999-12-31). The rules move to the new tasks. Five statements however many tasks."""
    sources = db.session.execute(_SERIES, {"task_ids": task_ids}).all()
    now = utcnow()
    db.session.execute(_END_RULES, {"task_ids": task_ids, "now": now})
    plans = [(source, next_due(source.recurrence, source.due_date, today)) for source in sources]
    continuing = [(source, due) for source, due in plans if due is not None]
    ended = {source.id for source, due in plans if due is None}
    if not continuing:
        return [], ended
    # One multi-row INSERT (at most 500 rows of 14 values: within both databases' limits).
    # Both give a statement's rows ascending ids in VALUES order (PostgreSQL calls the
    # sequence row by row; SQLite, whose writer holds the database, takes max(id) + 1), so
    # sorting the ids pairs them with their rows. SQLAlchemy's own pairing for RETURNING
    # (sort_by_parameter_order) falls back to one INSERT per row on SQLite.
    rows = [
        {
            "project_id": source.project_id,
            "created_by_id": source.created_by_id,
            "assignee_id": source.assignee_id,
            "title": source.title,
            "notes": source.notes,
            "done": False,
            "priority": source.priority,
            "due_date": due,
            "due_time": source.due_time,
            "recurrence": source.recurrence,
            "position": 0,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for source, due in continuing
    ]
    new_ids = sorted(db.session.scalars(insert(Task).values(rows).returning(Task.id)))
    # Each new task gets its source's tags, in one INSERT ... SELECT.
    new_id_of = {source.id: new_id for (source, _), new_id in zip(continuing, new_ids, strict=True)}
    db.session.execute(
        insert(task_tags).from_select(
            ["task_id", "tag_id"],
            select(case(new_id_of, value=task_tags.c.task_id), task_tags.c.tag_id).where(
                task_tags.c.task_id.in_(new_id_of)
            ),
        )
    )
    reminders.copy_reminders(new_id_of)
    following = [
        ListedTask(
            id=new_id,
            title=source.title,
            has_notes=bool(source.notes),
            done=False,
            priority=source.priority,
            due_date=due,
            recurrence=source.recurrence,
            assignee_name=source.assignee_name,
            due_time=source.due_time,
        )
        for (source, due), new_id in zip(continuing, new_ids, strict=True)
    ]
    return following, ended


_SERIES = select(
    Task.id,
    Task.project_id,
    Task.created_by_id,
    Task.assignee_id,
    Task.assignee_name.label("assignee_name"),
    Task.title,
    Task.notes,
    Task.priority,
    Task.due_date,
    Task.due_time,
    Task.recurrence,
).where(Task.id.in_(bindparam("task_ids", expanding=True)))
_END_RULES = (
    update(Task)
    .where(Task.id.in_(bindparam("task_ids", expanding=True)))
    .values(recurrence=None, updated_at=bindparam("now"))
)


# The toggle is the list's most frequent write. Loading the task through the ORM to change
# two columns cost more than everything else it does (README, "Performance"), so these are
# plain statements, built once.
_EDITABLE = access.reachable(Task, bindparam("user"), Role.EDITOR)


def _set_done_statement(id_matches):
    return (
        update(Task)
        .where(*_EDITABLE, id_matches, Task.done != bindparam("new_done"))
        .values(
            done=bindparam("new_done"),
            done_at=bindparam("new_done_at"),
            version=Task.version + 1,
            updated_at=bindparam("now"),
        )
        .returning(*LISTED_COLUMNS)
    )


# One task (the toggle) gets its own statement, as in listing.attach_tags.
_SET_DONE_ONE = _set_done_statement(Task.id == bindparam("task_ids"))
_SET_DONE_MANY = _set_done_statement(Task.id.in_(bindparam("task_ids", expanding=True)))
_LISTED_TASK = select(*LISTED_COLUMNS).where(Task.id == bindparam("task_id"))
_ROLE_FOR_TASK = (
    select(Membership.role)
    .select_from(Task)
    .join(Membership, access.membership_join(Task.project_id, bindparam("user")))
    .where(Task.id == bindparam("task_id"), Task.deleted_at.is_(None))
)


def soft_delete(tasks: list[Task]) -> None:
    """Delete the tasks (restorable for UNDO_WINDOW), as the signed-in user."""
    now = utcnow()
    for task in tasks:
        task.deleted_at = now
    if tasks:
        purge_deleted(now - UNDO_WINDOW, {task.project_id for task in tasks})
    activity.record_tasks("deleted", [task.id for task in tasks])
    db.session.commit()


def restore(tasks: list[Task]) -> None:
    """Bring deleted tasks back, as the signed-in user."""
    for task in tasks:
        task.deleted_at = None
    activity.record_tasks("restored", [task.id for task in tasks])
    db.session.commit()


def purge_deleted(before: datetime, project_ids: set[int] | None = None) -> int:
    """Tasks deleted before `before` (past the undo window) go for good, in the caller's
    transaction: those of `project_ids` when a delete there passes by, or every project's
    (the hourly clean-up job, app/cleanup.py). How many went."""
    condition = Task.deleted_at < before
    if project_ids is not None:
        condition = and_(condition, Task.project_id.in_(project_ids))
    return db.session.execute(delete(Task).where(condition)).rowcount


def tasks_for(
    user_id: int,
    ids: Iterable[int],
    need: Role = Role.EDITOR,
    *,
    deleted: bool = False,
    offered: bool = False,
) -> list[Task]:
    """The tasks among `ids` that the user may see; ids of tasks they may not see are
    silently not there, and 403 (access.require) if any of them needs a role they lack.

    `offered`: for what a page offers rather than what a request asks (the undo toast): the
    tasks below `need` are left out instead, so that an editor made a viewer since they
    deleted a task gets the page, without an Undo they may no longer use."""
    ids = [i for i in ids if 0 < i <= MAX_ID]  # ids from forms: out of range is "not there"
    if not ids:
        return []
    condition = Task.deleted_at.is_not(None) if deleted else Task.deleted_at.is_(None)
    member = access.membership_join(Task.project_id, user_id, need if offered else Role.VIEWER)
    rows = db.session.execute(
        select(Task, Membership.role).join(Membership, member).where(Task.id.in_(ids), condition)
    ).all()
    if rows:
        access.require(min(role for _, role in rows), need)
    return [task for task, _ in rows]


@dataclass(frozen=True)
class _Bulk:
    """What a bulk action acts on: the user's task ids, and the form's values."""

    user_id: int
    ids: list[int]
    tag: str
    priority: int
    due_date: date | None
    on: date
    project_id: int | None = None
    assignee_id: int | None = None


def apply_bulk(
    user_id: int,
    tasks: list[Task],
    action: str,
    *,
    tag: str = "",
    priority: int = 0,
    due_date: date | None = None,
    project_id: int | None = None,
    assignee_id: int | None = None,
    on: date,
) -> BulkResult:
    """Apply one bulk action to `tasks` (which `user_id` may edit): how many changed, and the
    titles of those whose series ended ("done" on repeating tasks at the calendar's end).

    Set-based: a fixed number of statements however many tasks (tests/test_query_counts.py).
    Statements on the table, so mapped `tasks` keep their old values (the caller lists
    afresh). "move" takes a `project_id` the caller checked the user may add to; "assign"
    an `assignee_id` (None: nobody), assigned where they are a member."""
    handler = _BULK_HANDLERS.get(action)
    if handler is None:
        raise ValueError(f"unknown bulk action {action!r}")
    ids = [task.id for task in tasks]
    result = handler(_Bulk(user_id, ids, tag, priority, due_date, on, project_id, assignee_id))
    db.session.commit()
    return result


def _bulk_done(bulk: _Bulk, *, done: bool = True) -> BulkResult:
    connection = db.session.connection()
    rows, _, ended = _mark_done(connection, bulk.user_id, bulk.ids, done, bulk.on)
    return BulkResult(len(rows), [row.title for row in ended])


def _bulk_open(bulk: _Bulk) -> BulkResult:
    return _bulk_done(bulk, done=False)


def _recorded(bulk: _Bulk, action: str, ids: list[int], detail: str = "") -> BulkResult:
    """The bulk action's result, its events recorded (one statement for all the tasks)."""
    activity.record_tasks(action, ids, detail=detail, actor_id=bulk.user_id)
    return BulkResult(len(ids), [])


def _bulk_tag_add(bulk: _Bulk) -> BulkResult:
    return _recorded(bulk, "tagged", _tag_tasks(bulk.user_id, bulk.ids, bulk.tag), bulk.tag)


def _bulk_tag_remove(bulk: _Bulk) -> BulkResult:
    return _recorded(bulk, "untagged", _untag_tasks(bulk.user_id, bulk.ids, bulk.tag), bulk.tag)


def _bulk_priority(bulk: _Bulk) -> BulkResult:
    changes = Task.priority != bulk.priority
    ids = _bump(bulk.user_id, bulk.ids, changes, priority=bulk.priority)
    return _recorded(bulk, "edited", ids, _priority_words(bulk.priority))


def _bulk_due(bulk: _Bulk) -> BulkResult:
    changes = Task.due_date.is_distinct_from(bulk.due_date)
    # A task keeps its time on a new day; no day, no time.
    cleared = {} if bulk.due_date else {"due_time": None}
    ids = _bump(bulk.user_id, bulk.ids, changes, due_date=bulk.due_date, **cleared)
    reminders.reschedule(ids)
    return _recorded(bulk, "edited", ids, _due_words(bulk.due_date))


def _bulk_move(bulk: _Bulk) -> BulkResult:
    editable = Task.id.in_(_editable_ids(bulk.user_id, bulk.ids))
    activity.record_move(editable, bulk.project_id, actor_id=bulk.user_id)
    elsewhere = Task.project_id != bulk.project_id
    moved = _bump(bulk.user_id, bulk.ids, elsewhere, **moved_to(bulk.project_id))
    reminders.reschedule(moved)  # an assignee who is not a member there was unassigned
    return BulkResult(len(moved), [])


def _bulk_assign(bulk: _Bulk) -> BulkResult:
    person = bulk.assignee_id
    if person is None:
        assigned = Task.assignee_id.is_not(None)
        unassigned = _bump(bulk.user_id, bulk.ids, assigned, assignee_id=None)
        reminders.reschedule(unassigned)
        return _recorded(bulk, "unassigned", unassigned)
    member = access.is_member(Task.project_id, person)
    other = Task.assignee_id.is_distinct_from(person)
    changed = _bump(bulk.user_id, bulk.ids, member, other, assignee_id=person)
    reminders.reschedule(changed)
    notify_assigned(changed, person, bulk.user_id)
    refused = db.session.scalar(
        select(func.count(Task.id)).where(
            *access.reachable(Task, bulk.user_id, Role.EDITOR), Task.id.in_(bulk.ids), ~member
        )
    )
    result = _recorded(bulk, "assigned", changed, assignees.name_of(person))
    result.refused = refused
    return result


# Every action of the bulk form but "delete", which the view sends to soft_delete: the undo
# toast needs the deleted tasks themselves, not a count.
_BULK_HANDLERS: dict[str, Callable[[_Bulk], BulkResult]] = {
    "done": _bulk_done,
    "open": _bulk_open,
    "tag_add": _bulk_tag_add,
    "tag_remove": _bulk_tag_remove,
    "priority": _bulk_priority,
    "due": _bulk_due,
    "move": _bulk_move,
    "assign": _bulk_assign,
}


def _editable_ids(user_id: int, ids: list[int]):
    return select(Task.id).where(*access.reachable(Task, user_id, Role.EDITOR), Task.id.in_(ids))


def _bump(user_id: int, ids: Iterable[int], *conditions, **values) -> list[int]:
    """Set `values` on the tasks among `ids` that the user may edit and that meet
    `conditions`, moving their versions on (an open editor then sees the change); the ids of
    those that changed."""
    stmt = (
        update(Task)
        .where(*access.reachable(Task, user_id, Role.EDITOR), Task.id.in_(list(ids)), *conditions)
        .values(version=Task.version + 1, updated_at=utcnow(), **values)
        .returning(Task.id)
        .execution_options(synchronize_session=False)
    )
    return list(db.session.scalars(stmt))


def _tag_tasks(user_id: int, ids: list[int], name: str) -> list[int]:
    """Add the tag `name` (created when missing) to those of the tasks that lack it. The
    task_tags key decides which: a concurrent request adding the same tag waits, then skips
    the rows the first one added, so each task is tagged, and counted, once. A task that
    already has a tag by that name (someone else's) keeps it and gains no second one."""
    [tag] = resolve_tags(user_id, [name])
    rows = select(Task.id, literal(tag.id)).where(
        Task.id.in_(_editable_ids(user_id, ids)), ~_has_tag_named(tag.name_key)
    )
    added = db.session.scalars(
        insert_ignoring_duplicates(task_tags)
        .from_select(["task_id", "tag_id"], rows)
        .returning(task_tags.c.task_id)
    ).all()
    return _bump(user_id, added)


def _untag_tasks(user_id: int, ids: list[int], name: str) -> list[int]:
    """Remove the tags named `name` (whoever made them) from the tasks."""
    named = select(Tag.id).where(Tag.id == task_tags.c.tag_id, Tag.name_key == name.casefold())
    removed = db.session.scalars(
        delete(task_tags)
        .where(task_tags.c.task_id.in_(_editable_ids(user_id, ids)), named.exists())
        .returning(task_tags.c.task_id)
    ).all()
    return _bump(user_id, set(removed))


def _has_tag_named(name_key: str):
    """Whether the task (Task.id of the enclosing statement) has a tag called `name_key`."""
    return (
        select(task_tags.c.task_id)
        .join(Tag, Tag.id == task_tags.c.tag_id)
        .where(task_tags.c.task_id == Task.id, Tag.name_key == name_key)
        .exists()
    )


def move_all(from_project_id: int, to_project_id: int) -> int:
    """Move every live task of one project to another (before the first is deleted); the
    caller checked the user may add to the second. How many moved."""
    activity.record_move(Task.project_id == from_project_id, to_project_id)
    stmt = (
        update(Task)
        .where(Task.project_id == from_project_id, Task.deleted_at.is_(None))
        .values(version=Task.version + 1, updated_at=utcnow(), **moved_to(to_project_id))
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(stmt).rowcount
