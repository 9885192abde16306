"""The task list reads pages straight from its indexes: first page, deep keyset pages and a
tag filter, checked with EXPLAIN on the exact statements a real request sends.

The data is large enough (20,000 tasks for one user, others' tasks beside them, statistics
fresh from ANALYZE) that the planner picks what it would pick in production, with no
planner settings changed."""

from __future__ import annotations

import random
import re

import pytest
from sqlalchemy import event, insert, select

from app.extensions import db
from app.models import Role, Task, utcnow
from app.tasks.listing import SORTS as _SORTS
from app.tasks.listing import _sort_keys, encode_cursor
from tests.helpers import (
    HTMX,
    add_member,
    add_project,
    app_today,
    create_user,
    generic_plan,
    inbox_of,
    list_statement,
    query_plan,
    seed_big_list,
    sqlite_steps,
    task_row,
)


def _cursor_at(app, project: int, offset: int, sort: str = "due") -> str:
    """The "load more" cursor after the row at `offset` of the project's open tasks."""
    with app.app_context():
        keys = _sort_keys(sort)
        task = db.session.scalar(
            select(Task)
            .where(Task.project_id == project, Task.deleted_at.is_(None), Task.done.is_(False))
            .order_by(*[e.desc() if d else e.asc() for e, d in keys])
            .offset(offset)
            .limit(1)
        )
        return encode_cursor(task, sort)


@pytest.fixture
def big_list(app, auth_client):
    return seed_big_list(app)


def _cases(app, project):
    # Of ~14,000 open tasks ~9,800 have a due date: one cursor in each group.
    dated = _cursor_at(app, project, 5_000)
    undated = _cursor_at(app, project, 12_000)
    return {
        "first page": ("/tasks", None),
        "deep page, dated": (f"/tasks?after={dated}", HTMX),
        "deep page, undated": (f"/tasks?after={undated}", HTMX),
    }


def test_list_pages_are_read_in_index_order_on_postgresql(app, auth_client, big_list):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the PostgreSQL planner is checked here; SQLite below")
    cases = [
        (f"{name} ({kind})", url, plan)
        for name, (url, headers) in _cases(app, big_list).items()
        for sent in [list_statement(app, auth_client, url, headers)]
        for kind, plan in [
            ("custom", query_plan(app, *sent)),
            ("generic", generic_plan(app, *sent)),
        ]
    ]
    for name, url, plan in cases:
        text_plan = "\n".join(plan)
        assert plan[0].startswith("Limit"), f"{name}:\n{text_plan}"
        # Past an undated cursor the order is just the id (the other keys are constant), so
        # the primary key or the "created" sort's index (a project's open tasks by id) may
        # serve it as well as the list index.
        undated = "(ix_tasks_list_due|ix_tasks_list_created|pk_tasks)"
        index = undated if "undated" in name else "ix_tasks_list_due"
        assert re.search(rf"Index Scan using {index} on tasks", text_plan), f"{name}:\n{text_plan}"
        assert "Sort" not in text_plan, f"{name} sorts:\n{text_plan}"
        assert "Seq Scan on tasks" not in text_plan, f"{name}:\n{text_plan}"
        if "after=" in url:
            # The cursor is an index bound (the scan starts there), not a filter on the way.
            assert re.search(r"Index Cond: .*(ROW\(|id > )", text_plan), f"{name}:\n{text_plan}"


def test_tag_filter_never_sorts_the_owners_tasks(app, auth_client, big_list):
    """With a tag, the planner may read the list index in order and probe each row's tags,
    or fetch the tag's rows and sort just those (a tag holds ~6% here): either way the cost
    follows the page or the tag, never the user's whole list."""
    dated = _cursor_at(app, big_list, 5_000)
    for url, headers in [
        ("/tasks?tag=tag7&sort=due", None),
        (f"/tasks?tag=tag7&after={dated}", HTMX),
    ]:
        text_plan = "\n".join(query_plan(app, *list_statement(app, auth_client, url, headers)))
        assert "Seq Scan on tasks" not in text_plan and "SCAN tasks" not in text_plan, text_plan
        ordered = "ix_tasks_list_due" in text_plan and "Sort" not in text_plan
        by_tag = "ix_task_tags_tag_id" in text_plan or "task_tags USING" in text_plan
        assert ordered or by_tag, text_plan


