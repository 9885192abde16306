"""The task list reads pages straight from its indexes: first page, deep keyset pages and a
tag filter, checked with EXPLAIN on the exact statements a real request sends.

The data is large enough (20,000 tasks for one user, others' tasks beside them, statistics
fresh from ANALYZE) that the planner picks what it would pick in production, with no
planner settings changed."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, insert, select, text

from app.extensions import db
from app.models import Project, Tag, Task, task_tags, utcnow
from app.projects.services import add_inboxes
from app.tasks.listing import _sort_keys, encode_cursor
from tests.helpers import HTMX, app_today, inbox_of

MINE = 20_000
OTHERS = 2
THEIRS = 2_000


def _seed(app) -> int:
    """20,000 tasks in Ada's Inbox (30% undated, 30% done, 3 of 50 tags each), 2,000 in each
    other user's Inbox; returns the id of Ada's Inbox."""
    rnd = random.Random(8)
    today = app_today(app)
    now = utcnow()
    with app.app_context():
        owner, inbox = inbox_of()
        db.session.execute(
            insert(Tag.__table__),
            [
                {"owner_id": owner, "name": f"tag{i}", "name_key": f"tag{i}", "colour": "#336699"}
                for i in range(50)
            ],
        )
        owners = [owner] + [
            db.session.execute(
                text(
                    "INSERT INTO users (email, password_hash, display_name, is_admin, is_active,"
                    " must_change_password, created_at) VALUES (:e, 'x', 'X', false, true, false,"
                    " :now) RETURNING id"
                ),
                {"e": f"other{i}@example.com", "now": now},
            ).scalar_one()
            for i in range(OTHERS)
        ]
        add_inboxes(owners[1:])
        inboxes = dict(db.session.execute(select(Project.inbox_of_id, Project.id)).all())
        rows = [
            {
                "project_id": inboxes[who],
                "created_by_id": who,
                "title": f"Task {i}",
                "notes": "",
                "done": rnd.random() < 0.3,
                "priority": rnd.randint(0, 3),
                "due_date": None
                if rnd.random() < 0.3
                else today + timedelta(days=rnd.randint(-30, 300)),
                "position": 0,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            for who in owners
            for i in range(MINE if who == owner else THEIRS)
        ]
        db.session.execute(insert(Task.__table__), rows)
        tag_ids = list(db.session.scalars(select(Tag.id).where(Tag.owner_id == owner)))
        task_ids = db.session.scalars(select(Task.id).where(Task.project_id == inbox)).all()
        db.session.execute(
            insert(task_tags),
            [{"task_id": t, "tag_id": g} for t in task_ids for g in rnd.sample(tag_ids, 3)],
        )
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
        return inbox


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


def _list_statement(app, client, url: str, headers=None):
    """The SQL and parameters of the page query a real request for `url` sends."""
    with app.app_context():
        engine = db.engine
    seen = []

    def capture(_conn, _cursor, statement, parameters, *_):
        if re.search(r"FROM tasks\b", statement) and "LIMIT" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        assert client.get(url, headers=headers or {}).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert len(seen) == 1, seen
    return seen[0]


def _plan(app, statement, parameters) -> list[str]:
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            return [row[-1] for row in rows]
        rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters)
        return [row[0] for row in rows]


@pytest.fixture
def big_list(app, auth_client):
    return _seed(app)


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
    for name, (url, headers) in _cases(app, big_list).items():
        plan = _plan(app, *_list_statement(app, auth_client, url, headers))
        text_plan = "\n".join(plan)
        assert plan[0].startswith("Limit"), f"{name}:\n{text_plan}"
        # Past an undated cursor the order is just the id (the other keys are constant), so
        # the primary key may serve it as well as the list index.
        index = "(ix_tasks_list_due|pk_tasks)" if "undated" in name else "ix_tasks_list_due"
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
        text_plan = "\n".join(_plan(app, *_list_statement(app, auth_client, url, headers)))
        assert "Seq Scan on tasks" not in text_plan and "SCAN tasks" not in text_plan, text_plan
        ordered = "ix_tasks_list_due" in text_plan and "Sort" not in text_plan
        by_tag = "ix_task_tags_tag_id" in text_plan or "task_tags USING" in text_plan
        assert ordered or by_tag, text_plan


def test_list_pages_are_read_in_index_order_on_sqlite(app, auth_client, big_list):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's planner is checked here")
    for name, (url, headers) in _cases(app, big_list).items():
        plan = _plan(app, *_list_statement(app, auth_client, url, headers))
        text_plan = "\n".join(plan)
        assert any("tasks USING INDEX ix_tasks_list_due" in line for line in plan), (
            f"{name}:\n{text_plan}"
        )
        assert "TEMP B-TREE FOR ORDER BY" not in text_plan, f"{name} sorts:\n{text_plan}"


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
    statement, parameters = _list_statement(
        app, auth_client, f"/tasks?sort={sort}&after={cursor}", HTMX
    )
    text_plan = "\n".join(_plan(app, statement, parameters))
    assert index in text_plan, text_plan
    assert "Sort" not in text_plan and "TEMP B-TREE FOR ORDER BY" not in text_plan, text_plan


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
            plan = _plan(app, statement, parameters)
            scans = [line for line in plan if FULL_SCAN.search(line.strip())]
            assert not scans, (name, statement, plan)
