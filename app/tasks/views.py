"""The views across projects: Today, Upcoming, Assigned to me and All, one statement a page.

A view lists tasks of every live (not archived) project the signed-in user is a member of,
with the list's URL filters, sorts and keyset pages (app/tasks/listing.py: the same cursor,
the same sort keys). One ORDER BY over all of a user's tasks would read and sort every one
of them for each page; instead each page is read as **per-"arm" top-N, merged**. An arm is
one slice of one list index fixed by equality, (project, done[, priority][, has a due
date]), read from the cursor on in index order with LIMIT n; the statement merges
arms x n rows and keeps n. The membership rows drive the arms, so the access check is the
statement itself (never a query per task or per project). Measured (README, "Performance";
the research behind these shapes, with every alternative's figures, is summarised there):
constant in the number of tasks, linear in the user's number of projects.

- PostgreSQL: `memberships JOIN projects JOIN LATERAL (arm UNION ALL arm ...)`, the arms
  returning (id, sort keys) from index-only scans; the page's rows are then fetched by id.
- SQLite (no LATERAL): an arm per project, its id bound (`_per_project`); on a first page
  whose arms all fix the same keys, the arms are merged by the compound's own ORDER BY and
  LIMIT, each read only as far as the page needs (`_merged`). Past MAX_SQLITE_ARMS, the arms
  as a correlated `t.id IN (SELECT id FROM (arm) UNION ALL ...)` on the membership row, which
  SQLite runs once per membership.

Inside an arm the keyset condition is the listing's row-value comparison on PostgreSQL; on
SQLite it is split into "pieces" (a > x | a = x AND b > y | ...), each its own LIMITed select,
because SQLite does not seek on a row value whose first column is an index expression (such
as `due_date IS NULL` or `lower(title)`). "Assigned to me" is a range on the assignee indexes
with a membership EXISTS per row read.

Not constant: Today and Upcoming in title or created order (no index both bounds the due
date and orders by title or id: each arm reads its project's matching tasks), and a text
search (as on a project's list).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from sqlalchemy import (
    Select,
    bindparam,
    exists,
    false,
    literal_column,
    select,
    true,
    union_all,
)
from sqlalchemy.sql.util import ClauseAdapter

from app.access import membership_join
from app.database import one_plan_for_every_value, planned_for_its_values
from app.extensions import db
from app.models import Membership, Project, Task
from app.tasks import search
from app.tasks.listing import (
    LISTED_COLUMNS,
    ListedTask,
    ListQuery,
    TaskPage,
    _comparable,
    _equals,
    _is_flag,
    _minus_priority,
    _row_after,
    _sort_keys,
    _term,
    attach_tags,
    bound_cursor,
    cursor_form,
    encode_cursor,
    fetch_page,
    local_time,
    overdue_condition,
    status_where,
    tag_ids,
    tagged,
)
from app.tasks.ordering import ordered

VIEWS = {
    "today": "Today",
    "upcoming": "Upcoming",
    "assigned": "Assigned to me",
    "all": "All tasks",
}
UPCOMING_DAYS = 7

tasks = Task.__table__
memberships = Membership.__table__
projects = Project.__table__
COLUMNS = (*LISTED_COLUMNS, Task.project_id)


@dataclass(slots=True)
class ViewedProject:
    """What a row in a view shows of its project (a chip and a link) and the user's role."""

    id: int
    name: str
    colour: str
    role: int


@dataclass(slots=True)
class ViewedTask(ListedTask):
    """A row of a view: a list row, plus its project (the row template shows it and offers
    only the controls the user's role in that project allows: access.can_edit)."""

    project_id: int = 0
    project: ViewedProject | None = None

    @property
    def role(self) -> int | None:
        """The user's role in the row's project: None when the project was not found (left
        between the page's two queries), which offers no controls."""
        return self.project.role if self.project is not None else None