def test_list_pages_are_read_in_index_order_on_sqlite(app, auth_client, big_list):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's planner is checked here")
    for name, (url, headers) in _cases(app, big_list).items():
        statement, parameters = list_statement(app, auth_client, url, headers)
        plan = query_plan(app, statement, parameters)
        text_plan = "\n".join(plan)
        assert any("tasks USING INDEX ix_tasks_list_due" in line for line in plan), (
            f"{name}:\n{text_plan}"
        )
        if "after=" not in url:
            assert "TEMP B-TREE FOR ORDER BY" not in text_plan, f"{name} sorts:\n{text_plan}"
        else:
            # After a cursor: pieces (app/tasks/views.fetch_project), each an index range
            # that starts at the cursor; only their merge (a page or three) is sorted.
            assert not _view_plan_problems(app, statement, parameters, "project", "due")
            assert re.search(r"ix_tasks_list_due \(.*(due_date>\?|id>\?)", text_plan), text_plan


@pytest.mark.parametrize(
    ("sort", "index"),
    [
        ("-due", "ix_tasks_list_due_desc"),
        ("priority", "ix_tasks_list_priority"),
        ("-priority", "ix_tasks_list_priority_asc"),
        ("title", "ix_tasks_list_title"),
    ],
)
def test_every_sort_has_an_index_that_serves_deep_pages(app, auth_client, big_list, sort, index):
    cursor = _cursor_at(app, big_list, 5_000, sort)
    statement, parameters = list_statement(
        app, auth_client, f"/tasks?sort={sort}&after={cursor}", HTMX
    )
    text_plan = "\n".join(query_plan(app, statement, parameters))
    assert index in text_plan, text_plan
    assert "Sort" not in text_plan, text_plan
    assert not _view_plan_problems(app, statement, parameters, "project", sort), text_plan


def _statements(app, send) -> list[tuple[str, object]]:
    """Every statement (with its parameters) that `send()`'s request runs."""
    with app.app_context():
        engine = db.engine
    seen = []

    def capture(_conn, _cursor, statement, parameters, *_):
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "INSERT")):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        assert send().status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return seen


# A whole-table read: SQLite's SCAN without an index, PostgreSQL's Seq Scan.
FULL_SCAN = re.compile(
    r"^(?:SCAN (?:tasks|task_tags\w*)(?! USING)|.*Seq Scan on (?:tasks|task_tags))"
)


def test_one_task_requests_read_only_that_task_and_its_tags(app, auth_client, big_list):
    """Toggle, editor, row and task page touch one task: no statement may read a whole table
    (a nested join of task_tags made SQLite read all 60,000 of them for every toggle)."""
    with app.app_context():
        task_id = db.session.scalar(
            select(Task.id).where(Task.project_id == big_list, Task.done.is_(False)).limit(1)
        )
    token = auth_client.get("/tasks").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', token).group(1)
    htmx = {**HTMX, "X-CSRFToken": token}
    requests = {
        "toggle": lambda: auth_client.post(
            f"/tasks/{task_id}/toggle", data={"done": "1"}, headers=htmx
        ),
        "editor": lambda: auth_client.get(f"/tasks/{task_id}/edit", headers=HTMX),
        "row": lambda: auth_client.get(f"/tasks/{task_id}/row", headers=HTMX),
        "task page": lambda: auth_client.get(f"/tasks/{task_id}"),
    }
    for name, send in requests.items():
        for statement, parameters in _statements(app, send):
            plan = query_plan(app, statement, parameters)
            scans = [line for line in plan if FULL_SCAN.search(line.strip())]
            assert not scans, (name, statement, plan)


# ---- the views across projects (app/tasks/views.py) ---------------------------------------

VIEW_PROJECTS = 5  # Bea's projects Ada is in, beside her Inbox (one of them archived)
VIEW_TASKS = 1_500  # in each project, and in one Ada is not in


def _seed_views(app) -> None:
    """Ada's Inbox and five of Bea's projects (editor, viewer, one archived) and one she is
    not in, each with 1,500 tasks (30% done, 25% undated, due within 60 days either side of
    today, a third of them assigned to Ada); statistics fresh from ANALYZE."""
    rnd = random.Random(16)
    today = app_today(app)
    now = utcnow()
    create_user(app, "bea@example.com", name="Bea")
    ours = []
    for i in range(VIEW_PROJECTS):
        archived = {"archived_at": now} if i == 0 else {}
        project = add_project(app, "bea@example.com", f"Shared {i}", **archived)
        add_member(app, project, "ada@example.com", Role.VIEWER if i == 1 else Role.EDITOR)
        ours.append(project)
    theirs = add_project(app, "bea@example.com", "Not Ada's")
    with app.app_context():
        ada, inbox = inbox_of()
        bea, _ = inbox_of("bea@example.com")
        rows = [
            task_row(
                rnd,
                project,
                bea,
                f"{rnd.choice(['Alpha', 'beta', 'Gamma'])} {project} {i}",
                (-60, 60),
                0.25,
                today,
                now,
                assignee_id=ada if rnd.random() < 0.33 else None,
            )
            for project in [inbox, *ours, theirs]
            for i in range(VIEW_TASKS)
        ]
        db.session.execute(insert(Task.__table__), rows)
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")


