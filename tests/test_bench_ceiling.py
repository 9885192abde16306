"""The raw ceiling stays honest: for the same user and data it renders Tasklane's list page
and toggle fragment to the same size (within 10%) with the same tasks in the same order.

If Tasklane's templates or list query change, bench/raw.py must follow, or the benchmark's
"list ÷ raw" ratio would compare different pages.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from app.timezones import today_for
from bench import raw
from bench.seed import TOKENS, Size, credentials, generate, insert
from bench.settings import USER_AGENT

SMALL = Size(
    tasks_a=300,
    others=2,
    tasks_other=5,
    tasks_a1k=10,
    tasks_a10k=10,
    users_total=60,  # the projects' members come from the users without tasks
    pool=20,
    tasks_shared=20,
    tasks_per_project=5,
)
TITLES = re.compile(r'class="task-title" href="[^"]*">([^<]*)</a>')


@pytest.fixture
def seeded(app, database_url):
    from app.passwords import hash_password

    with app.app_context():
        data = generate(SMALL, hash_password("bench-password"), datetime.now(UTC), today_for(None))
    insert(database_url, data)
    return data.meta


@pytest.fixture
def clients(app, database_url, seeded):
    cookie, csrf = credentials(app, TOKENS["a"])
    ceiling = raw.create_app(database_url, app.config["SECRET_KEY"])
    pair = []
    for flask_app in (app, ceiling):
        client = flask_app.test_client()
        client.set_cookie("tasklane_session", cookie)
        pair.append(client)
    yield pair, csrf
    ceiling.extensions["raw_db"].close()


def _within_10_percent(a: bytes, b: bytes) -> bool:
    return abs(len(a) - len(b)) <= 0.1 * len(a)


def test_raw_list_page_matches_tasklane(clients, seeded):
    (tasklane, ceiling), _ = clients
    ours = tasklane.get("/tasks", headers={"User-Agent": USER_AGENT})
    theirs = ceiling.get("/tasks", headers={"User-Agent": USER_AGENT})
    assert ours.status_code == theirs.status_code == 200
    assert _within_10_percent(ours.data, theirs.data), (len(ours.data), len(theirs.data))
    titles = TITLES.findall(ours.get_data(as_text=True))
    assert len(titles) == 50
    assert TITLES.findall(theirs.get_data(as_text=True)) == titles
    # Rows read by the row template's names (app/tasks/listing.ListedTask): a name raw lacks
    # renders as nothing, which the size alone would not show.
    marker = b'class="has-notes"'
    assert ours.data.count(marker) == theirs.data.count(marker) > 0


def test_raw_toggle_matches_tasklane(clients, seeded):
    (tasklane, ceiling), csrf = clients
    task_id = seeded["toggle_ids"][0]
    headers = {"User-Agent": USER_AGENT, "X-CSRFToken": csrf, "HX-Request": "true"}
    path = f"/tasks/{task_id}/toggle"
    ours = tasklane.post(path, data={"done": "1"}, headers=headers)
    assert tasklane.post(path, data={"done": "0"}, headers=headers).status_code == 200
    theirs = ceiling.post(path, data={"done": "1"}, headers=headers)
    assert ours.status_code == theirs.status_code == 200
    assert _within_10_percent(ours.data, theirs.data), (len(ours.data), len(theirs.data))
    assert b"is-done" in ours.data and b"is-done" in theirs.data
    assert TITLES.findall(ours.get_data(as_text=True)) == TITLES.findall(
        theirs.get_data(as_text=True)
    )


def test_raw_refuses_what_tasklane_refuses(clients, seeded):
    """The ceiling does the same checks: a CSRF token and a valid session."""
    (_, ceiling), _ = clients
    path = f"/tasks/{seeded['toggle_ids'][0]}/toggle"
    assert ceiling.post(path, data={"done": "1"}, headers={"HX-Request": "true"}).status_code == 400
    ceiling.delete_cookie("tasklane_session")
    assert ceiling.get("/tasks").status_code == 401


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_raw_list_query_writes_tasklanes_conditions_and_order(dialect):
    """Plans depend on the exact SQL (SQLite uses the (project_id, done) index for `done IS 0`,
    not for `done IS false`; an ORDER BY that no index matches sorts the whole list), so raw
    writes what SQLAlchemy writes for Tasklane's first page."""
    from datetime import date

    from sqlalchemy.dialects import postgresql, sqlite

    from app.tasks.listing import ListQuery, page_statement

    statement = page_statement(1, ListQuery(), date(2026, 1, 1))
    compiled = str(
        statement.compile(dialect={"sqlite": sqlite, "postgresql": postgresql}[dialect].dialect())
    ).replace("tasks.", "")
    where, order = compiled.split("WHERE ", 1)[1].split(" ORDER BY ", 1)
    order = order.split("LIMIT", 1)[0].replace(" ASC", "").strip()
    sql = " ".join(raw.PAGE_SQL_BY_DB["sqlite" if dialect == "sqlite" else "pg"].split())
    for condition in where.split(" AND ")[1:]:  # the first is the project, a bound parameter
        assert condition.strip() in sql
    assert f"ORDER BY {order} LIMIT" in sql
