"""Every integer a request carries, at and past the edges of what the columns hold (INTEGER:
2**31 - 1 on PostgreSQL; SQLite overflows past 2**63 - 1) and in forms int() would take but
a browser never sends: each answers its 4xx with a message saying what was wrong (or is
accepted where it is in range and means something), never a 5xx, and a refused request
changes no row."""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import Task, utcnow
from tests.helpers import HTMX, add_task, create_user, csrf_token, get_task, login

TOP = 2**31 - 1  # the largest id or version a column holds on both databases
EDGES = [
    str(TOP), str(TOP + 1), str(2**63 - 1), str(2**63), str(-(2**63) - 1), "9" * 20,
    "1e3", " 7 ", "0x10", "٣", "²", "-1", "0", "1_0", "+5", "7", "", "x" * 5000,
]  # fmt: skip

NUMBER_MESSAGES = ("Not a valid integer value.", "Number must be between")


def _rows(app):
    """Every task and task-tag row, every column: what a refused request must leave alone."""
    with app.app_context():
        tasks = db.session.execute(text("SELECT * FROM tasks ORDER BY id")).all()
        links = db.session.execute(text("SELECT * FROM task_tags ORDER BY 1, 2")).all()
        return [tuple(row) for row in tasks], [tuple(row) for row in links]


@pytest.fixture
def world(app):
    """Ada signed in (her CSRF token sent with every request), with a task, a deleted task
    waiting for undo, and Eve with a task of her own."""
    create_user(app)
    create_user(app, email="eve@example.com", name="Eve")
    task = add_task(app, title="Original", tags=["home"])
    deleted = add_task(app, title="Binned", deleted_at=utcnow())
    add_task(app, "eve@example.com", title="Eve's", tags=["private"])
    client = app.test_client()
    login(client)
    client.environ_base["HTTP_X_CSRFTOKEN"] = csrf_token(client, "/tasks")
    return SimpleNamespace(client=client, task=task, deleted=deleted)


def _sweep(app, send, accepted: dict[str, int], refused: int, *messages: str):
    """Send every edge value and compare {value: status} with the expected map, checking on
    the way that each refusal says one of `messages` and changed nothing."""
    seen, expected = {}, {}
    for value in EDGES:
        before = _rows(app)
        response = send(value)
        seen[value[:30]] = response.status_code
        expected[value[:30]] = accepted.get(value, refused)
        if response.status_code == refused:
            body = response.get_data(as_text=True).lower()
            assert any(m.lower() in body for m in messages), value[:30]
            assert _rows(app) == before, value[:30]
    assert seen == expected


def test_editor_version(app, world):
    task = world.task

    def send(value):
        data = {"title": "Changed", "priority": "0", "version": value}
        return world.client.post(f"/tasks/{task}", data=data, headers=HTMX)

    # In range but not the task's version (1): a conflict, shown with the current version.
    stale = {str(TOP): 409, "7": 409}
    _sweep(app, send, stale, 422, "reload the page and try again")
    assert get_task(app, task).title == "Original"
    conflict = send(str(TOP)).get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in conflict


def test_editor_repeat_interval(app, world):
    task = world.task

    def send(value):
        version = str(get_task(app, task).version)
        data = {"title": "Original", "repeat": "daily", "interval": value, "version": version}
        return world.client.post(f"/tasks/{task}", data=data, headers=HTMX)

    # Empty means the default (every 1 day).
    _sweep(app, send, {"7": 200, "": 200}, 422, *NUMBER_MESSAGES)
    assert get_task(app, task).recurrence == "FREQ=DAILY"
    assert (
        send("7").status_code == 200 and get_task(app, task).recurrence == "FREQ=DAILY;INTERVAL=7"
    )


def test_editor_priority(app, world):
    task = world.task

    def send(value):
        version = str(get_task(app, task).version)
        data = {"title": "Original", "priority": value, "version": version}
        return world.client.post(f"/tasks/{task}", data=data, headers=HTMX)

    _sweep(app, send, {"0": 200}, 422, "valid choice")


def test_bulk_ids(app, world):
    def send(value):
        return world.client.post("/tasks/bulk", data={"action": "done", "ids": value}, headers=HTMX)

    # In range, but no task of hers: 404, as for another user's task.
    _sweep(app, send, {str(TOP): 404, "7": 404}, 422, "Unknown task")
    task = world.task
    response = world.client.post(
        "/tasks/bulk", data={"action": "done", "ids": [str(task), "9" * 20]}, headers=HTMX
    )
    assert response.status_code == 422 and not get_task(app, task).done