def fetch_view(
    view: str, user_id: int, query: ListQuery, today: date, nav: list | None = None
) -> TaskPage:
    """One page of `view` for `user_id`: one query for the user's live projects (what the rows
    show of theirs, and the arms SQLite reads), one for the rows, one for their tags, whatever
    the page and however many projects. `nav`: the navigation's rows, which the full page has
    read already (projects.services.project_rows(archived=False): the same live projects,
    with the same columns), so that the page does not ask for them twice."""
    connection = db.session.connection()
    if nav is None:
        projects = _live_projects(connection, user_id)
    else:
        projects = {
            row.id: ViewedProject(row.id, row.name, row.colour, row.role)
            for row in sorted(nav, key=lambda row: row.id)
        }
    dialect = db.engine.dialect.name
    stmt, params = view_statement(dialect, view, query, today, len(projects))
    params.update({f"project{i}": pid for i, pid in enumerate(projects)})
    # A view's search leaves walk-or-index to the planner, which must know the term.
    with planned_for_its_values(connection) if query.q else contextlib.nullcontext():
        result = connection.execute(stmt, {"user_id": user_id, **params})
    width = len(LISTED_COLUMNS)
    rows = [ViewedTask(*row[:width], project_id=row[width]) for row in result.all()]
    for row in rows[: query.limit]:
        row.project = projects.get(row.project_id)
    return _page(connection, rows, query)


def fetch_project(project_id: int, query: ListQuery, today: date) -> TaskPage:
    """One page of one project's list (the caller has checked the user may see it).

    listing.fetch_page's one statement, but read as arms and pieces in two cases: the status
    "all" on both databases (one arm for open tasks, one for done: the list indexes lead
    with `done`, so one ORDER BY over both sorted all of the project's tasks, 39 ms a page of
    the bench's 100,000 on PostgreSQL), and on SQLite a page after a cursor (SQLite does not
    seek on a row value led by an index expression, so `(due_date IS NULL, due_date, id) >
    (...)` read the project from its first row: a page cost in proportion to its depth). A
    search's first page too, on both databases, from a statement built once per shape with
    its values bound (PostgreSQL: search.probed_page's, or probed_statuses' for "all";
    SQLite: the arms'): built anew for each keystroke, the search statement cost 1-1.5 ms
    of Python a request (`make bench-database-cpu`, 2026-12-04)."""
    dialect = db.engine.dialect.name
    connection = db.session.connection()
    if dialect == "postgresql" and _search_kind(query.q) == "indexed":
        # probed: the statement chooses walk or index as it runs, so one plan serves all
        with one_plan_for_every_value(connection):
            if query.after is not None:  # built per cursor (listing.page_statement)
                return fetch_page(project_id, query, today)
            shape = _shape("postgresql", "project", query, "")
            params = {"project_id": project_id, **_params("postgresql", query, today)}
            rows = connection.execute(_probed_first_page(shape), params).all()
    elif query.status == "all" or (dialect == "sqlite" and (query.after is not None or query.q)):
        stmt, params = view_statement(dialect, "project", query, today)
        rows = connection.execute(stmt, {"project_id": project_id, **params}).all()
    else:
        return fetch_page(project_id, query, today)
    width = len(LISTED_COLUMNS)
    return _page(connection, [ListedTask(*row[:width]) for row in rows], query)


def _page(connection, rows: list[ListedTask], query: ListQuery) -> TaskPage:
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    attach_tags(connection, rows)
    return TaskPage(rows, encode_cursor(rows[-1], query.sort) if more and rows else None)


_LIVE_PROJECTS = (
    select(Project.id, Project.name, Project.colour, Membership.role)
    .join(Membership, membership_join(Project.id, bindparam("user_id")))
    .where(Project.archived_at.is_(None))
    .order_by(Project.id)
)


def _live_projects(connection, user_id: int) -> dict[int, ViewedProject]:
    """The live projects `user_id` is a member of, by id (in id order)."""
    return {
        pid: ViewedProject(pid, name, colour, role)
        for pid, name, colour, role in connection.execute(_LIVE_PROJECTS, {"user_id": user_id})
    }


# ---- the statement ------------------------------------------------------------------------


