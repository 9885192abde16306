"""The task list's query: filters from the URL, sorting, and keyset pagination.

Every view of the list is a URL (?q=&status=&tag=&priority=&due=&sort=&after=), so it can be
bookmarked and Back works. Pages are fetched by keyset ("after this row"), never by OFFSET,
so page 2,000 costs what page 1 costs.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field, fields, replace
from datetime import date, time, timedelta
from itertools import takewhile
from typing import NamedTuple
from urllib.parse import urlencode

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Integer,
    Result,
    Select,
    SQLColumnExpression,
    and_,
    bindparam,
    cast,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import BindParameter

from app.extensions import db
from app.models import Priority, Tag, Task, task_tags
from app.tasks import search
from app.tasks.ordering import ordered

STATUSES = ("open", "done", "all")
DUE_FILTERS = ("overdue", "today", "week", "none")
SORTS = ("due", "-due", "priority", "-priority", "created", "-created", "title")
PRIORITY_NAMES = {p.name.lower(): p.value for p in Priority}
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_QUERY = 200


class BadListQuery(ValueError):
    """A list URL with a value we cannot use; the message says which."""


@dataclass(frozen=True)
class ListQuery:
    """One view of the list (app/tasks/forms.py reads it from the URL: list_query)."""

    q: str = ""
    status: str = "open"
    tags: tuple[str, ...] = ()
    priority: int | None = None
    due: str = ""
    sort: str = "due"
    after: tuple | None = None
    limit: int = DEFAULT_LIMIT
    raw_after: str = field(default="", compare=False)

    def url_args(self, **changes) -> list[tuple[str, str]]:
        """This view as query arguments (defaults left out), with `changes` applied."""
        query = replace(self, **changes) if changes else self
        args: list[tuple[str, str]] = []
        if query.q:
            args.append(("q", query.q))
        if query.status != "open":
            args.append(("status", query.status))
        args += [("tag", t) for t in query.tags]
        if query.priority is not None:
            args.append(("priority", Priority(query.priority).name.lower()))
        if query.due:
            args.append(("due", query.due))
        if query.sort != "due":
            args.append(("sort", query.sort))
        if query.limit != DEFAULT_LIMIT:
            args.append(("limit", str(query.limit)))
        if query.raw_after:
            args.append(("after", query.raw_after))
        return args

    def query_string(self, **changes) -> str:
        return urlencode(self.url_args(**changes))

    @property
    def is_filtered(self) -> bool:
        return bool(self.q or self.tags or self.priority is not None or self.due)


# ---- sorting ----------------------------------------------------------------------------
# Each sort is a list of (expression, descending) ending in Task.id, so the order is total
# and a cursor (the last row's values) names one position. Tasks without a due date come
# last in both due orders: "no due date" (false/true) is the first key ("has a due date",
# descending, in "-due").
#
# Every sort runs in one direction, so that one index serves it (read backwards for the
# descending ones) and a cursor is one row-value comparison. The expressions are the ones the
# list indexes are built on (app/models.py), written with no bound parameters, so that both
# databases match them to the index and read rows in order instead of sorting.

_no_due = Task.due_date.is_(None)
_has_due = Task.due_date.is_not(None)
# "Highest priority first, then soonest due": ascending on -priority keeps one direction.
_minus_priority = -Task.priority
_FLAGS = (_no_due, _has_due)


def _is_flag(expr) -> bool:
    return any(expr is flag for flag in _FLAGS)  # `is`: == on expressions builds SQL


# Titles compare through SQL's lower() on both sides (the cursor keeps the raw title), so
# the database and the cursor always agree on the order, whatever lower() does to Unicode.
_title_key = func.lower(Task.title)


def _sort_keys(sort: str):
    return {
        "due": [(_no_due, False), (Task.due_date, False), (Task.id, False)],
        "-due": [(_has_due, True), (Task.due_date, True), (Task.id, True)],
        "priority": [
            (_minus_priority, False),
            (_no_due, False),
            (Task.due_date, False),
            (Task.id, False),
        ],
        "-priority": [
            (Task.priority, False),
            (_no_due, False),
            (Task.due_date, False),
            (Task.id, False),
        ],
        "created": [(Task.id, False)],
        "-created": [(Task.id, True)],
        "title": [(_title_key, False), (Task.id, False)],
    }[sort]


def _cursor_values(task: Task, sort: str) -> list:
    due = task.due_date.isoformat() if task.due_date else None
    no_due = 1 if task.due_date is None else 0
    return {
        "due": [no_due, due, task.id],
        "-due": [no_due, due, task.id],
        "priority": [task.priority, no_due, due, task.id],
        "-priority": [task.priority, no_due, due, task.id],
        "created": [task.id],
        "-created": [task.id],
        "title": [task.title, task.id],
    }[sort]


def encode_cursor(task: Task, sort: str) -> str:
    raw = json.dumps(_cursor_values(task, sort), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, sort: str) -> tuple:
    try:
        padded = token + "=" * (-len(token) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: json nests lists by recursion ("[[[[..." is a valid-looking cursor).
        raise BadListQuery("This page link is not valid; start from the first page.") from None
    keys = _sort_keys(sort)
    if not isinstance(values, list) or len(values) != len(keys):
        raise BadListQuery("This page link is not valid; start from the first page.")
    try:
        return tuple(_coerce(expr, value) for (expr, _), value in zip(keys, values, strict=True))
    except (TypeError, ValueError):
        raise BadListQuery("This page link is not valid; start from the first page.") from None


def _coerce(expr, value):
    """A cursor value checked against its key's type (cursors come from the URL)."""
    if value is None:
        if expr is Task.due_date:
            return None
        raise TypeError("only the due date can be empty")
    if expr is Task.due_date:
        return date.fromisoformat(value)
    if expr is _title_key:
        if not isinstance(value, str) or len(value) > 200:
            raise TypeError("a title")
        return value
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
        raise ValueError("ids, priorities and flags are small non-negative integers")
    if _is_flag(expr):
        # The cursor keeps "no due date" as 0/1 for every due order.
        if value > 1:
            raise ValueError("the no-due flag is 0 or 1")
        return bool(value) if expr is _no_due else not value
    return value


