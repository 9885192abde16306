"""The project list beside the task list: each live project the user is a member of, with its
open-task count (up to "99+"), from one query that the htmx fragments never pay for; and
what a project's page costs, however many projects and tasks there are."""

from __future__ import annotations

import html
import json
import re

from sqlalchemy import insert

from app.counts import CAP as OPEN_COUNT_CAP
from app.extensions import db
from app.models import Membership, Project, Role, Task, utcnow
from tests.helpers import (
    HTMX,
    add_member,
    add_project,
    add_task,
    count_queries,
    create_user,
    csrf_token,
    inbox_of,
    sent_statement,
    sqlite_steps,
)


def _nav(client, path="/tasks") -> dict[str, str]:
    """The project list's entries: name -> open count."""
    page = html.unescape(client.get(path).get_data(as_text=True))
    nav = page.split('<nav class="project-nav"')[1].split("</nav>")[0]
    pairs = re.findall(
        r'class="project-nav-name">([^<]*)</span><span class="project-count"[^>]*>([0-9+]+)', nav
    )
    return dict(pairs)


def test_the_list_shows_each_live_project_with_its_open_tasks(app, auth_client):
    create_user(app, email="eve@example.com", name="Eve")
    work = add_project(app, name="Work")
    shared = add_project(app, "eve@example.com", name="Eve's shared")
    add_member(app, shared, "ada@example.com", Role.VIEWER)
    add_project(app, "eve@example.com", name="Not mine")
    old = add_project(app, name="Old", archived_at=utcnow())
    add_task(app, project_id=work, title="open 1")
    add_task(app, project_id=work, title="open 2")
    add_task(app, project_id=work, title="done", done=True)
    add_task(app, project_id=work, title="deleted", deleted_at=utcnow())
    add_task(app, project_id=old, title="archived")
    add_task(app, "eve@example.com", project_id=shared, title="theirs")
    add_task(app, title="in the inbox")
    assert _nav(auth_client) == {"Inbox": "1", "Eve's shared": "1", "Work": "2"}
    assert list(_nav(auth_client)) == ["Inbox", "Eve's shared", "Work"]  # Inbox first
    # The same list beside a project's own page, which it marks as the current one.
    page = auth_client.get(f"/projects/{work}").get_data(as_text=True)
    assert f'href="/projects/{work}" aria-current="page"' in page


def test_an_htmx_change_to_tasks_has_the_list_fetch_its_counts_again(app, auth_client):
    """The list carries where to fetch it and on which event; a change made through htmx
    answers that event (a refused one does not), and the fetch gives the fresh counts."""
    inbox = auth_client.get("/tasks").get_data(as_text=True)
    with app.app_context():
        _, inbox_id = inbox_of()
    assert (
        f'<ul class="project-nav-list" hx-get="/projects/nav?current={inbox_id}" '
        'hx-trigger="tasks-changed from:body"' in inbox
    )
    token = csrf_token(auth_client, "/tasks")
    added = auth_client.post("/tasks", data={"title": "Fresh", "csrf_token": token}, headers=HTMX)
    assert added.status_code == 200
    assert added.headers["HX-Trigger"] == "tasks-changed"
    refused = auth_client.post("/tasks", data={"title": "", "csrf_token": token}, headers=HTMX)
    assert refused.status_code == 422 and "HX-Trigger" not in refused.headers
    listed = auth_client.get(f"/projects/nav?current={inbox_id}", headers=HTMX)
    fragment = listed.get_data(as_text=True)
    assert fragment.lstrip().startswith('<ul class="project-nav-list"')
    assert 'href="/tasks" aria-current="page"' in fragment
    assert re.search(r'Inbox</span><span class="project-count"[^>]*>1<', fragment)
    # Not a page of its own; a number it cannot read is refused, not guessed.
    assert auth_client.get("/projects/nav").status_code == 302
    for bad in ("x", "0", "1e3", str(10**30)):
        answer = auth_client.get(f"/projects/nav?current={bad}", headers=HTMX)
        assert answer.status_code == 400, bad


def _queries(app, client, url, **kwargs) -> int:
    with count_queries(app) as statements:
        response = client.get(url, **kwargs)
    assert response.status_code == 200
    return len(statements)


def _many_projects(app, n: int, tasks_each: int) -> None:
    """`n` more projects for Ada, each with `tasks_each` open tasks, inserted directly."""
    now = utcnow()
    with app.app_context():
        ada, _ = inbox_of()
        ids = db.session.scalars(
            insert(Project).returning(Project.id),
            [{"name": f"P{i}", "name_key": f"p{i}", "created_at": now} for i in range(n)],
        ).all()
        db.session.execute(
            insert(Membership),
            [{"project_id": pid, "user_id": ada, "role": Role.OWNER} for pid in ids],
        )
        db.session.execute(
            insert(Task),
            [
                {"project_id": pid, "created_by_id": ada, "title": f"T{k}"}
                for pid in ids
                for k in range(tasks_each)
            ],
        )
        db.session.commit()