def view_statement(
    dialect: str, view: str, query: ListQuery, today: date, projects: int = 0
) -> tuple[Select, dict]:
    """The SELECT for one page of `view` (page size + 1 rows) and its parameters (the caller
    adds user_id, and on SQLite `project0`..: the ids of the user's `projects` live projects).
    Built once per shape (the filters' values, the user and the project ids are bound
    parameters), and a page after a cursor once per shape and form of its cursor (its flags
    and NULLs decide which pieces remain; its other values are bound: listing.cursor_form).
    Building one cost 0.56 ms a deep page of a project on SQLite, which ran in 0.33 (bench
    data, 2026-12-05). Today's and Upcoming's pages after a cursor are built for it: the
    cursor's values decide which of their arms remain and whether a due date is in range."""
    params = _params(dialect, query, today)
    # Only SQLite's statement for Today, Upcoming and All has a shape per project count.
    per_project = dialect == "sqlite" and view in ("today", "upcoming", "all")
    shape = _shape(dialect, view, query, _search_kind(query.q), projects if per_project else 0)
    if query.after is None:
        return _first_page(shape), params
    if view in ("today", "upcoming"):
        return _build(shape, query.after, today), params
    form, values = cursor_form(shape.sort, query.after)
    return _page_after(shape, form), {**params, **values}


@dataclass(frozen=True)
class _Shape:
    dialect: str
    view: str
    sort: str
    status: str
    search: str  # "", "like" (a term too short for the index) or "indexed"
    tags: int
    prioritised: bool
    due: str
    limit: int
    projects: int  # SQLite's Today, Upcoming and All: one set of arms per project


def _params(dialect: str, query: ListQuery, today: date) -> dict:
    params = {
        "today": today,
        "tomorrow": today + timedelta(days=1),
        "week_end": today + timedelta(days=UPCOMING_DAYS),
    }
    if query.q:
        params.update(search.terms(query.q))
    if query.priority is not None:
        params["priority"] = query.priority
    if query.due == "overdue":
        params["now"] = local_time()
    for i, name in enumerate(query.tags):
        params[f"tag{i}"] = name.casefold()
        if dialect == "postgresql":
            params[f"tag{i}_ids"] = tag_ids(name.casefold())
    return params


@lru_cache(maxsize=512)
def _first_page(shape: _Shape) -> Select:
    return _build(shape, None, None)


@lru_cache(maxsize=512)
def _page_after(shape: _Shape, form: tuple) -> Select:
    """A page after a cursor of this form, of a view whose arms do not depend on the
    cursor's values or on the day (not Today's or Upcoming's)."""
    return _build(shape, bound_cursor(shape.sort, form), None)


def _shape(dialect: str, view: str, query: ListQuery, search: str, projects: int = 0) -> _Shape:
    return _Shape(
        dialect,
        view,
        query.sort,
        query.status,
        search,
        len(query.tags),
        query.priority is not None,
        query.due,
        query.limit + 1,
        projects,
    )


@lru_cache(maxsize=256)
def _probed_first_page(shape: _Shape) -> Select:
    """PostgreSQL, the first page of a project's search (search.probed_page: what the search-as-
    you-type asks for on each keystroke), built once per shape with every value a bound
    parameter (project_id, pattern and _params'), as listing.page_statement builds it anew
    for a page after a cursor. Building it took about 1 ms a request (its CTEs and arms
    repeat the filters three times), ten times the list's statement."""
    listed = select(Task).where(
        Task.project_id == bindparam("project_id"),
        Task.deleted_at.is_(None),
        *status_where(shape.status),
        *_filters(shape),
    )
    keys = _sort_keys(shape.sort)
    pattern = bindparam("pattern")
    return search.probed(shape.status, listed, keys, shape.limit, LISTED_COLUMNS, pattern)


@lru_cache(maxsize=512)
def _filters(shape: _Shape) -> tuple:
    """The URL's filters (listing._filtered's, as bound parameters) on the arms' table.

    The same objects for every arm of a statement: the SQLite search's one read of its index
    (search.condition's CTE) must be one CTE, not one an arm."""
    where = []
    if shape.search:
        phrase = bindparam("phrase") if shape.search == "indexed" else None
        project = bindparam("project_id") if shape.view == "project" else None
        where.append(search.condition(shape.dialect, bindparam("pattern"), phrase, project))
    if shape.prioritised:
        where.append(Task.priority == bindparam("priority"))
    day, week_end = bindparam("today"), bindparam("week_end")
    where += {
        "overdue": [overdue_condition(day, bindparam("now"))],
        "today": [Task.due_date == day],
        "week": [Task.due_date >= day, Task.due_date <= week_end],
        "none": [Task.due_date.is_(None)],
        "": [],
    }[shape.due]
    for i in range(shape.tags):
        where.append(tagged(shape.dialect, bindparam(f"tag{i}"), f"tag{i}_ids"))
    return tuple(where)


