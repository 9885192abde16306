"""Bulk actions: tag names checked as the editor checks them, and next copies of many
repeating tasks each carrying their own task's tags."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Tag, Task
from app.tasks.services import apply_bulk
from tests.helpers import add_task, post


def _snapshot(app):
    with app.app_context():
        tasks = db.session.scalars(select(Task).options(selectinload(Task.tags)).order_by(Task.id))
        return [(t.title, t.version, sorted(tag.name for tag in t.tags)) for t in tasks], sorted(
            db.session.scalars(select(Tag.name))
        )


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("home,work", "Tag names cannot contain commas."),
        ("#", "A tag needs a name."),
        ("x" * 51, "is longer than 50 characters."),
    ],
)
def test_a_bad_bulk_tag_is_refused_and_changes_nothing(app, auth_client, tag, message, htmx):
    ids = [str(add_task(app, title=t, tags=["old"])) for t in ("A", "B")]
    before = _snapshot(app)
    for action in ("tag_add", "tag_remove"):
        response = post(
            auth_client, "/tasks/bulk", {"ids": ids, "action": action, "tag": tag}, htmx=htmx
        )
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert _snapshot(app) == before


def test_a_bulk_tag_is_read_as_the_editor_reads_it(app, auth_client):
    ids = [str(add_task(app, title=t)) for t in ("A", "B")]
    response = post(
        auth_client, "/tasks/bulk", {"ids": ids, "action": "tag_add", "tag": " #Sprint "}, htmx=True
    )
    assert response.status_code == 200 and "Updated 2 tasks." in response.get_data(as_text=True)
    assert _snapshot(app) == ([("A", 2, ["Sprint"]), ("B", 2, ["Sprint"])], ["Sprint"])
    # The editor shows it as "Sprint" and saving keeps one tag, not a renamed or split one.
    editor = auth_client.get(f"/tasks/{ids[0]}/edit").get_data(as_text=True)
    assert 'value="Sprint"' in editor
    removed = post(
        auth_client,
        "/tasks/bulk",
        {"ids": ids, "action": "tag_remove", "tag": "#sprint"},
        htmx=True,
    )
    assert "Updated 2 tasks." in removed.get_data(as_text=True)
    assert _snapshot(app)[0] == [("A", 3, []), ("B", 3, [])]


def test_bulk_done_gives_each_next_copy_its_own_tasks_tags(app, auth_client):
    due = date(2031, 1, 6)
    ids = [
        str(add_task(app, title=f"T{i}", due_date=due, recurrence="FREQ=DAILY", tags=[f"g{i}"]))
        for i in range(40)
    ]
    ids.append(str(add_task(app, title="Untagged", due_date=due, recurrence="FREQ=DAILY")))
    response = post(auth_client, "/tasks/bulk", {"ids": ids, "action": "done"}, htmx=True)
    assert "Updated 41 tasks." in response.get_data(as_text=True)
    with app.app_context():
        copies = db.session.scalars(
            select(Task).where(Task.done.is_(False)).options(selectinload(Task.tags))
        ).all()
        got = {(t.title, t.due_date, t.recurrence, tuple(g.name for g in t.tags)) for t in copies}
    expected = {(f"T{i}", due + timedelta(days=1), "FREQ=DAILY", (f"g{i}",)) for i in range(40)}
    assert got == expected | {("Untagged", due + timedelta(days=1), "FREQ=DAILY", ())}


@pytest.mark.parametrize("action", ["delete", "archive"])
def test_apply_bulk_refuses_an_action_it_has_no_handler_for(app, user, action):
    # "delete" goes to soft_delete (the undo needs the tasks): the table must not swallow it.
    task_id = add_task(app, title="A")
    with app.app_context():
        task = db.session.get(Task, task_id)
        with pytest.raises(ValueError, match=f"unknown bulk action '{action}'"):
            apply_bulk(user, [task], action, on=date(2030, 1, 1))
        assert db.session.get(Task, task_id).version == 1