# Today and Upcoming in title or created order: no index both bounds the due date and orders
# by title or id, so each project's matching tasks are read and sorted (README, "Performance").
UNBOUNDED = {(v, s) for v in ("today", "upcoming") for s in ("title", "created", "-created")}


def _view_plan_problems(app, statement, parameters, view, sort) -> list[str]:
    """What in the plan of one view page is not "each arm reads its index in order"."""
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)
            generic = generic_plan(app, statement, parameters, explain="EXPLAIN (FORMAT JSON)")
            return [
                *_pg_view_problems(plan.scalar()[0]["Plan"], view, sort),
                *(f"generic: {p}" for p in _pg_view_problems(generic[0][0]["Plan"], view, sort)),
            ]
        rows = list(conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
    problems = []
    for _id, _parent, _, line in rows:
        on_tasks = re.match(r"(SCAN|SEARCH) (tasks|t)\b", line)
        if on_tasks and not re.search(r"USING (COVERING )?INDEX ix_tasks_|PRIMARY KEY", line):
            problems.append(line)
    # An arm that sorts: a temp b-tree beside an arm's SEARCH (the merge's is at the top).
    arms = {parent for _, parent, _, line in rows if line.startswith("SEARCH tasks") and parent}
    for _, parent, _, line in rows:
        sorts = line == "USE TEMP B-TREE FOR ORDER BY" and parent in arms
        if sorts and (view, sort) not in UNBOUNDED:
            problems.append("an arm sorts")
    return problems


def _pg_view_problems(node, view, sort, in_arm=False) -> list[str]:
    problems = []
    if node.get("Relation Name") == "tasks":
        index = node.get("Index Name", "")
        if node["Node Type"] == "Bitmap Heap Scan":  # the index is its Bitmap Index Scan's
            index = " ".join(child.get("Index Name", "") for child in node.get("Plans", []))
        if not index.startswith(("ix_tasks_list_", "ix_tasks_assigned_", "pk_tasks")):
            problems.append(f"{node['Node Type']} {index}")
    if (
        node["Node Type"] in ("Sort", "Incremental Sort")
        and in_arm
        and (view, sort) not in UNBOUNDED
    ):
        problems.append(f"{node['Node Type']} in an arm: {node.get('Sort Key')}")
    for child in node.get("Plans", []):
        # an arm: the inner side of the LATERAL join, or a subplan's Limit
        arm = in_arm or (
            node["Node Type"] == "Nested Loop" and child.get("Parent Relationship") == "Inner"
        )
        arm = arm or child.get("Parent Relationship") == "SubPlan"
        problems += _pg_view_problems(child, view, sort, arm)
    return problems


@pytest.mark.parametrize("view", ["today", "upcoming", "assigned", "all"])
def test_each_view_reads_its_indexes_and_never_sorts_all_tasks(app, auth_client, view):
    """Every sort and status, first page and the page after it: each arm of the statement is
    an index range read in order (PostgreSQL: EXPLAIN; SQLite: EXPLAIN QUERY PLAN)."""
    _seed_views(app)
    for sort in _SORTS:
        for status in ("open", "all"):
            url = f"/tasks/{view}?sort={sort}&status={status}"
            statement, parameters = list_statement(app, auth_client, url, HTMX)
            problems = _view_plan_problems(app, statement, parameters, view, sort)
            assert not problems, (url, problems, statement)
            page = auth_client.get(url, headers=HTMX).get_data(as_text=True)
            more = re.search(r'hx-get="([^"]+after=[^"]+)"', page)
            assert more, f"{url} has a second page"
            more_url = more.group(1).replace("&amp;", "&")
            statement, parameters = list_statement(app, auth_client, more_url, HTMX)
            problems = _view_plan_problems(app, statement, parameters, view, sort)
            assert not problems, (more_url, problems, statement)


PAGE_ROWS = 51  # a page's 50 rows and the one that says there is more


@pytest.mark.parametrize("q", ["", "alpha"])
def test_a_projects_open_and_done_tasks_are_two_arms_never_one_sort(app, auth_client, q):
    """Status "all" on a project's list, every sort, its first page and the next, without a
    search and with one: the list indexes lead with `done`, so open and done tasks are read
    as two arms, each in index order, and whatever sorts sorts a page from each. One ORDER BY
    over both statuses sorted the whole project on PostgreSQL: 39 ms a page of the bench's
    100,000 tasks, 110-290 ms a search (views.fetch_project, search.probed_statuses)."""
    _seed_views(app)
    for sort in _SORTS:
        url = f"/tasks?sort={sort}&status=all" + (f"&q={q}" if q else "")
        page = auth_client.get(url, headers=HTMX).get_data(as_text=True)
        more = re.search(r'hx-get="([^"]+after=[^"]+)"', page)
        assert more, f"{url} has a second page"
        for sent in (url, more.group(1).replace("&amp;", "&")):
            statement, parameters = list_statement(app, auth_client, sent, HTMX)
            with app.app_context(), db.engine.connect() as conn:
                postgresql = conn.dialect.name == "postgresql"
            if not postgresql:
                problems = _view_plan_problems(app, statement, parameters, "project", sort)
                assert not problems, (sent, problems, statement)
                continue
            ran = "EXPLAIN (ANALYZE, FORMAT JSON)"
            with app.app_context(), db.engine.connect() as conn:
                custom = conn.exec_driver_sql(f"{ran} {statement}", parameters).scalar()
            generic = generic_plan(app, statement, parameters, explain=ran)[0]
            for kind, plan in (("custom", custom), ("generic", generic)):
                sorted_rows = _sorted_rows(plan[0]["Plan"])
                assert max(sorted_rows, default=0) <= 2 * PAGE_ROWS, (sent, kind, plan)


def _sorted_rows(node) -> list[int]:
    """The rows each Sort in an EXPLAIN ANALYZE plan (JSON) was given to sort."""
    found = []
    if node["Node Type"] in ("Sort", "Incremental Sort"):
        found.append(sum(c["Actual Rows"] * c["Actual Loops"] for c in node["Plans"]))
    for child in node.get("Plans", []):
        found += _sorted_rows(child)
    return found


@pytest.mark.parametrize("view", ["today", "upcoming", "all"])
def test_sqlite_views_read_each_project_by_its_own_arms(app, auth_client, view):
    """SQLite, Today/Upcoming/All: an arm per project (its id bound), merged, then only the
    page's rows read whole (app/tasks/views._per_project), not a correlated subquery per
    membership that reads and sorts every arm's rows (1.4 ms against 0.34 ms at the bench's
    20 projects)."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's statement; PostgreSQL reads the arms through LATERAL")
    _seed_views(app)
    for url in (f"/tasks/{view}", f"/tasks/{view}?sort=priority&status=all"):
        statement, parameters = list_statement(app, auth_client, url, HTMX)
        with app.app_context(), db.engine.connect() as conn:
            plan = [
                r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            ]
        assert not any(line.startswith("CORRELATED LIST SUBQUERY") for line in plan), plan
        assert any(line.startswith(("MERGE (UNION ALL)", "COMPOUND QUERY")) for line in plan), plan


@pytest.mark.parametrize(
    "url",
    ["/tasks/today", "/tasks/upcoming?status=all", "/tasks/all", "/tasks/assigned?status=all"],
)
def test_a_sqlite_first_view_page_reads_about_a_page_not_a_page_a_project(app, auth_client, url):
    """SQLite, a first page whose arms fix the same keys: one compound ORDER BY ... LIMIT,
    which SQLite merges reading each arm only as far as the page needs (views._merged), not a
    LIMITed page from every arm, sorted. Measured here (5 live projects): Today 44 hundred
    steps against the Inbox list's 13; each arm LIMITed took 94."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's statement; PostgreSQL reads the arms through LATERAL")
    _seed_views(app)
    statement, parameters = list_statement(app, auth_client, url, HTMX)
    with app.app_context(), db.engine.connect() as conn:
        plan = [r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
    assert "MERGE (UNION ALL)" in plan, plan
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan[:-1], plan  # the 51 rows' own order
    if "assigned" in url:
        return  # each row it reads is a membership probe too: no like-for-like figure
    view = sqlite_steps(app, statement, parameters)
    inbox = sqlite_steps(app, *list_statement(app, auth_client, "/tasks", HTMX))
    assert view <= 4 * inbox, (view, inbox)


@pytest.mark.parametrize("sort", ["due", "priority", "title"])
def test_a_deep_page_costs_sqlite_what_an_early_one_costs(app, auth_client, big_list, sort):
    """SQLite does not seek on a row value led by an index expression (`due_date IS NULL`,
    `-priority`, `lower(title)`): a page after row 9,000 used to read the 9,000 rows before it
    (measured: 30x the steps of page 2). Read as pieces, each an index range from the cursor,
    a page costs about the same wherever it is."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's own cost; PostgreSQL seeks on the row value (tests above)")
    steps = {}
    for offset in (100, 9_000):
        cursor = _cursor_at(app, big_list, offset, sort)
        url = f"/tasks?sort={sort}&after={cursor}"
        steps[offset] = sqlite_steps(app, *list_statement(app, auth_client, url, HTMX))
    assert steps[9_000] <= 2 * steps[100] + 10, steps