def _search_kind(q: str) -> str:
    if not q:
        return ""
    return "indexed" if search.terms(q)["phrase"] is not None else "like"


def _dated_range(view: str) -> list:
    """Today: due on or before today (overdue included). Upcoming: tomorrow .. a week on."""
    if view == "today":
        return [Task.due_date <= bindparam("today")]
    if view == "upcoming":
        return [Task.due_date >= bindparam("tomorrow"), Task.due_date <= bindparam("week_end")]
    return []


def _in_range(view: str, today: date, due: date | None) -> bool:
    if due is None:
        return False
    if view == "today":
        return due <= today
    return today + timedelta(days=1) <= due <= today + timedelta(days=UPCOMING_DAYS)


def _arm_specs(view: str, sort: str, status: str) -> list[tuple[bool, dict]]:
    """The values each arm fixes: [(done, {sort key position: value})]. Status "all" is two
    arms (open, done), so it too reads indexes instead of sorting every task."""
    dones = {"open": (False,), "done": (True,), "all": (False, True)}[status]
    fixed: list[dict] = [{}]
    if view in ("today", "upcoming"):
        if sort in ("due", "-due"):
            fixed = [{0: sort == "-due"}]  # dated tasks only: "no due date" false, "has one" true
        elif sort in ("priority", "-priority"):
            # One arm per priority value, so the due range is a range in each arm's slice.
            # (The cursor keeps the raw priority in both priority orders.)
            fixed = [{0: p, 1: False} for p in (3, 2, 1, 0)]
    return [(d, f) for d in dones for f in fixed]


def _fix(expr, value, dialect: str):
    """`expr` equal to `value`, written so that the database seeks on it.

    Flags: IS, not =: PostgreSQL rewrites "(due_date IS NULL) = false" into "due_date IS NOT
    NULL", which no longer matches the index expression; "IS false" is matched (as IS 0 is on
    SQLite). Other keys on SQLite: IS, not =: SQLite's constant propagation turns "due_date =
    '2026-01-01' AND (due_date IS NULL) IS 0" into "... AND ('2026-01-01' IS NULL) IS 0", the
    index's expression column is lost and the piece sorts the project; IS is not propagated."""
    if _is_flag(expr):
        return expr.is_(bool(value))
    if value is not None and dialect == "sqlite":
        return expr.is_not_distinct_from(_comparable(expr, value))
    return _equals(expr, value)


def _rank(expr, value):
    """A fixed key's value as it sorts (cursors keep the raw priority for -priority)."""
    if expr is _minus_priority:
        return -value
    return int(value) if isinstance(value, bool) else value


