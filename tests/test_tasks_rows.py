"""The row template's one contract: a list row (ListedTask, read without the ORM) and a mapped
Task render through templates/tasks/_row.html by the same names, whichever view built them."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Tag, Task
from app.tasks.listing import LISTED_COLUMNS, ListedTag, ListedTask
from tests.helpers import HTMX, add_project, add_task, app_today, csrf_token, get_task

MARKER = 'class="has-notes"'


def _row(body: str, task_id: int) -> str:
    """One task's row (up to the next row) from a page or fragment."""
    match = re.search(rf'id="task-{task_id}".*?(?=id="task-\d+"|\Z)', body, re.DOTALL)
    assert match, f"no row for task {task_id}"
    return match.group(0)


def test_a_listed_task_has_the_names_a_task_has():
    for name in (f.name for f in fields(ListedTask)):
        assert hasattr(Task, name), name
    for name in (f.name for f in fields(ListedTag)):
        assert hasattr(Tag, name), name


def test_a_listed_task_of_a_task_is_the_row_the_list_reads(app, user):
    task_id = add_task(app, title="Call Ada", notes="about Tuesday", tags=["work"])
    with app.app_context():
        read = ListedTask.from_result(
            db.session.execute(select(*LISTED_COLUMNS).where(Task.id == task_id))
        )
    assert read == [ListedTask.of(get_task(app, task_id))]
    assert read[0].has_notes is True


def test_rows_are_read_by_the_fields_names():
    """A statement whose columns are not the fields, by name and in order, is refused rather
    than filling the wrong fields."""
    swapped = (LISTED_COLUMNS[1], LISTED_COLUMNS[0], *LISTED_COLUMNS[2:])
    with pytest.raises(TypeError, match="not a ListedTask's"):
        ListedTask.from_result(_FakeResult([c.key for c in swapped]))


class _FakeResult:
    def __init__(self, keys):
        self._keys = keys

    def keys(self):
        return self._keys

    def all(self):
        return []


def test_the_notes_marker_is_the_same_from_every_view(app, auth_client):
    """The list page and the toggle read rows without the ORM; the row view and a save render
    a mapped Task; a completed repeating task's next occurrence is built from its source."""
    noted = add_task(app, title="Noted", notes="some notes")
    plain = add_task(app, title="Plain")
    repeating = add_task(
        app, title="Water", notes="twice", due_date=app_today(app), recurrence="FREQ=WEEKLY"
    )
    page = auth_client.get("/tasks").get_data(as_text=True)
    assert MARKER in _row(page, noted)
    assert MARKER not in _row(page, plain)
    assert MARKER in _row(page, repeating)

    token = {"X-CSRFToken": csrf_token(auth_client, "/tasks")}
    for task_id, marked in ((noted, True), (plain, False)):
        row = auth_client.get(f"/tasks/{task_id}/row", headers=HTMX).get_data(as_text=True)
        assert (MARKER in row) is marked
        toggled = auth_client.post(
            f"/tasks/{task_id}/toggle", data={"done": "1"}, headers={**HTMX, **token}
        ).get_data(as_text=True)
        assert (MARKER in _row(toggled, task_id)) is marked

    saved = auth_client.post(
        f"/tasks/{plain}",
        data={"title": "Plain", "notes": "now noted", "priority": "0", "version": "2"},
        headers={**HTMX, **token},
    )
    assert saved.status_code == 200 and MARKER in saved.get_data(as_text=True)

    toggled = auth_client.post(
        f"/tasks/{repeating}/toggle", data={"done": "1"}, headers={**HTMX, **token}
    ).get_data(as_text=True)
    [following] = {int(i) for i in re.findall(r'id="task-(\d+)"', toggled)} - {repeating}
    assert following > repeating
    assert MARKER in _row(toggled, following)


def _button_named(page: str, task_id: int, label: str) -> dict[str, str]:
    """The attributes of the row's button whose accessible name starts with `label`: its text,
    or the words its aria-labelledby points at first (the page's _row_labels.html)."""
    for attrs_text, text in re.findall(r"<button ([^>]*)>([^<]*)</button>", _row(page, task_id)):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', attrs_text))
        if "aria-labelledby" in attrs:
            first = attrs["aria-labelledby"].split()[0]
            text = re.search(rf'<span id="{first}">([^<]*)</span>', page).group(1)
        if text.startswith(label):
            return attrs
    raise AssertionError(f"no {label} button in the row")


def _plain_form(page: str, task_id: int, label: str) -> tuple[str, dict]:
    """What a browser without JavaScript posts for a row's button: the button's formaction,
    with the #row-actions form's fields (the one the button names) and its own name and value."""
    attrs = _button_named(page, task_id, label)
    assert attrs["form"] == "row-actions"
    form = re.search(r'<form id="row-actions" method="post">(.*?)</form>', page, re.DOTALL)
    data = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form.group(1)))
    if "name" in attrs:
        data[attrs["name"]] = attrs["value"]
    return attrs["formaction"], data


def test_a_rows_plain_buttons_post_the_one_row_actions_form(app, auth_client):
    """Without JavaScript, "Mark done" marks an open task done and "Reopen" a done one open
    again, and Delete deletes: each button submits the page's one #row-actions form to its
    own row's URL."""
    task_id = add_task(app, title="Plain")
    for done, label in ((True, "Mark done"), (False, "Reopen")):
        page = auth_client.get("/tasks?status=all").get_data(as_text=True)
        path, data = _plain_form(page, task_id, label)
        assert auth_client.post(path, data=data).status_code == 303
        assert get_task(app, task_id).done is done
    page = auth_client.get("/tasks?status=all").get_data(as_text=True)
    path, data = _plain_form(page, task_id, "Delete")
    assert auth_client.post(path, data=data).status_code == 303
    assert get_task(app, task_id).deleted_at is not None


def test_every_list_page_holds_the_words_its_rows_are_named_by(app, auth_client):
    """A row's controls are named (aria-labelledby) by the page's shared words and their row's
    title link: every list page showing rows holds all of them, and a name reads as the word
    and the title."""
    project_id = add_project(app, name="Garden")
    add_task(app, title="Plant tulips", project_id=project_id, due_date=app_today(app))
    add_task(app, title="Call Ada", tags=["work"], priority=3)
    for path in ("/tasks", f"/projects/{project_id}", "/tasks/today", "/tasks/all"):
        page = auth_client.get(path).get_data(as_text=True)
        pointed = re.findall(r'aria-labelledby="([^"]*title-\d+)"', page)
        assert pointed, path
        for ids in pointed:
            for target in ids.split():
                assert page.count(f'id="{target}"') == 1, (path, target)
    page = auth_client.get("/tasks").get_data(as_text=True)
    words = dict(re.findall(r'<span id="(l-[\w-]+)">([^<]*)</span>', page))
    titles = dict(re.findall(r'<a id="(title-\d+)" class="task-title"[^>]*>([^<]*)</a>', page))
    names = {
        " ".join(words.get(i) or titles[i] for i in ids.split())
        for ids in re.findall(r'aria-labelledby="([^"]*title-\d+)"', page)
    }
    controls = ("Select", "Mark done", "Edit", "Delete")
    assert {f"{word}: Call Ada" for word in controls} <= names
