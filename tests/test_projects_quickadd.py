"""Quick add's `+name`: the grammar (app/tasks/quickadd.py) and which project it picks
(app/projects/services.project_named): case-insensitive, live projects the user may add to,
their own first; an unknown name stays in the title and the answer says so."""

from __future__ import annotations

import html
from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Role, Task
from app.tasks.quickadd import parse_quick_add
from tests.helpers import (
    add_member,
    add_project,
    create_user,
    inbox_of,
    post,
)

TODAY = date(2026, 12, 2)
EVE = "eve@example.com"


@pytest.mark.parametrize(
    ("typed", "title", "project", "kept"),
    [
        ("Call Ada +Work", "Call Ada", "Work", "Call Ada +Work"),
        ("+work Call Ada", "Call Ada", "work", "+work Call Ada"),
        ("Ship it +Work.", "Ship it", "Work", "Ship it +Work."),
        ('Paint +"Two words" today', "Paint", "Two words", 'Paint +"Two words"'),
        ('Paint +"Two  words"!', "Paint", "Two words", 'Paint +"Two words"!'),
        ("Fix +home-reno", "Fix", "home-reno", "Fix +home-reno"),
        ("Füße +Ärger", "Füße", "Ärger", "Füße +Ärger"),
        ("a +One b +Two c", "a b c", "Two", "a b +Two c"),  # the last one counts
        # Not projects: text.
        ("a+b", "a+b", None, "a+b"),
        ("+ alone", "+ alone", None, "+ alone"),
        ("+1 for this", "+1 for this", None, "+1 for this"),
        ('Open +"quote', 'Open +"quote', None, 'Open +"quote'),
        ('Empty +"" quote', 'Empty +"" quote', None, 'Empty +"" quote'),
        ("\\+Work literal", "+Work literal", None, "+Work literal"),
    ],
)
def test_the_plus_grammar(typed, title, project, kept):
    parsed = parse_quick_add(typed, TODAY)
    assert (parsed.title, parsed.project, parsed.title_with_project) == (title, project, kept)


def test_plus_keeps_working_with_the_rest_of_the_grammar():
    parsed = parse_quick_add("Report +Work #q4 !1 tomorrow", TODAY)
    assert (parsed.title, parsed.project, parsed.tags) == ("Report", "Work", ["q4"])
    assert parsed.priority == 3 and parsed.due == date(2026, 12, 3)


def test_a_quoted_name_longer_than_a_project_name_is_text():
    typed = '+"' + "x" * 81 + '" task'
    assert parse_quick_add(typed, TODAY).project is None


# ---- which project ------------------------------------------------------------------------


def _added(app, title):
    with app.app_context():
        return db.session.execute(
            select(Task.title, Task.project_id).where(Task.title.startswith(title))
        ).one()


def _add(client, typed, *, htmx=True):
    response = post(client, "/tasks", {"title": typed}, htmx=htmx)
    return response, html.unescape(response.get_data(as_text=True))


def test_plus_name_puts_the_task_in_that_project_whatever_the_case(app, auth_client):
    work = add_project(app, name="Work")
    response, body = _add(auth_client, "Plan +WORK")
    assert response.status_code == 200
    assert _added(app, "Plan") == ("Plan", work)
    # Typed in the Inbox, it does not belong on the Inbox's list: only the message comes back.
    assert 'id="task-' not in body and "Added “Plan” to Work." in body


def test_an_unknown_name_stays_in_the_title_and_the_answer_says_so(app, auth_client):
    response, body = _add(auth_client, "Plan +nope")
    assert response.status_code == 200
    with app.app_context():
        assert _added(app, "Plan") == ("Plan +nope", inbox_of()[1])
    assert "No project called “nope” that you can add to." in body
    assert 'id="task-' in body  # it is in the Inbox, on the list it was typed into


def test_without_js_the_answer_is_a_flash_on_the_list(app, auth_client):
    response, _ = _add(auth_client, "Plan +nope", htmx=False)
    assert response.status_code == 303
    page = html.unescape(auth_client.get(response.headers["Location"]).get_data(as_text=True))
    assert "No project called “nope”" in page


def test_projects_are_never_created_by_typing(app, auth_client):
    _add(auth_client, "Plan +Brand-new")
    response = auth_client.get("/projects")
    assert "Brand-new" not in response.get_data(as_text=True)


def test_plus_name_skips_projects_the_user_may_not_add_to(app, auth_client):
    create_user(app, email=EVE, name="Eve")
    viewing = add_project(app, EVE, name="Viewing")
    add_member(app, viewing, "ada@example.com", Role.VIEWER)
    add_project(app, EVE, name="Hidden")
    archived = add_project(app, name="Old")
    post(auth_client, f"/projects/{archived}/archive")
    for name in ("Viewing", "Hidden", "Old"):
        _, body = _add(auth_client, f"Try +{name}")
        assert f"No project called “{name}”" in body
        with app.app_context():
            assert _added(app, f"Try +{name}") == (f"Try +{name}", inbox_of()[1])


def test_plus_name_prefers_the_users_own_project_and_says_when_it_cannot_choose(app, auth_client):
    create_user(app, email=EVE, name="Eve")
    create_user(app, email="bob@example.com", name="Bob")
    mine = add_project(app, name="Team")
    theirs = add_project(app, EVE, name="team")
    add_member(app, theirs, "ada@example.com", Role.EDITOR)
    _add(auth_client, "First +team")
    assert _added(app, "First") == ("First", mine)
    # Two shared projects of that name, neither hers: no guess.
    for owner in (EVE, "bob@example.com"):
        shared = add_project(app, owner, name="Ops")
        add_member(app, shared, "ada@example.com", Role.EDITOR)
    _, body = _add(auth_client, "Second +ops")
    assert "2 projects called “ops” could take this task" in body
    with app.app_context():
        assert _added(app, "Second") == ("Second +ops", inbox_of()[1])