def _pieces(shape: _Shape, done: bool, fixed: dict, after, today, scope: list):
    """[(where, order)] for one arm: each an index range read in index order."""
    keys = _sort_keys(shape.sort)
    sqlite = shape.dialect == "sqlite"
    base = [*scope, Task.deleted_at.is_(None), Task.done.is_(done), *_filters(shape)]
    base += [_fix(keys[i][0], v, shape.dialect) for i, v in fixed.items()]
    dated = _dated_range(shape.view)
    p = len(fixed)  # the arm fixes a prefix of the keys
    if after is not None:
        for i in range(p):  # where does the arm's fixed prefix sit against the cursor's?
            expr, desc = keys[i]
            mine, theirs = _rank(expr, fixed[i]), _rank(expr, after[i])
            if mine != theirs:
                if (mine < theirs) != desc:
                    return []  # the whole arm sorts before the cursor
                after = None  # the whole arm sorts after it
                break

    def order(prefix_len: int):
        # SQLite: leave out keys fixed by equality (it sorts otherwise). PostgreSQL: the full
        # order (it drops constant keys itself; keeping due_date lets IS NULL arms match).
        return keys[p + prefix_len :] if sqlite else keys

    if after is None:
        return [(base + dated, order(0))]
    terms = [_term(e, d, v) for (e, d), v in zip(keys[p:], after[p:], strict=True)]
    uniform = all(t.can_be_after for t in terms) and len({t.desc for t in terms}) == 1
    if not sqlite and uniform:
        return [(base + dated + [_row_after(terms)], order(0))]
    pieces = []
    for j, term in enumerate(terms):
        if not term.can_be_after:
            continue
        equal = [_fix(t.expr, t.value, shape.dialect) for t in terms[:j]]
        fixed_due = [t.value for t in terms[:j] if t.expr is Task.due_date]
        if dated and fixed_due:
            # An equal due date replaces the view's range (SQLite would seek on the range and
            # sort); a cursor outside the range has no such rows.
            if not _in_range(shape.view, today, fixed_due[0]):
                continue
        else:
            equal = dated + equal
        if _is_flag(term.expr):
            # a flag "after" its value is the other value: an equality, then the next keys
            flag = _fix(term.expr, not term.value, shape.dialect)
            pieces.append((base + equal + [flag], order(j + 1)))
        else:
            value = _comparable(term.expr, term.value)
            beyond = term.expr < value if term.desc else term.expr > value
            pieces.append((base + equal + [beyond], order(j)))
    return pieces


_INDEX_OF_SORT = {
    "due": "due",
    "-due": "due_desc",
    "priority": "priority",
    "-priority": "priority_asc",
    "created": "created",
    "-created": "created",
    "title": "title",
}


def _key_labels(sort: str):
    return [e.label(f"k{i}") for i, (e, _) in enumerate(_sort_keys(sort))]


def _piece_selects(shape: _Shape, after, today, scope, columns, correlate=None):
    hint = None
    unbounded = shape.view in ("today", "upcoming") and shape.sort in (
        "title",
        "created",
        "-created",
    )
    if shape.dialect == "sqlite" and not unbounded:
        # SQLite without statistics sometimes reads an "... AND id > ?" piece through the
        # created index and filters: pin each piece to its sort's index. Today and Upcoming
        # in title or created order have no index that both bounds and orders them.
        lead = "assigned" if shape.view == "assigned" else "list"
        hint = f"INDEXED BY ix_tasks_{lead}_{_INDEX_OF_SORT[shape.sort]}"
    out = []
    for done, fixed in _arm_specs(shape.view, shape.sort, shape.status):
        for where, order in _pieces(shape, done, fixed, after, today, scope):
            stmt = select(*columns).where(*where).order_by(*ordered(order)).limit(shape.limit)
            if hint:
                stmt = stmt.with_hint(tasks, hint, "sqlite")
            out.append(stmt.correlate(correlate) if correlate is not None else stmt)
    return out


def _wrapped(stmt, *names):
    """SELECT names FROM (stmt): SQLite wants the ORDER BY / LIMIT arms of a UNION ALL
    wrapped. literal_column, not .subquery().c: building a subquery's column proxies was
    most of the cost of building these statements (cProfile)."""
    return select(*[literal_column(n) for n in names]).select_from(stmt.subquery())


def _empty() -> Select:
    """No row can follow the cursor."""
    return select(*COLUMNS).where(false())


def _member_projects():
    """The user's live projects: where All, Today and Upcoming read, and the access check."""
    return (
        memberships.join(projects, membership_join(projects.c.id, bindparam("user_id"))),
        projects.c.archived_at.is_(None),
    )


def _build(shape: _Shape, after, today) -> Select:
    keys = _sort_keys(shape.sort)
    if shape.view == "assigned":
        return _merged_arms(shape, after, today, keys, _assignee_scope())
    if shape.view == "project":
        return _merged_arms(shape, after, today, keys, [Task.project_id == bindparam("project_id")])
    scope = [Task.project_id == memberships.c.project_id]
    if shape.dialect == "postgresql":
        return _lateral(shape, after, today, keys, scope)
    per_project = _per_project(shape, after, today, keys)
    if per_project is not None:
        return per_project
    # SQLite (no LATERAL), for a user in very many projects: a correlated IN on the rowid, run
    # once per membership row (every arm's rows are read from the table to be sorted).
    selects = _piece_selects(shape, after, today, scope, (Task.id,), correlate=memberships)
    if not selects:
        return _empty()
    ids = (
        selects[0]
        if len(selects) == 1
        else union_all(*[_wrapped(s, "id").correlate(memberships) for s in selects])
    )
    source, member_where = _member_projects()
    outer, columns, outer_keys = _outer(shape.sort)
    return (
        select(*columns)
        .select_from(source.join(outer, outer.c.id.in_(ids)))
        .where(member_where)
        .order_by(*ordered(outer_keys))
        .limit(shape.limit)
    )


