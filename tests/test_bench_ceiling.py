"""The raw ceiling stays honest: for the same user and data it renders Tasklane's list page
and toggle fragment to the same size (within 10%) with the same tasks in the same order.

If Tasklane's templates or list query change, bench/raw.py must follow, or the benchmark's
"list ÷ raw" ratio would compare different pages.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

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
    first_task_id=100_000,  # the bench's ids are 6 digits, and a row's bytes count them
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


class _Rows(HTMLParser):
    """The byte spans of the task rows (`role="row"`, `id="task-<id>"`) in a page."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=False)
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.spans: list[tuple[int, int]] = []
        self.depth = 0  # open divs inside the current row
        self.start = 0
        self.feed(text)

    def here(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag, attrs):
        if tag != "div":
            return
        if self.depth:
            self.depth += 1
        elif ("role", "row") in attrs and re.fullmatch(r"task-\d+", dict(attrs).get("id", "")):
            self.depth, self.start = 1, self.here()

    def handle_endtag(self, tag):
        if tag == "div" and self.depth:
            self.depth -= 1
            if not self.depth:
                self.spans.append((self.start, self.here() + len("</div>")))


def _rows(client) -> tuple[str, list[str]]:
    text = client.get("/tasks?limit=50").get_data(as_text=True)
    return text, [text[start:end] for start, end in _Rows(text).spans]


def test_rows_carry_no_token_and_no_dot_of_their_own(clients):
    """The plain forms' CSRF token is on the page once (#row-actions), not twice a row; a
    palette tag's dot is a class, not an SVG; htmx's target and swap are the list's."""
    (tasklane, _), _ = clients
    text, rows = _rows(tasklane)
    assert len(rows) == 50
    assert re.search(r'<form id="row-actions" method="post"><input [^>]*name="csrf_token"', text)
    for row in rows:
        assert "csrf_token" not in row and "<svg" not in row and "hx-target" not in row
        assert 'form="row-actions"' in row


def test_a_list_row_averages_at_most_1000_bytes(clients):
    """The bench's rows (about 3 tags, a due date and a priority each) stay light: the page
    and every search keystroke carry 50 of them."""
    (tasklane, _), _ = clients
    _, rows = _rows(tasklane)
    assert len(rows) == 50
    assert sum(row.count('class="chip') for row in rows) >= 2 * len(rows)  # the bench's tags
    average = sum(len(row.encode()) for row in rows) / len(rows)
    assert average <= 1000, average