def test_restore_ids(app, world):
    def send(value):
        return world.client.post("/tasks/restore", data={"ids": value}, headers=HTMX)

    _sweep(app, send, {str(TOP): 404, "7": 404}, 400, "Unknown task")
    deleted = world.deleted
    response = send([str(deleted), "٣"])
    assert response.status_code == 400 and get_task(app, deleted).deleted_at is not None


def test_restore_with_no_ids_is_404(app, world):
    # An empty body reaches the form as no form data at all: that was a 500.
    for body in ({}, {"ids": []}, {"other": "1"}):
        assert world.client.post("/tasks/restore", data=body).status_code == 404, body


def test_restore_refuses_more_ids_than_a_bulk_action_deletes(app, world):
    deleted = world.deleted
    # 70,000 parameters were a PostgreSQL error (at most 65,535 in one statement): 503.
    for count in (501, 70_000):
        response = world.client.post("/tasks/restore", data={"ids": [str(deleted)] * count})
        assert response.status_code == 400, count
        assert "At most 500 at once." in response.get_data(as_text=True)
    assert get_task(app, deleted).deleted_at is not None
    response = world.client.post("/tasks/restore", data={"ids": [str(deleted)] * 500})
    assert response.status_code == 303 and get_task(app, deleted).deleted_at is None


def test_list_limit(app, world):
    _sweep(
        app,
        lambda value: world.client.get("/tasks", query_string={"limit": value}),
        {"7": 200, "": 200},
        400,
        "Limit must be a number from 1 to 200.",
    )


def _cursor(values) -> str:
    raw = json.dumps(values).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "values, status",
    [
        ([TOP], 200),
        ([0], 200),
        ([TOP + 1], 400),
        ([2**63 - 1], 400),
        ([2**63], 400),
        ([-(2**63) - 1], 400),
        ([10**20], 400),
        ([1e3], 400),
        (["7"], 400),
        ([-1], 400),
        ([True], 400),
        ([[]], 400),
    ],
)
def test_list_cursor_numbers(app, world, values, status):
    response = world.client.get(
        "/tasks", query_string={"sort": "created", "after": _cursor(values)}
    )
    assert response.status_code == status
    if status == 400:
        assert "This page link is not valid" in response.get_data(as_text=True)


def test_list_cursor_nested_deeper_than_json_recurses(app, world):
    # "[[[[..." decodes by recursion: past Python's limit that was a RecursionError (500).
    token = base64.urlsafe_b64encode(b"[" * 5000).decode()
    response = world.client.get("/tasks", query_string={"after": token})
    assert response.status_code == 400
    assert "This page link is not valid" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/admin/users", "/admin/audit"])
def test_admin_list_page_numbers(app, path):
    create_user(app, email="root@example.com", name="Root", admin=True)
    client = app.test_client()
    login(client, email="root@example.com")
    _sweep(
        app,
        lambda value: client.get(path, query_string={"page": value}),
        {"7": 200, "": 200},
        422,
        *NUMBER_MESSAGES,
    )


@pytest.mark.parametrize("phrase", ["every {} days", "in {} days"])
def test_quick_add_numbers(app, world, phrase):
    """A number quick add cannot use stays in the title (like any other word), never a 500."""
    today = date.today()
    for value in EDGES:
        if not value.strip() or " " in value or len(value) > 100:
            continue  # not one token, or past the title's length
        title = "Water plants " + phrase.format(value)
        response = world.client.post("/tasks", data={"title": title})
        assert response.status_code == 303, value[:30]
        with app.app_context():
            task = db.session.scalars(select(Task).order_by(Task.id.desc())).first()
        if value == "7":
            assert task.title == "Water plants"
            if phrase.startswith("every"):
                assert task.recurrence == "FREQ=DAILY;INTERVAL=7" and task.due_date == today
            else:
                assert task.due_date == today + timedelta(days=7)
        else:
            assert task.title == title and task.recurrence is None, value[:30]


def test_url_ids(app, world):
    for value in EDGES:
        if value in ("", " 7 "):
            continue  # another route, or no URL
        response = world.client.get(f"/tasks/{value}")
        assert response.status_code == 404, value[:30]