# SQLite joins at most 500 selects in one compound statement (SQLITE_MAX_COMPOUND_SELECT).
MAX_SQLITE_ARMS = 400


def _per_project(shape: _Shape, after, today, keys) -> Select | None:
    """SQLite, Today/Upcoming/All: the arms of each of the user's live projects (bound ids, in
    the order fetch_view lists them), each returning (id, keys) from its index alone; the merge
    keeps `limit` of them, and only those rows are read from the table. The membership check
    stays in the statement: the rows' projects must be the user's live ones. None past
    MAX_SQLITE_ARMS selects.

    Measured on the bench's data (Today of a user in 20 projects of 5,000 tasks): 0.34 ms,
    where the correlated form, which reads and sorts every arm's whole rows, took 1.4 ms."""
    if not shape.projects:
        return _empty()
    columns = (Task.id, *_key_labels(shape.sort))
    selects = []
    for i in range(shape.projects):
        scope = [Task.project_id == bindparam(f"project{i}")]
        selects += _piece_selects(shape, after, today, scope, columns)
        if len(selects) > MAX_SQLITE_ARMS:
            return None
    if not selects:
        return _empty()
    page = _merged(shape, after, keys, selects)
    if page is None:
        names = [c.name for c in columns]
        arms = (
            selects[0] if len(selects) == 1 else union_all(*[_wrapped(s, *names) for s in selects])
        ).subquery("arms")
        ranks = [(arms.c[f"k{i}"], d) for i, (_, d) in enumerate(keys)]
        page = (
            select(arms.c.id, *[k for k, _ in ranks])
            .order_by(*ordered(ranks))
            .limit(shape.limit)
            .subquery("page")
        )
    source, member_where = _member_projects()
    live = select(memberships.c.project_id).select_from(source).where(member_where)
    return (
        select(*COLUMNS)
        .select_from(page.join(tasks, tasks.c.id == page.c.id))
        .where(Task.project_id.in_(live))
        .order_by(*ordered([(page.c[f"k{i}"], d) for i, (_, d) in enumerate(keys)]))
    )


def _merged(shape: _Shape, after, keys, selects):
    """SQLite, a first page whose arms all fix the same keys to the same values (every view
    and status but Today's and Upcoming's priority orders): the arms unLIMITed under the
    compound's own ORDER BY and LIMIT, which SQLite runs as a merge ("MERGE (UNION ALL)"),
    each arm a coroutine read in index order only as far as the page needs. None otherwise
    (arms fixing different values, and the pieces after a cursor, need their own LIMITs).

    The ORDER BY leaves out the keys every arm fixes: SQLite sorts an arm whose ORDER BY has
    a key it fixed by an expression (`(due_date IS NULL) IS 0`), reading its whole range.
    Measured on the bench's data (Today of a user in 20 projects of 5,000 tasks): 6,500
    virtual-machine steps and 0.16 ms, where each arm LIMITed and the merge sorted took
    26,500 steps and 1.1 ms (20 x 51 rows read)."""
    specs = _arm_specs(shape.view, shape.sort, shape.status)
    if after is not None or len({tuple(fixed.items()) for _, fixed in specs}) != 1:
        return None
    if len(selects) == 1:
        return selects[0].subquery("page")
    fixed = len(specs[0][1])
    order = [(literal_column(f"k{i}"), d) for i, (_, d) in enumerate(keys) if i >= fixed]
    return (
        union_all(*[s.order_by(None).limit(None) for s in selects])
        .order_by(*ordered(order))
        .limit(shape.limit)
        .subquery("page")
    )


