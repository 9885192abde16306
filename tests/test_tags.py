"""The tags page: create, rename, recolour and delete, in both modes."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Tag, task_tags
from app.tasks.listing import SORTS
from tests.helpers import HTMX, add_task, count_queries, get_task, listed_ids, post


def tags(app):
    with app.app_context():
        return [(t.name, t.colour) for t in db.session.scalars(select(Tag).order_by(Tag.id))]


def test_create_tag_and_see_counts(app, auth_client):
    response = post(auth_client, "/tags", {"name": "Work", "colour": "#AA3300"})
    assert response.status_code == 303
    assert tags(app) == [("Work", "#aa3300")]
    add_task(app, title="one", tags=["work"])
    add_task(app, title="two", tags=["Work"], done=True)
    body = auth_client.get("/tags").get_data(as_text=True)
    assert "1 open · 2 total" in body


def test_tag_counts_come_from_one_query(app, auth_client):
    for i in range(12):
        add_task(app, title=f"t{i}", tags=[f"tag{i}", "shared"])
    with count_queries(app) as statements:
        assert auth_client.get("/tags").status_code == 200
    # The session's user (with the header's unread count), then tags with counts.
    assert len(statements) <= 2


def test_duplicate_name_in_any_case_is_refused(app, auth_client):
    post(auth_client, "/tags", {"name": "Work", "colour": "#aa3300"})
    response = post(auth_client, "/tags", {"name": "WORK", "colour": "#000000"})
    assert response.status_code == 422
    assert "already have a tag with this name" in response.get_data(as_text=True)
    assert len(tags(app)) == 1


def test_bad_colour_and_empty_name_are_refused(app, auth_client):
    bad = post(auth_client, "/tags", {"name": "Home", "colour": "red"})
    assert bad.status_code == 422 and "#4f46e5" in bad.get_data(as_text=True)
    empty = post(auth_client, "/tags", {"name": "  ", "colour": "#000000"})
    assert empty.status_code == 422 and "A tag needs a name." in empty.get_data(as_text=True)
    assert tags(app) == []


def test_rename_and_recolour_inline(app, auth_client):
    add_task(app, title="t", tags=["Old"])
    with app.app_context():
        tag_id = db.session.scalar(select(Tag.id))
    editor = auth_client.get(f"/tags/{tag_id}/edit", headers=HTMX)
    assert editor.status_code == 200 and 'value="Old"' in editor.get_data(as_text=True)
    response = post(auth_client, f"/tags/{tag_id}", {"name": "New", "colour": "#00ff00"}, htmx=True)
    assert response.status_code == 200
    assert "New" in response.get_data(as_text=True) and "<html" not in response.get_data(
        as_text=True
    )
    assert tags(app) == [("New", "#00ff00")]


def test_rename_onto_another_tag_is_refused(app, auth_client):
    add_task(app, title="t", tags=["One", "Two"])
    with app.app_context():
        two = db.session.scalar(select(Tag.id).where(Tag.name == "Two"))
    response = post(auth_client, f"/tags/{two}", {"name": "one", "colour": "#000000"}, htmx=True)
    assert response.status_code == 422
    assert sorted(name for name, _ in tags(app)) == ["One", "Two"]


def test_delete_detaches_from_tasks(app, auth_client):
    task_id = add_task(app, title="t", tags=["Gone", "Stays"])
    with app.app_context():
        gone = db.session.scalar(select(Tag.id).where(Tag.name == "Gone"))
    response = post(auth_client, f"/tags/{gone}", htmx=True, method="DELETE")
    assert response.status_code == 200
    assert [t.name for t in get_task(app, task_id).tags] == ["Stays"]
    with app.app_context():
        assert (
            db.session.scalar(select(task_tags.c.tag_id).where(task_tags.c.tag_id == gone)) is None
        )
    assert post(auth_client, f"/tags/{gone}/delete").status_code == 404


def test_clicking_a_chip_filters_the_list(app, auth_client):
    add_task(app, title="tagged", tags=["Errands"])
    add_task(app, title="untagged")
    body = auth_client.get("/tasks").get_data(as_text=True)
    assert 'href="/tasks?tag=Errands"' in body
    filtered = auth_client.get("/tasks?tag=Errands").get_data(as_text=True)
    assert "tagged" in filtered and "untagged" not in filtered


def test_a_tag_filter_lists_exactly_the_tagged_tasks_in_the_lists_order(app, auth_client):
    """Every sort, open and all, in pages of 4: the tagged tasks and no others, in the order
    the unfiltered list gives them (PostgreSQL checks each task's copy of its tag ids,
    tasks.tag_ids: listing.tagged; SQLite joins task_tags)."""
    rnd = random.Random(7)
    tagged = set()
    for i in range(48):
        tags = [t for t in ("green", "blue") if rnd.random() < 0.4]
        task_id = add_task(
            app,
            title=rnd.choice(["b", "A", "c", "a"]) + f" task {i}",
            tags=tags,
            done=rnd.random() < 0.25,
            priority=rnd.randint(0, 3),
            due_date=None
            if rnd.random() < 0.4
            else date(2031, 1, 1) + timedelta(rnd.randint(0, 5)),
        )
        if "green" in tags:
            tagged.add(task_id)
    for sort in SORTS:
        for status in ("open", "all"):
            whole = listed_ids(
                auth_client, "/tasks", {"sort": sort, "status": status, "limit": 200}
            )
            got = listed_ids(
                auth_client, "/tasks", {"sort": sort, "status": status, "tag": "Green", "limit": 4}
            )
            assert got == [i for i in whole if i in tagged], (sort, status)
            assert got, (sort, status)