def test_pages_cost_the_same_with_few_or_many_projects_and_fragments_skip_the_list(
    app, auth_client
):
    work = add_project(app, name="Work")
    add_task(app, project_id=work, title="w", tags=["a"])
    add_task(app, title="i", tags=["a"])
    urls = ("/tasks", f"/projects/{work}")

    def costs():
        return {
            (url, mode): _queries(app, auth_client, url, headers=HTMX if mode == "htmx" else {})
            for url in urls
            for mode in ("page", "htmx")
        }

    few = costs()
    _many_projects(app, 30, tasks_each=5)
    many = costs()
    assert few == many, (few, many)
    # The project list is one query of the full page, and only of the full page; a project's
    # page adds its own lookup (membership joined in) to what the Inbox costs, and its full
    # page its members (the bulk bar's "Assign to"; the Inbox has only its owner: no query).
    inbox_page, inbox_fragment = many[("/tasks", "page")], many[("/tasks", "htmx")]
    # The tag menu and the project list (the header's unread count comes with the user).
    assert inbox_page == inbox_fragment + 2
    assert many[(f"/projects/{work}", "page")] == inbox_page + 2
    assert many[(f"/projects/{work}", "htmx")] == inbox_fragment + 1
    assert inbox_page <= 5, many
    assert len(_nav(auth_client)) == 32


def _add_open_tasks(app, project_id: int, n: int) -> None:
    with app.app_context():
        ada, _ = inbox_of()
        db.session.execute(
            insert(Task),
            [{"project_id": project_id, "created_by_id": ada, "title": f"T{k}"} for k in range(n)],
        )
        db.session.commit()


def test_counts_stop_at_the_cap_and_read_99_plus(app, auth_client):
    exact, many = add_project(app, name="Exact"), add_project(app, name="Many")
    _add_open_tasks(app, exact, OPEN_COUNT_CAP)
    _add_open_tasks(app, many, OPEN_COUNT_CAP + 1)
    add_task(app, project_id=many, title="done", done=True)
    assert _nav(auth_client) == {"Inbox": "0", "Exact": "99", "Many": "99+"}
    page = html.unescape(auth_client.get("/projects").get_data(as_text=True))
    assert "99 open" in page and "99+ open" in page


def _nav_statement(app, client):
    """The project list's query, with its parameters, as a real page sends it."""
    return sent_statement(
        app, client, "/tasks", lambda sql: "FROM memberships" in sql and "open_tasks" in sql
    )


def _postgresql_task_rows(app, statement, parameters) -> int:
    """Rows PostgreSQL read from tasks (or its indexes) running the statement."""
    with app.app_context(), db.engine.connect() as conn:
        [[plan]] = conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters
        ).all()
    plan = plan if isinstance(plan, list) else json.loads(plan)

    def rows(node) -> int:
        here = 0
        if node.get("Relation Name") == "tasks":
            here = node["Actual Rows"] * node["Actual Loops"]
        return here + sum(rows(child) for child in node.get("Plans", []))

    return rows(plan[0]["Plan"])


def _inbox(app) -> int:
    with app.app_context():
        return inbox_of()[1]


def test_the_count_reads_no_tasks_at_thousands_of_open_tasks(app, auth_client):
    """The project list costs the same at 150 and at 3,000 open tasks, and reads no task: it
    reads the counter projects.open_tasks (counting them all made a page of 70,000 open tasks
    cost 20 ms more on PostgreSQL and 180 ms more on SQLite; counting up to the cap in each of
    20 projects still cost more than the rest of the navigation)."""
    work = add_project(app, name="Work")
    _add_open_tasks(app, work, 150)
    _add_open_tasks(app, _inbox(app), 150)
    with app.app_context():
        dialect = db.engine.dialect.name
    measure = sqlite_steps if dialect == "sqlite" else _postgresql_task_rows
    few = measure(app, *_nav_statement(app, auth_client))
    _add_open_tasks(app, work, 3_000)
    _add_open_tasks(app, _inbox(app), 3_000)
    many = measure(app, *_nav_statement(app, auth_client))
    assert many <= few, (few, many)  # steps are counted in hundreds: a first read may add one
    if dialect == "postgresql":
        assert many == 0, many
    statement, _ = _nav_statement(app, auth_client)
    assert " tasks" not in statement, statement