def _lateral(shape: _Shape, after, today, keys, scope) -> Select:
    """PostgreSQL. Late row lookup: the arms return (id, keys) only, which the list indexes
    answer without the table (index-only scans); the page's rows are then fetched by id.
    Reading the listed columns in every arm fetched 20 x 51 table rows (906 buffers against
    217, measured)."""
    arm_columns = (Task.id, *_key_labels(shape.sort))
    selects = _piece_selects(shape, after, today, scope, arm_columns, correlate=memberships)
    if not selects:
        return _empty()
    names = [c.name for c in arm_columns]
    inner = (
        selects[0]
        if len(selects) == 1
        else union_all(*[_wrapped(s, *names).correlate(memberships) for s in selects])
    )
    arms = inner.lateral("t")
    source, member_where = _member_projects()
    page = (
        select(arms.c.id, *[arms.c[f"k{i}"] for i in range(len(keys))])
        .select_from(source.join(arms, true()))
        .where(member_where)
        .order_by(*ordered([(arms.c[f"k{i}"], d) for i, (_, d) in enumerate(keys)]))
        .limit(shape.limit)
        .subquery("page")
    )
    # A LATERAL lookup by id with LIMIT 1, not a join: PostgreSQL cannot flatten or hash it,
    # so the page's rows are always primary-key probes (a plain join, and a LATERAL without
    # the LIMIT, which it flattens, were planned as a hash join over a Seq Scan of all tasks
    # at 10,000 rows: tests/test_list_plans.py).
    row = select(*COLUMNS).where(Task.id == page.c.id).correlate(page).limit(1).lateral("row")
    return (
        select(*[row.c[c.name] for c in COLUMNS])
        .select_from(page.join(row, true()))
        .order_by(*ordered([(page.c[f"k{i}"], d) for i, (_, d) in enumerate(keys)]))
    )


def _assignee_scope() -> list:
    """Ranges on the assignee indexes; the access check is a primary-key probe per row read
    (a member of the task's project, the project live)."""
    member = (
        exists()
        .select_from(memberships.join(projects, projects.c.id == memberships.c.project_id))
        .where(
            membership_join(Task.project_id, bindparam("user_id")),
            projects.c.archived_at.is_(None),
        )
    )
    return [Task.assignee_id == bindparam("user_id"), member]


def _merged_arms(shape: _Shape, after, today, keys, scope) -> Select:
    """The arms (and pieces) of one index range, each LIMITed, merged by one ORDER BY over at
    most arms x pieces x limit rows: "Assigned to me", and one project's list on SQLite
    (whose first pages SQLite merges as it reads: _merged)."""
    columns = (*COLUMNS, *_key_labels(shape.sort))
    selects = _piece_selects(shape, after, today, scope, columns)
    if not selects:
        return _empty()
    if len(selects) == 1:
        return selects[0].with_only_columns(*COLUMNS)
    merged = _merged(shape, after, keys, selects) if shape.dialect == "sqlite" else None
    if merged is None:
        names = [c.name for c in COLUMNS] + [f"k{i}" for i in range(len(keys))]
        merged = union_all(*[_wrapped(s, *names) for s in selects]).subquery("arms")
    # typed, so dates and booleans come back as such (an untyped column is a string on SQLite)
    return (
        select(*[literal_column(c.name, c.type) for c in COLUMNS])
        .select_from(merged)
        .order_by(*ordered([(literal_column(f"k{i}"), d) for i, (_, d) in enumerate(keys)]))
        .limit(shape.limit)
    )


_OUTER = tasks.alias("t")


@lru_cache(maxsize=16)
def _outer(sort: str):
    """The alias the SQLite statement reads the page's rows through, with the columns and the
    sort's keys re-pointed at it: once per sort (adapting them per call cost ~1 ms)."""
    adapter = ClauseAdapter(_OUTER)

    def adapt(expr):
        return adapter.traverse(
            expr.__clause_element__() if hasattr(expr, "__clause_element__") else expr
        )

    return (
        _OUTER,
        [adapt(c) for c in COLUMNS],
        [(adapt(e), d) for e, d in _sort_keys(sort)],
    )