class _Term(NamedTuple):
    """One sort key with the cursor's value for it."""

    expr: SQLColumnExpression
    desc: bool
    value: object
    # False when no row can sort after the cursor on this key, only equal to it: a NULL due
    # date, or a "no due date" flag already at its last value.
    can_be_after: bool


def _after(keys, values):
    """Rows strictly after `values` in the order `keys` (a keyset condition), and the keys
    still needed to order them.

    Written so an index on the keys can start reading at the cursor: keys that can only be
    equal to the cursor's value become an equality prefix (an undated cursor sits in the
    "no due date" group, where every due date is NULL and nothing sorts after it) and drop out
    of the ORDER BY (SQLite sorts otherwise: it does not treat `IS NULL` columns as constant).
    The rest is one row-value comparison. A fixed key in the middle (an undated cursor in a
    priority sort) falls back to the expanded OR form, bounded by its first key.
    """
    terms = [_term(expr, desc, value) for (expr, desc), value in zip(keys, values, strict=True)]
    fixed = list(takewhile(lambda term: not term.can_be_after, terms))
    rest = terms[len(fixed) :]
    if not rest:
        return false(), keys  # the cursor is the last row there can be
    prefix = [_equals(term.expr, term.value) for term in fixed]
    order = [(term.expr, term.desc) for term in rest]
    if all(term.can_be_after for term in rest) and len({term.desc for term in rest}) == 1:
        return and_(*prefix, _row_after(rest)), order
    return and_(*prefix, _not_before(rest[0]), _expanded_after(rest)), order


def _term(expr, desc: bool, value) -> _Term:
    fixed = value is None or (_is_flag(expr) and value is (not desc))
    return _Term(expr, desc, value, not fixed)


def _row_after(terms: list[_Term]):
    """(a, b, c) > (x, y, z), or < when the keys descend: one comparison an index serves."""
    row = tuple_(*[term.expr for term in terms])
    cursor = tuple_(*[_comparable(term.expr, term.value) for term in terms])
    return row < cursor if terms[0].desc else row > cursor


