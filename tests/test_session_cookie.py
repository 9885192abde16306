"""The session cookie stays under browsers' 4 KB whatever the client does.

Each plain-form action leaves a flash (and a deletion its undo ids) in the signed cookie for
the page the 303 leads to. A client that never follows the redirect (a script, a tab closed
mid-way) never shows them, so they used to pile up: after ~2,100 quick adds the cookie passed
gunicorn's header limit and every request of that browser answered 431; browsers drop a
cookie over 4 KB, and the sign-in with it.

The canaries for the Flask internals the bound relies on (where flash() keeps messages, the
session interface it extends) are in tests/test_seams.py.
"""

from __future__ import annotations

import random
import re

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from app.extensions import db
from app.models import Task
from tests.helpers import csrf_token, inbox_of, login
from tests.security_figures import record

BROWSER_LIMIT = 4096  # bytes a browser keeps of one cookie (name and value), and we send in all
POSTS = 3000


def _cookie_sizes(client) -> dict[str, int]:
    """The app's cookies the client holds, as `name=value` bytes (what the Cookie header
    carries)."""
    config = client.application.config
    names = (config["SESSION_COOKIE_NAME"], config["REMEMBER_COOKIE_NAME"])
    cookies = [cookie for name in names if (cookie := client.get_cookie(name))]
    return {c.key: len(c.key) + 1 + len(c.value.encode()) for c in cookies}


def _assert_small(client) -> dict[str, int]:
    sizes = _cookie_sizes(client)
    assert sizes["tasklane_session"] < BROWSER_LIMIT, sizes
    # Everything the browser sends, joined by "; ", fits under the limit too.
    header = sum(sizes.values()) + 2 * (len(sizes) - 1)
    assert header < BROWSER_LIMIT, sizes
    return {"session_cookie_bytes": sizes["tasklane_session"], "cookie_header_bytes": header}


def _record(database_url: str, case: str, figures: dict) -> None:
    backend = make_url(database_url).get_backend_name()
    record(f"session_cookie.{case}.{backend}", figures)


def _newest_task(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(Task.id)).where(Task.deleted_at.is_(None)))


def _flashes(body: str) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+">(.*?)</p>', body)


@pytest.mark.security
def test_thousands_of_unfollowed_form_posts_keep_the_cookie_small(app, database_url, client, user):
    auth_client = client
    assert login(client, remember=True).status_code == 302  # both cookies, as a browser has
    assert set(_cookie_sizes(client)) == {"tasklane_session", "tasklane_remember"}
    token = csrf_token(auth_client, "/tasks")
    for i in range(POSTS):
        if i % 3 == 2:  # every third post deletes the newest task, with undo
            response = auth_client.post(
                f"/tasks/{_newest_task(app)}/delete", data={"csrf_token": token}
            )
        elif i % 30 == 1:  # a bulk action: its own flash
            response = auth_client.post(
                "/tasks/bulk",
                data={"csrf_token": token, "ids": _newest_task(app), "action": "done"},
            )
        else:
            response = auth_client.post("/tasks", data={"csrf_token": token, "title": f"Task {i}"})
        assert response.status_code == 303, (i, response.status_code)
    _record(database_url, "unfollowed_posts", {"posts": POSTS, **_assert_small(auth_client)})

    page = auth_client.get("/tasks")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"Task {POSTS - 3}" in body  # the newest live task is listed
    flashes = _flashes(body)
    assert flashes and flashes[-1] == f"Added “Task {POSTS - 2}”."  # the newest flash is kept
    assert "Added “Task 0”." not in flashes  # the oldest went
    assert "Deleted “Task" in body and "Undo" in body  # the last deletion can still be undone
    assert auth_client.get("/tasks").status_code == 200  # shown once, then gone
    _assert_small(auth_client)


@pytest.mark.security
def test_long_non_ascii_flashes_keep_the_cookie_small(app, database_url, auth_client):
    """The worst text for the cookie: JSON escapes each character outside ASCII (astral ones
    as two escapes), and random ones hardly compress."""
    token = csrf_token(auth_client, "/tasks")
    rng = random.Random(14)
    titles = ["".join(chr(rng.randint(0x1F300, 0x1FAFF)) for _ in range(200)) for _ in range(20)]
    for title in titles:
        response = auth_client.post("/tasks", data={"csrf_token": token, "title": title})
        assert response.status_code == 303
    _record(database_url, "non_ascii_flashes", {"posts": len(titles), **_assert_small(auth_client)})
    page = auth_client.get("/tasks")
    assert page.status_code == 200
    assert _flashes(page.get_data(as_text=True))[-1] == f"Added “{titles[-1]}”."


@pytest.mark.parametrize(
    ("largest_id", "undo_kept"),
    [(10_000_000, True), (2**31 - 1, False)],
    ids=["millions-of-tasks", "ids-near-the-limit"],
)
def test_undo_of_a_large_bulk_delete_keeps_the_cookie_small(
    app, user, auth_client, largest_id, undo_kept
):
    """500 tasks (the bulk limit) with scattered ids: the undo list at its longest. With an
    instance's worth of ids (millions) it fits and the toast offers the undo; with ids near
    the database's limit it would not, and the toast is what goes, not the sign-in."""
    ids = random.Random(14).sample(range(largest_id // 10, largest_id), 500)
    with app.app_context():
        _, inbox = inbox_of()
        db.session.execute(
            insert(Task),
            [
                {"id": i, "project_id": inbox, "created_by_id": user, "title": f"Old {i}"}
                for i in ids
            ],
        )
        db.session.commit()
    token = csrf_token(auth_client, "/tasks")
    for title in ("One", "Two", "Three"):
        auth_client.post("/tasks", data={"csrf_token": token, "title": title})
    response = auth_client.post(
        "/tasks/bulk", data={"csrf_token": token, "ids": ids, "action": "delete"}
    )
    assert response.status_code == 303
    _assert_small(auth_client)
    page = auth_client.get("/tasks")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Three" in body and "Old " not in body
    if undo_kept:
        assert "Deleted 500 tasks." in body
        restored = auth_client.post("/tasks/restore", data={"csrf_token": token, "ids": ids})
        assert restored.status_code == 303
        with app.app_context():
            live = select(func.count()).select_from(Task).where(Task.deleted_at.is_(None))
            assert db.session.scalar(live) == len(ids) + 3
