"""PostgreSQL's tasks.tag_ids, the copy of each task's task_tags rows that the tag filter reads
(app/tasks/listing.tagged, kept by triggers: migration a3e7c1f9d4b2), equals task_tags after
every kind of write that tags or untags, through the real routes; when two transactions tag
or untag one task at once; and after its migration's backfill. The filter shows what the
copy says, so a copy that fell behind would hide a tagged task from it."""

from __future__ import annotations

import threading

import psycopg
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from app.extensions import db
from app.models import Tag
from tests.helpers import add_task, edit_data, get_task, libpq_url, listed_ids, post

# The revision before tasks.tag_ids.
PREVIOUS = "e9b4c2a7d3f1"

_COPIES = text("SELECT id, tag_ids FROM tasks ORDER BY id")
_LINKS = text("SELECT task_id, tag_id FROM task_tags")


@pytest.fixture(autouse=True)
def _postgresql_only(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("tasks.tag_ids is PostgreSQL's (SQLite's tag filter joins task_tags)")


def copies(app) -> dict[int, set[int]]:
    """Every task's tag ids as tasks.tag_ids has them."""
    with app.app_context():
        return {task_id: set(ids) for task_id, ids in db.session.execute(_COPIES)}


def links(app) -> dict[int, set[int]]:
    """Every task's tag ids as task_tags has them."""
    with app.app_context():
        found = {task_id: set() for task_id in copies(app)}
        for task_id, tag_id in db.session.execute(_LINKS):
            found[task_id].add(tag_id)
        return found


def tag_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Tag.id).where(Tag.name_key == name.casefold()))


def _edit_tags(client, app, task_id, tags):
    return post(client, f"/tasks/{task_id}", edit_data(get_task(app, task_id), tags=tags))


def _bulk(client, ids, action, tag):
    return post(client, "/tasks/bulk", {"ids": [str(i) for i in ids], "action": action, "tag": tag})


def test_the_copy_follows_every_kind_of_tagging_through_the_routes(app, auth_client):
    first = add_task(app, title="First", tags=["home"])
    second = add_task(app, title="Second")
    writes = [
        ("quick add with tags", lambda: post(auth_client, "/tasks", {"title": "Call #Work #home"})),
        ("the editor adds and drops", lambda: _edit_tags(auth_client, app, first, "work, errands")),
        ("bulk add", lambda: _bulk(auth_client, [first, second], "tag_add", "Sprint")),
        ("bulk remove", lambda: _bulk(auth_client, [first, second], "tag_remove", "sprint")),
        ("the editor clears", lambda: _edit_tags(auth_client, app, second, "")),
        ("a tag deleted", lambda: post(auth_client, f"/tags/{tag_id(app, 'work')}/delete")),
        ("a task deleted", lambda: post(auth_client, f"/tasks/{first}/delete")),
    ]
    seen = set()
    for name, write in writes:
        response = write()
        assert response.status_code in (200, 302, 303), (name, response.status_code)
        assert copies(app) == links(app), name
        seen |= {i for ids in copies(app).values() for i in ids}
    assert len(seen) >= 3  # the writes did tag: the comparison saw ids, not empty sets
    # What the filter shows follows: Errands was on First, which is deleted now.
    assert listed_ids(auth_client, "/tasks", {"tag": "home"}) != []
    assert listed_ids(auth_client, "/tasks", {"tag": "errands"}) == []


def test_an_update_of_task_tags_moves_the_id(app, user):
    """Nothing in the app updates task_tags rows, but a statement that did (a tag merged by
    hand) would still leave the copy right."""
    task = add_task(app, tags=["one"])
    other = add_task(app, tags=["two"])
    with app.app_context():
        two = tag_id(app, "two")
        db.session.execute(text("UPDATE task_tags SET tag_id = :two WHERE task_id = :task"), {
            "two": two, "task": task,
        })  # fmt: skip
        db.session.commit()
    assert copies(app)[task] == {two} == copies(app)[other]
    assert copies(app) == links(app)


@pytest.mark.parametrize("kind", ["tag", "untag"])
def test_two_transactions_changing_one_tasks_tags_both_count(app, user, kind):
    """The first holds the task's row (its trigger updated it); the second's trigger waits
    for it, then works on the row the first committed: both tags there, or neither."""
    names = ["alpha", "beta"]
    task = add_task(app, tags=names if kind == "untag" else [])
    for name in names:  # the tags exist, on another task
        add_task(app, title=f"holds {name}", tags=[name])
    ids = [tag_id(app, name) for name in names]
    statement = (
        "INSERT INTO task_tags (task_id, tag_id) VALUES (%s, %s)"
        if kind == "tag"
        else "DELETE FROM task_tags WHERE task_id = %s AND tag_id = %s"
    )
    with app.app_context():
        url = libpq_url(db.engine.url.render_as_string(hide_password=False))
    first, second = psycopg.connect(url), psycopg.connect(url)
    try:
        first.execute(statement, (task, ids[0]))
        waited = threading.Event()

        def run_second():
            second.execute(statement, (task, ids[1]))
            waited.set()
            second.commit()

        thread = threading.Thread(target=run_second)
        thread.start()
        assert not waited.wait(0.5), "the second writer did not wait for the task's row"
        first.commit()
        thread.join(10)
        assert waited.is_set()
    finally:
        first.close()
        second.close()
    assert copies(app)[task] == (set(ids) if kind == "tag" else set())
    assert copies(app) == links(app)


def test_the_migration_backfills_the_copy_and_its_downgrade_drops_it(app, auth_client):
    with app.app_context():
        downgrade(revision=PREVIOUS)
        columns = {c["name"] for c in db.inspect(db.engine).get_columns("tasks")}
        assert "tag_ids" not in columns
    # Tagged before the copy existed (the models need no tag_ids column to write tasks).
    tagged = add_task(app, title="Tagged", tags=["old", "older"])
    add_task(app, title="Bare")
    with app.app_context():
        upgrade()
    assert len(copies(app)[tagged]) == 2
    assert copies(app) == links(app)
    assert listed_ids(auth_client, "/tasks", {"tag": "older"}) == [tagged]
    # The triggers work after the upgrade.
    assert post(auth_client, "/tasks", {"title": "New #older"}).status_code in (200, 303)
    assert (
        copies(app) == links(app) and len(listed_ids(auth_client, "/tasks", {"tag": "older"})) == 2
    )