def _expanded_after(terms: list[_Term]):
    """a > x OR (a = x AND b > y) OR ..., with no "after" clause for a fixed key."""
    clauses = []
    for i, term in enumerate(terms):
        if term.can_be_after:
            equal_before = [_equals(t.expr, t.value) for t in terms[:i]]
            clauses.append(and_(*equal_before, _beyond(term)))
    return or_(*clauses)


def _beyond(term: _Term):
    value = _comparable(term.expr, term.value)
    return term.expr < value if term.desc else term.expr > value


def _not_before(term: _Term):
    """The first key's bound (a >= x), which lets an index start at the cursor where the OR
    form alone would not."""
    value = _comparable(term.expr, term.value)
    return term.expr <= value if term.desc else term.expr >= value


BOUND = "bound"  # in a cursor's form: a value bound as a parameter


def cursor_form(sort: str, after: tuple) -> tuple[tuple, dict]:
    """A cursor split in two: its form, what decides which pieces follow it (its flags and its
    NULLs, kept; every other value replaced by BOUND), and those other values, the parameters
    after0, after1, .. of a statement built from bound_cursor(sort, form). So a page after a
    cursor is built once per form, not per cursor (views._page_after)."""
    form, values = [], {}
    for i, ((expr, _), value) in enumerate(zip(_sort_keys(sort), after, strict=True)):
        if value is None or _is_flag(expr):
            form.append(value)
        else:
            form.append(BOUND)
            values[f"after{i}"] = value
    return tuple(form), values


def bound_cursor(sort: str, form: tuple) -> tuple:
    """The cursor a statement is built for from cursor_form's `form`: each BOUND value a
    parameter of the key's type (the raw priority for -priority, as cursors keep it)."""
    return tuple(
        bindparam(f"after{i}", type_=Task.priority.type if expr is _minus_priority else expr.type)
        if value is BOUND
        else value
        for i, ((expr, _), value) in enumerate(zip(_sort_keys(sort), form, strict=True))
    )


def _comparable(expr, value):
    if expr is _title_key:
        return func.lower(value)
    if isinstance(value, BindParameter):  # bound_cursor's parameters: typed already
        return -value if expr is _minus_priority else value
    if expr is _minus_priority:
        return literal(-value, Task.priority.type)
    if _is_flag(expr):
        return literal(value, Boolean)
    return literal(value, expr.type)


def _equals(expr, value):
    return expr.is_(None) if value is None else expr == _comparable(expr, value)


# ---- filtering --------------------------------------------------------------------------


def overdue_condition(today, now):
    """Overdue in SQL, as dates.is_overdue: due before `today`, or today before `now` (the
    user's time of day). Values or bound parameters alike."""
    return or_(Task.due_date < today, and_(Task.due_date == today, Task.due_time < now))


def local_time() -> time:
    """The signed-in user's time of day, on the same clock as their today (app/timezones)."""
    from flask_login import current_user

    from app.timezones import now_for

    return now_for(current_user).time()


def status_where(status: str) -> list:
    """The conditions of the URL's status: open, done or all."""
    return {"open": [Task.done.is_(False)], "done": [Task.done.is_(True)], "all": []}[status]


def _filtered(project_id: int, query: ListQuery, today: date) -> Select:
    """The project's listed tasks with the URL's filters but the search (page_statement's)."""
    stmt = select(Task).where(
        Task.project_id == project_id, Task.deleted_at.is_(None), *status_where(query.status)
    )
    if query.priority is not None:
        stmt = stmt.where(Task.priority == query.priority)
    if query.due == "overdue":
        stmt = stmt.where(overdue_condition(today, local_time()))
    elif query.due == "today":
        stmt = stmt.where(Task.due_date == today)
    elif query.due == "week":
        stmt = stmt.where(Task.due_date >= today, Task.due_date <= today + timedelta(days=7))
    elif query.due == "none":
        stmt = stmt.where(Task.due_date.is_(None))
    if query.tags:  # the dialect only then: without tags the statement needs no database
        dialect = db.engine.dialect.name
        for name in query.tags:
            key = name.casefold()
            ids = tag_ids(key) if dialect == "postgresql" else None
            stmt = stmt.where(tagged(dialect, key, ids))
    return stmt


