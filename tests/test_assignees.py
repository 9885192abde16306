"""Assigning tasks to members (app/tasks/assignees.py): quick add's `@name`, the editor's
"Assignee" choice and the bulk action "Assign to". One rule for all three: only a member of
the task's project is assigned it; anyone else is refused with a message (never stored,
never a 500), and a viewer may not assign at all."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Role, Task, User
from app.tasks.quickadd import parse_quick_add
from app.tasks.row_controls import initials
from tests.helpers import (
    add_member,
    add_project,
    add_task,
    create_user,
    get_task,
    inbox_of,
    login,
    post,
    user_id,
)

TODAY = date(2026, 12, 2)
ADA = "ada@example.com"
BOB = "bob@example.com"
EVE = "eve@example.com"


# ---- the grammar ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "title", "assignee", "kept"),
    [
        ("Call @bob", "Call", "bob", "Call @bob"),
        ("@Bob call", "call", "Bob", "@Bob call"),
        ('Review @"Ada Lovelace" today', "Review", "Ada Lovelace", 'Review @"Ada Lovelace"'),
        ("Ping @bob, now", "Ping now", "bob", "Ping @bob, now"),
        ("a @x b @y c", "a b c", "y", "a b @y c"),  # the last one counts, like `+name`
        # Not assignees: text.
        ("mail bob@example.com", "mail bob@example.com", None, "mail bob@example.com"),
        ("@ alone", "@ alone", None, "@ alone"),
        ("@1st try", "@1st try", None, "@1st try"),
        ('Open @"quote', 'Open @"quote', None, 'Open @"quote'),
        ("\\@bob literal", "@bob literal", None, "@bob literal"),
    ],
)
def test_the_at_grammar(typed, title, assignee, kept):
    parsed = parse_quick_add(typed, TODAY)
    assert (parsed.title, parsed.assignee, parsed.title_keeping("assignee")) == (
        title,
        assignee,
        kept,
    )


def test_at_goes_with_the_rest_of_the_grammar():
    parsed = parse_quick_add("Report @bob +Work #q4 !1 tomorrow", TODAY)
    assert (parsed.title, parsed.assignee, parsed.project, parsed.tags) == (
        "Report",
        "bob",
        "Work",
        ["q4"],
    )
    assert parsed.priority == 3 and parsed.due == date(2026, 12, 3)
    # Both unread: both stay where they were typed.
    assert parsed.title_keeping("project", "assignee") == "Report @bob +Work"
    assert parsed.title_with_project == "Report +Work"


# ---- quick add --------------------------------------------------------------------------------


@pytest.fixture
def team(app, auth_client):
    """Ada's project "Team", with Bob (editor) and Eve (viewer); Cy has an account but is no
    member."""
    create_user(app, email=BOB, name="Bob Builder")
    create_user(app, email=EVE, name="Eve")
    create_user(app, email="cy@example.com", name="Cy")
    project = add_project(app, name="Team")
    add_member(app, project, BOB, Role.EDITOR)
    add_member(app, project, EVE, Role.VIEWER)
    return project


def _add(client, typed, *, project_id=None, htmx=True):
    data = {"title": typed, **({"project_id": str(project_id)} if project_id else {})}
    response = post(client, "/tasks", data, htmx=htmx)
    return response, html.unescape(response.get_data(as_text=True))


def _task_titled(app, start):
    with app.app_context():
        return db.session.execute(
            select(Task.title, Task.project_id, Task.assignee_id).where(
                Task.title.startswith(start)
            )
        ).one()


@pytest.mark.parametrize(
    "typed", ["Fix @bob", "Fix @BOB", '@"bob builder" Fix', "Fix @Bob.", '@"Bob  Builder" Fix']
)
def test_at_name_assigns_a_member_by_name_or_email(app, auth_client, team, typed):
    response, body = _add(auth_client, typed, project_id=team)
    assert response.status_code == 200
    assert _task_titled(app, "Fix") == ("Fix", team, user_id(app, BOB))
    assert "Assigned to Bob Builder" in body  # the new row shows who


def test_at_name_with_plus_project_from_the_inbox(app, auth_client, team):
    _add(auth_client, "Plan +Team @eve")
    assert _task_titled(app, "Plan") == ("Plan", team, user_id(app, EVE))


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("Fix @nobody", "No member of this project answers to “@nobody”."),
        ("Fix @cy", "No member of this project answers to “@cy”."),  # an account, no member
    ],
)
def test_an_unknown_name_stays_in_the_title(app, auth_client, team, typed, message):
    response, body = _add(auth_client, typed, project_id=team)
    assert response.status_code == 200 and message in body
    assert _task_titled(app, "Fix") == (typed, team, None)


def test_at_a_first_name_assigns_the_one_member_whose_name_starts_with_it(app, auth_client, team):
    """`@zoe` finds "Zoe Walker" (z.walker@...): neither her whole name nor her address's
    local part, but the first word of her name; a second Zoe makes it ambiguous."""
    create_user(app, email="z.walker@example.com", name="Zoe Walker")
    add_member(app, team, "z.walker@example.com", Role.EDITOR)
    _add(auth_client, "Fix @zoe", project_id=team)
    assert _task_titled(app, "Fix") == ("Fix", team, user_id(app, "z.walker@example.com"))
    create_user(app, email="zbyron@example.com", name="Zoe Byron")
    add_member(app, team, "zbyron@example.com", Role.EDITOR)
    _, body = _add(auth_client, "Mend @zoe", project_id=team)
    assert "2 members answer to “@zoe”: assign it in the editor." in body
    assert _task_titled(app, "Mend") == ("Mend @zoe", team, None)


def test_a_task_sent_elsewhere_by_plus_name_is_said_to_be_there_with_the_problem(
    app, auth_client, team
):
    """From the Inbox, `+Team @nobody` puts the task in Team: the warning says Team, not the
    Inbox it was typed into."""
    _add(auth_client, "Plan +Team @nobody", htmx=False)
    page = html.unescape(auth_client.get("/tasks").get_data(as_text=True))
    assert "Added “Plan @nobody” to Team. No member of this project answers to “@nobody”." in page
    assert _task_titled(app, "Plan") == ("Plan @nobody", team, None)


def test_two_members_answering_to_a_name_assign_nobody(app, auth_client, team):
    create_user(app, email="bob.smith@example.com", name="Bob")
    add_member(app, team, "bob.smith@example.com", Role.EDITOR)
    create_user(app, email="robert@example.com", name="bob.smith")
    add_member(app, team, "robert@example.com", Role.EDITOR)
    _, body = _add(auth_client, "Fix @bob.smith", project_id=team)
    assert "2 members answer to “@bob.smith”: assign it in the editor." in body
    assert _task_titled(app, "Fix") == ("Fix @bob.smith", team, None)


def test_the_inbox_cannot_be_shared(app, auth_client, team):
    _, body = _add(auth_client, "Fix @bob")
    assert "your Inbox cannot be shared" in body
    with app.app_context():
        assert _task_titled(app, "Fix") == ("Fix @bob", inbox_of()[1], None)


def test_both_unread_stay_and_both_reasons_are_given(app, auth_client, team):
    _add(auth_client, "Fix +nope @nobody soon", htmx=False)
    page = html.unescape(auth_client.get("/tasks").get_data(as_text=True))
    assert "No project called “nope”" in page and "your Inbox cannot be shared" in page
    with app.app_context():
        assert _task_titled(app, "Fix") == ("Fix +nope @nobody soon", inbox_of()[1], None)


def test_an_email_in_the_title_is_not_an_assignee(app, auth_client, team):
    _, body = _add(auth_client, "Mail bob@example.com", project_id=team)
    assert _task_titled(app, "Mail") == ("Mail bob@example.com", team, None)
    assert "answers to" not in body


# ---- the editor -------------------------------------------------------------------------------


def _edit_form(client, task_id, **changes):
    """The editor's fields as rendered, with `changes`."""
    page = client.get(f"/tasks/{task_id}/edit").get_data(as_text=True)
    version = page.split('name="version"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    return {"title": "Job", "priority": "0", "version": version, **changes}


@pytest.mark.parametrize(
    ("name", "badge"),
    [("Bob Builder", "BB"), ("Eve", "E"), ("émile zola dupont", "ÉZ"), ("  ", "?")],
)
def test_an_assignee_badge_shows_the_first_letters_of_two_words(name, badge):
    assert initials(name) == badge


def test_the_editor_offers_the_members_and_assigns_one(app, auth_client, team):
    task = add_task(app, project_id=team, title="Job")
    page = html.unescape(auth_client.get(f"/tasks/{task}/edit").get_data(as_text=True))
    for name in ("Nobody", "Ada", "Bob Builder", "Eve"):
        assert f">{name}</option>" in page
    assert ">Cy</option>" not in page
    bob = user_id(app, BOB)
    response = post(auth_client, f"/tasks/{task}", _edit_form(auth_client, task, assignee_id=bob))
    assert response.status_code == 303
    assert get_task(app, task).assignee_id == bob
    detail = html.unescape(auth_client.get(f"/tasks/{task}").get_data(as_text=True))
    assert "<dt>Assignee</dt><dd>Bob Builder</dd>" in detail
    listed = html.unescape(auth_client.get(f"/projects/{team}").get_data(as_text=True))
    assert "Assigned to Bob Builder" in listed and ">BB</span>" in listed
    # And back to nobody.
    post(auth_client, f"/tasks/{task}", _edit_form(auth_client, task, assignee_id="0"))
    assert get_task(app, task).assignee_id is None


@pytest.mark.security
@pytest.mark.parametrize("who", ["outsider", "deleted", "huge", "negative", "past_int64"])
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_a_forged_assignee_is_refused_and_never_stored(app, auth_client, team, who, htmx):
    task = add_task(app, project_id=team, title="Job")
    if who == "deleted":
        create_user(app, email="gone@example.com", name="Gone")
        add_member(app, team, "gone@example.com", Role.EDITOR)
        forged = user_id(app, "gone@example.com")
        with app.app_context():
            db.session.delete(db.session.get(User, forged))
            db.session.commit()
    else:
        forged = {
            "outsider": user_id(app, "cy@example.com"),
            "huge": 2**31,
            "negative": -1,
            "past_int64": 10**30,
        }[who]
    form = _edit_form(auth_client, task, assignee_id=str(forged))
    response = post(auth_client, f"/tasks/{task}", form, htmx=htmx)
    assert response.status_code == 422
    body = html.unescape(response.get_data(as_text=True))
    if who != "past_int64":
        assert "Only a member of the task's project can be assigned it." in body
    assert get_task(app, task).assignee_id is None


def test_a_viewer_cannot_assign(app, team):
    task = add_task(app, project_id=team, title="Job")
    client = app.test_client()
    login(client, EVE)
    response = post(client, f"/tasks/{task}", {"title": "Job", "version": "1", "assignee_id": "1"})
    assert response.status_code == 403
    bulk = post(client, "/tasks/bulk", {"action": "assign", "ids": [str(task)], "assignee": "1"})
    assert bulk.status_code == 403
    assert get_task(app, task).assignee_id is None


def test_a_stale_save_shows_both_assignees(app, auth_client, team):
    task = add_task(app, project_id=team, title="Job")
    stale = _edit_form(auth_client, task, assignee_id=str(user_id(app, EVE)))
    saved = _edit_form(auth_client, task, assignee_id=user_id(app, BOB))
    assert post(auth_client, f"/tasks/{task}", saved).status_code == 303
    response = post(auth_client, f"/tasks/{task}", stale, htmx=True)
    assert response.status_code == 409
    body = html.unescape(response.get_data(as_text=True))
    assert "<dt>Assignee</dt><dd>Bob Builder</dd>" in body  # what is saved now
    assert f'<option selected value="{user_id(app, EVE)}">Eve</option>' in body  # theirs, kept
    assert get_task(app, task).assignee_id == user_id(app, BOB)


def test_moving_a_task_checks_the_assignee_against_the_new_project(app, auth_client, team):
    other = add_project(app, name="Other")
    bob = user_id(app, BOB)
    task = add_task(app, project_id=team, title="Job", assignee_id=bob)
    # Moved with its assignee left as it was: unassigned, as Bob is no member there.
    form = _edit_form(auth_client, task, project_id=str(other), assignee_id=str(bob))
    assert post(auth_client, f"/tasks/{task}", form).status_code == 303
    assert (get_task(app, task).project_id, get_task(app, task).assignee_id) == (other, None)
    # Moved back and assigned, in one save, to someone who is a member there: both done.
    form = _edit_form(auth_client, task, project_id=str(team), assignee_id=str(bob))
    assert post(auth_client, f"/tasks/{task}", form).status_code == 303
    assert (get_task(app, task).project_id, get_task(app, task).assignee_id) == (team, bob)
    # Chosen anew for a project they are no member of: refused.
    eve = user_id(app, EVE)
    form = _edit_form(auth_client, task, project_id=str(other), assignee_id=str(eve))
    assert post(auth_client, f"/tasks/{task}", form).status_code == 422
    assert (get_task(app, task).project_id, get_task(app, task).assignee_id) == (team, bob)


# ---- bulk ---------------------------------------------------------------------------------------


def test_bulk_assign_assigns_only_where_the_person_is_a_member(app, auth_client, team):
    other = add_project(app, name="Other")
    here = [add_task(app, project_id=team, title=f"Here {i}") for i in range(2)]
    there = add_task(app, project_id=other, title="There")
    bob = user_id(app, BOB)
    form = {"action": "assign", "assignee": str(bob), "ids": [str(i) for i in [*here, there]]}
    response = post(auth_client, "/tasks/bulk", form, htmx=True)
    assert response.status_code == 200
    body = html.unescape(response.get_data(as_text=True))
    assert (
        "Updated 2 tasks. 1 task could not be assigned: the person chosen is not a member of"
        " its project." in body
    )
    assert [get_task(app, t).assignee_id for t in [*here, there]] == [bob, bob, None]
    # Two refused: said in the plural.
    second = add_task(app, project_id=other, title="There too")
    refused = {**form, "ids": [str(there), str(second), str(here[0])], "assignee": "0"}
    post(auth_client, "/tasks/bulk", refused, htmx=True)  # here[0] unassigned
    body = html.unescape(
        post(auth_client, "/tasks/bulk", {**refused, "assignee": str(bob)}, htmx=True).get_data(
            as_text=True
        )
    )
    assert (
        "Updated 1 task. 2 tasks could not be assigned: the person chosen is not a member of"
        " their projects." in body
    )
    # Nobody: unassigns.
    post(auth_client, "/tasks/bulk", {**form, "assignee": "0"}, htmx=True)
    assert [get_task(app, t).assignee_id for t in here] == [None, None]


@pytest.mark.security
@pytest.mark.parametrize("assignee", ["cy", "-1", "99999999999", "x", ""])
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_bulk_assign_to_a_non_member_changes_nothing(app, auth_client, team, assignee, htmx):
    task = add_task(app, project_id=team, title="Job")
    forged = str(user_id(app, "cy@example.com")) if assignee == "cy" else assignee
    form = {"action": "assign", "assignee": forged, "ids": [str(task)]}
    response = post(auth_client, "/tasks/bulk", form, htmx=htmx)
    assert response.status_code == 422
    body = html.unescape(response.get_data(as_text=True))
    expected = "not a member" if assignee == "cy" else "Choose who to assign the tasks to."
    assert expected in body
    assert get_task(app, task).assignee_id is None


def test_the_bulk_bar_offers_the_projects_members(app, auth_client, team):
    page = html.unescape(auth_client.get(f"/projects/{team}").get_data(as_text=True))
    bar = page.split('id="bulk-assignee"', 1)[1].split("</select>", 1)[0]
    # The members by name, then nobody.
    offered = re.findall(r">([^<]+)</option>", bar)
    assert offered == ["Ada", "Bob Builder", "Eve", "Nobody"]
    assert ">Cy<" not in bar


def test_a_ticked_row_and_its_next_repeat_keep_showing_the_assignee(app, auth_client, team):
    """The toggle answers with rows made by UPDATE ... RETURNING and an INSERT: the assignee's
    name comes with them (a subquery in RETURNING, on both databases)."""
    bob = user_id(app, BOB)
    task = add_task(app, project_id=team, title="Weekly", assignee_id=bob, recurrence="FREQ=WEEKLY")
    response = post(auth_client, f"/tasks/{task}/toggle", {"done": "1"}, htmx=True)
    assert response.status_code == 200
    body = html.unescape(response.get_data(as_text=True))
    # The ticked row and the next one, each with the name as accessible text.
    assert body.count('<span class="visually-hidden">Assigned to Bob Builder</span>') == 2
    with app.app_context():
        assignees = db.session.scalars(select(Task.assignee_id).where(Task.title == "Weekly"))
        assert list(assignees) == [bob, bob]


def test_assignments_show_in_views_and_the_activity_log(app, auth_client, team):
    """A row on a view across projects shows its assignee as a project's list does; the
    project's activity says who assigned what to whom."""
    task = add_task(app, project_id=team, title="Job")
    ada = user_id(app, ADA)
    post(auth_client, f"/tasks/{task}", _edit_form(auth_client, task, assignee_id=str(ada)))
    mine = html.unescape(auth_client.get("/tasks/assigned").get_data(as_text=True))
    assert '<span class="visually-hidden">Assigned to Ada</span>' in mine
    form = {"action": "assign", "assignee": str(user_id(app, BOB)), "ids": [str(task)]}
    assert post(auth_client, "/tasks/bulk", form, htmx=True).status_code == 200
    log = html.unescape(auth_client.get(f"/projects/{team}/activity").get_data(as_text=True))
    assert "(Ada)" in log and "(Bob Builder)" in log