def tagged(dialect: str, name_key, ids=None) -> ColumnElement[bool]:
    """Tasks with a tag of this name (a value or a bound parameter), whoever made the tag:
    everyone who sees a shared task sees its tags (README, "Tags on shared tasks").

    On PostgreSQL `ids` are that name's tag ids (tag_ids(), or the name of a parameter
    standing for them), checked against the task's own copy of its tag ids (tasks.tag_ids,
    kept by triggers on task_tags: migration a3e7c1f9d4b2), so that the planner plans with
    the array's statistics: for a common tag it walks the list index in order and checks
    each row it fetches anyway (a page of a tag on one task in 18 read 850 buffers at
    100,000 tasks: 0.4 ms, EXPLAIN ANALYZE); for a rare one it fetches the tag's tasks from
    the array's GIN index and sorts just those. Probing task_tags' key for each row passed
    instead read 2,750 buffers (2.9 ms), and joining tags inside the check 22,600.
    An EXISTS on task_tags beside the array would double-count: the planner, taking the two
    as independent, expected a few rows of a common tag and sorted the whole tag.
    SQLite keeps the join: its per-row lookups are cheap (281 hundred steps a page of a 6%
    tag, against 475 with the ids)."""
    if dialect == "postgresql":
        # The ids are written into the statement when it runs (literal_execute), not sent as
        # parameters: psycopg prepares a statement after its fifth run on a connection, and
        # PostgreSQL may then keep one generic plan for every value, which cannot tell a rare
        # tag from a common one: it walked a whole project for a rare tag (tests/test_search,
        # test_the_tag_filter_plans_with_the_tags_statistics_on_postgresql). Written in, each
        # tag's statement is its own and planned for its tags. The CAST types an empty list.
        name, value = (ids, None) if isinstance(ids, str) else (None, list(ids))
        ids = cast(bindparam(name, value, type_=_IDS, literal_execute=True), _IDS)
        return TASK_TAG_IDS.overlap(ids)
    return (
        select(task_tags.c.task_id)
        .join(Tag, Tag.id == task_tags.c.tag_id)
        .where(task_tags.c.task_id == Task.id, Tag.name_key == name_key)
        .exists()
    )


_IDS = ARRAY(Integer)
# PostgreSQL's copy of each task's tag ids, which no model describes (app/unmodelled.py).
TASK_TAG_IDS = literal_column("tasks.tag_ids", _IDS)


_TAG_IDS = select(Tag.id).where(Tag.name_key == bindparam("name_key"))


def tag_ids(name_key: str) -> list[int]:
    """The ids of the tags named `name_key`, whoever made them (tagged() on PostgreSQL)."""
    return list(db.session.connection().execute(_TAG_IDS, {"name_key": name_key}).scalars())


@dataclass(slots=True)
class ListedTag:
    name: str
    colour: str


@dataclass(slots=True)
class ListedTask:
    """One row of the list, as the row template reads it: plain values, not a mapped Task.

    A page shows up to 200 rows and 600 tags; hydrating mapped objects for them was the
    page's largest cost after rendering (README, "Performance"). The toggle answers with these
    rows too; the editor's views render mapped Tasks through the same row template.

    The row template's contract (templates/tasks/_row.html and the macros it calls): a task
    has `id`, `title`, `has_notes` (the list shows a marker, never the text), `done`,
    `priority`, `due_date`, `recurrence`, `assignee_name` (the assignee's display name, None
    when nobody is assigned), `due_time` (None: no time) and `tags`, each tag a `name` and a
    `colour`. These fields are that contract; Task and Tag provide the same names
    (tests/test_tasks_rows.py holds them to it).
    """

    id: int
    title: str
    has_notes: bool
    done: bool
    priority: int
    due_date: date | None
    recurrence: str | None
    assignee_name: str | None = None
    due_time: time | None = None
    tags: list[ListedTag] = field(default_factory=list)

    @classmethod
    def of(cls, task: Task) -> ListedTask:
        """A mapped task as a row (tags not attached)."""
        return cls(
            id=task.id,
            title=task.title,
            has_notes=task.has_notes,
            done=task.done,
            priority=task.priority,
            due_date=task.due_date,
            recurrence=task.recurrence,
            assignee_name=task.assignee_name,
        )

    @classmethod
    def from_result(cls, result: Result) -> list[ListedTask]:
        """The rows of `result` (a statement selecting or returning LISTED_COLUMNS), tags not
        attached.

        The columns are matched to the fields by name once per result, then each row fills
        the fields in that order: reading each row's values by name (`cls(**row._mapping)`)
        cost over ten times as much (timeit, SQLAlchemy 2.1: 31 us a row against 2.3 us, so
        1.4 ms more on a page of 50)."""
        columns = tuple(result.keys())
        if columns != _ROW_FIELDS:
            raise TypeError(f"columns {columns} are not a ListedTask's {_ROW_FIELDS}")
        return [cls(*row) for row in result.all()]  # .all(): psycopg fetches at once


# The fields a row of the list's query fills; tags come from a second query (attach_tags).
_ROW_FIELDS = tuple(f.name for f in fields(ListedTask) if f.name != "tags")


@dataclass
class TaskPage:
    tasks: list[ListedTask]
    next_cursor: str | None


LISTED_COLUMNS = (
    Task.id,
    Task.title,
    (Task.notes != "").label("has_notes"),
    Task.done,
    Task.priority,
    Task.due_date,
    Task.recurrence,
    Task.assignee_name.label("assignee_name"),
    Task.due_time,
)


def page_statement(project_id: int, query: ListQuery, today: date, columns=None) -> Select:
    """The SELECT for one page (one row more than the page, to know whether there is more),
    of `columns` (None: the mapped Task)."""
    keys = _sort_keys(query.sort)
    stmt = _filtered(project_id, query, today)
    if query.after is not None:
        condition, keys = _after(keys, query.after)
        stmt = stmt.where(condition)
    dialect = db.engine.dialect.name if query.q else None
    terms = search.terms(query.q) if query.q else None
    if dialect == "postgresql" and terms["phrase"] is not None:
        # the statement, not the planner's estimate, chooses walk or index (search.PROBE)
        columns = columns or LISTED_COLUMNS
        return search.probed(query.status, stmt, keys, query.limit + 1, columns, terms["pattern"])
    if terms:
        stmt = stmt.where(search.condition(dialect, **terms, project=project_id))
    if columns is not None:
        stmt = stmt.with_only_columns(*columns)
    return stmt.order_by(*ordered(keys)).limit(query.limit + 1)


def fetch_page(project_id: int, query: ListQuery, today: date) -> TaskPage:
    """One page of the list in one query, plus one for the page's tags.

    On the session's connection, which does not autoflush: callers commit their changes
    before they list (every view that lists after a change does)."""
    stmt = page_statement(project_id, query, today, LISTED_COLUMNS)
    connection = db.session.connection()
    rows = ListedTask.from_result(connection.execute(stmt))
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    attach_tags(connection, rows)
    return TaskPage(rows, encode_cursor(rows[-1], query.sort) if more and rows else None)


def attach_tags(connection: Connection, tasks: list[ListedTask]) -> None:
    """Each task's tags, ordered by name as Task.tags is (read on the session's connection,
    which the caller has in hand: asking the session for it again costs more than the read)."""
    if not tasks:
        return
    by_id = {task.id: task for task in tasks}
    ids = list(by_id)
    stmt, value = (_TAGS_OF_ONE, ids[0]) if len(ids) == 1 else (_TAGS_OF_MANY, ids)
    for task_id, name, colour in connection.execute(stmt, {"task_ids": value}).all():
        by_id[task_id].tags.append(ListedTag(name, colour))


# Built once and run on the session's connection: building them, and the ORM's execution
# layer, cost more than running them (a toggle's one row). One task gets its own statement
# because an expanding IN is rendered anew on every execution (0.03-0.05 ms, measured).
_TAGS = (
    select(task_tags.c.task_id, Tag.name, Tag.colour)
    .join(Tag, Tag.id == task_tags.c.tag_id)
    .order_by(Tag.name_key)
)
_TAGS_OF_ONE = _TAGS.where(task_tags.c.task_id == bindparam("task_ids"))
_TAGS_OF_MANY = _TAGS.where(task_tags.c.task_id.in_(bindparam("task_ids", expanding=True)))
