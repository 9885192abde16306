"""Per-user time zones: one instant, two dates. Ada is in Auckland and Bob in Los Angeles,
and they share Ada's project "Team"; at 20:00 UTC on Sunday 14 June 2026 it is Monday
morning for Ada and Sunday lunchtime for Bob. What each sees as today, overdue or tomorrow,
what "tomorrow" in quick add means and when a repeating task comes back follow their own
zone. Then the DST changes, the account form and the zone registration proposes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Role, Task, User
from tests.helpers import (
    HTMX,
    account_post,
    add_member,
    add_project,
    add_task,
    create_user,
    get_task,
    login,
    post,
    register,
)

ADA, BOB = "ada@example.com", "bob@example.com"
AUCKLAND, LOS_ANGELES = "Pacific/Auckland", "America/Los_Angeles"
# Monday 15 June 08:00 in Auckland (NZST, +12), Sunday 14 June 13:00 in Los Angeles (PDT, -7).
INSTANT = datetime(2026, 6, 14, 20, 0, tzinfo=UTC)
ADA_TODAY, BOB_TODAY = date(2026, 6, 15), date(2026, 6, 14)


def set_zone(client, zone: str):
    """The account page's time zone form, as a browser without JavaScript posts it."""
    return account_post(client, "/account/timezone", {"timezone": zone})


def signed_in(app, email: str, zone: str | None = None):
    client = app.test_client()
    assert login(client, email=email).status_code == 302
    if zone is not None:
        assert set_zone(client, zone).status_code == 302
    return client


def stored_zone(app, email: str) -> str | None:
    with app.app_context():
        return db.session.scalar(select(User.timezone).where(User.email == email))


def due_shown(html: str, task_id: int) -> tuple[str, str] | None:
    """(state, label) of the task's due date where the page shows its row, e.g. ("today",
    "Today") or ("overdue", "Overdue · Yesterday"); None when the row is not on the page."""
    row = re.search(rf'id="task-{task_id}"(.*?)(?=role="row"|\Z)', html, re.S)
    if row is None:
        return None
    found = re.search(r'<time class="due-(\w+)"[^>]*>([^<]*)</time>', row.group(1))
    assert found, f"task {task_id} is listed without a due date"
    return found.group(1), found.group(2)


def page(client, path: str, **headers) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


@pytest.fixture
def team(app, clock):
    """Ada (Auckland) owns "Team", Bob (Los Angeles) edits it; the clock stands at INSTANT.
    Returns (project id, Ada's client, Bob's client)."""
    clock(INSTANT)
    create_user(app, email=ADA, name="Ada")
    create_user(app, email=BOB, name="Bob")
    project_id = add_project(app, ADA, "Team")
    add_member(app, project_id, BOB, Role.EDITOR)
    return project_id, signed_in(app, ADA, AUCKLAND), signed_in(app, BOB, LOS_ANGELES)


# ---- one instant, two dates ----------------------------------------------------------------


def test_a_shared_task_due_monday_is_today_in_auckland_and_tomorrow_in_los_angeles(app, team):
    project_id, ada, bob = team
    task_id = add_task(app, ADA, title="Ship it", project_id=project_id, due_date=ADA_TODAY)

    assert due_shown(page(ada, "/tasks/today"), task_id) == ("today", "Today")
    assert due_shown(page(ada, "/tasks/upcoming"), task_id) is None
    assert due_shown(page(bob, "/tasks/today"), task_id) is None
    assert due_shown(page(bob, "/tasks/upcoming"), task_id) == ("soon", "Tomorrow")

    # The project's own list, its due filter, the task's page and the row fragment agree.
    for client, label in ((ada, "Today"), (bob, "Tomorrow")):
        assert due_shown(page(client, f"/projects/{project_id}"), task_id)[1] == label
        assert due_shown(page(client, f"/tasks/{task_id}/row", **HTMX), task_id)[1] == label
        assert f">{label}</time> (2026-06-15)" in page(client, f"/tasks/{task_id}")
    assert due_shown(page(ada, f"/projects/{project_id}?due=today"), task_id)
    assert due_shown(page(bob, f"/projects/{project_id}?due=today"), task_id) is None


def test_each_reader_sees_a_moment_on_their_own_clock(app, team):
    """A task made at 20:00 UTC on Sunday: its page says when on each reader's wall clock,
    with the zone's name, as do the sessions on /account."""
    project_id, ada, bob = team
    task_id = add_task(app, ADA, title="Made now", project_id=project_id, created_at=INSTANT)
    assert "<dt>Created</dt><dd>2026-06-15 08:00 NZST</dd>" in page(ada, f"/tasks/{task_id}")
    assert "<dt>Created</dt><dd>2026-06-14 13:00 PDT</dd>" in page(bob, f"/tasks/{task_id}")
    assert re.search(
        r"<td data-label=\"Signed in\">\d{4}-\d\d-\d\d \d\d:\d\d NZ[SD]T</td>",
        page(ada, "/account"),
    )


def test_a_shared_task_due_sunday_is_overdue_in_auckland_and_today_in_los_angeles(app, team):
    project_id, ada, bob = team
    task_id = add_task(app, ADA, title="Ship it", project_id=project_id, due_date=BOB_TODAY)

    # Today lists overdue tasks as well: both see it there, each with their own label.
    assert due_shown(page(ada, "/tasks/today"), task_id) == ("overdue", "Overdue · Yesterday")
    assert due_shown(page(bob, "/tasks/today"), task_id) == ("today", "Today")
    assert due_shown(page(ada, f"/projects/{project_id}?due=overdue"), task_id)
    assert due_shown(page(bob, f"/projects/{project_id}?due=overdue"), task_id) is None


def test_a_task_due_today_at_a_time_past_on_the_users_clock_is_overdue(app, team):
    """8:00 on Monday in Auckland: due Monday 7:30 is overdue there, Monday 9:00 is not yet;
    in Los Angeles both are tomorrow."""
    project_id, ada, bob = team
    past = add_task(app, ADA, title="Standup", project_id=project_id, due_date=ADA_TODAY,
                    due_time=time(7, 30))  # fmt: skip
    later = add_task(app, ADA, title="Lunch", project_id=project_id, due_date=ADA_TODAY,
                     due_time=time(9, 0))  # fmt: skip
    for path in ("/tasks/today", f"/projects/{project_id}"):
        html = page(ada, path)
        assert due_shown(html, past) == ("overdue", "Overdue · Today 07:30")
        assert due_shown(html, later) == ("today", "Today 09:00")
    for path in (f"/projects/{project_id}?due=overdue", "/tasks/all?due=overdue"):
        html = page(ada, path)
        assert due_shown(html, past) and due_shown(html, later) is None, path
        assert due_shown(page(bob, path), past) is None, path
    assert due_shown(page(bob, f"/projects/{project_id}"), past) == ("soon", "Tomorrow 07:30")


def test_quick_add_dates_are_counted_from_each_users_today(app, team):
    project_id, ada, bob = team
    for client, who in ((ada, "Ada"), (bob, "Bob")):
        for word in ("tomorrow", "monday"):
            # The date word leaves the title; the title's own words say who typed what.
            data = {"title": f"{who}-{word} {word}", "project_id": str(project_id)}
            assert post(client, "/tasks", data).status_code == 303
    with app.app_context():
        due = dict(db.session.execute(select(Task.title, Task.due_date)).all())
    assert due == {
        "Ada-tomorrow": date(2026, 6, 16),
        "Bob-tomorrow": date(2026, 6, 15),
        # Monday is Ada's today, so "monday" is a week on; for Bob it is tomorrow.
        "Ada-monday": date(2026, 6, 22),
        "Bob-monday": date(2026, 6, 15),
    }


def test_a_daily_task_comes_back_the_day_after_its_completers_today(app, team):
    project_id, ada, bob = team
    overdue = {"project_id": project_id, "due_date": date(2026, 6, 10)}
    for client, next_due in ((ada, date(2026, 6, 16)), (bob, date(2026, 6, 15))):
        task_id = add_task(app, ADA, title="Water", recurrence="FREQ=DAILY", **overdue)
        response = post(client, f"/tasks/{task_id}/toggle", {"done": "1"}, htmx=True)
        assert response.status_code == 200
        assert "Next “Water” is due Tomorrow." in response.get_data(as_text=True)
        with app.app_context():
            newest = db.session.scalar(select(Task.due_date).order_by(Task.id.desc()).limit(1))
        assert newest == next_due


def test_the_editor_saves_a_date_that_each_user_reads_from_their_own_today(app, team):
    project_id, ada, bob = team
    task_id = add_task(app, ADA, title="Ship it", project_id=project_id)
    edited = {"title": "Ship it", "priority": "0", "due_date": "2026-06-15", "interval": "1"}
    response = post(ada, f"/tasks/{task_id}", {**edited, "version": "1"}, htmx=True)
    assert response.status_code == 200
    assert due_shown(response.get_data(as_text=True), task_id) == ("today", "Today")
    response = post(bob, f"/tasks/{task_id}", {**edited, "version": "2"}, htmx=True)
    assert response.status_code == 200
    assert due_shown(response.get_data(as_text=True), task_id) == ("soon", "Tomorrow")
    assert get_task(app, task_id).due_date == date(2026, 6, 15)


# ---- daylight saving time -----------------------------------------------------------------

# Half an hour either side of local midnight on the days next to each change, where taking
# the offset of the wrong side of the change gives the wrong date.
DST_CASES = [
    ("America/New_York", "2026-03-08T04:30", date(2026, 3, 7)),  # EST, before spring forward
    ("America/New_York", "2026-03-09T04:30", date(2026, 3, 9)),  # EDT, after
    ("America/New_York", "2026-11-01T04:30", date(2026, 11, 1)),  # EDT, before fall back
    ("America/New_York", "2026-11-02T04:30", date(2026, 11, 1)),  # EST, after
    ("Europe/London", "2026-03-28T23:30", date(2026, 3, 28)),  # GMT, before
    ("Europe/London", "2026-03-29T23:30", date(2026, 3, 30)),  # BST, after
    ("Europe/London", "2026-10-24T23:30", date(2026, 10, 25)),  # BST, before
    ("Europe/London", "2026-10-25T23:30", date(2026, 10, 25)),  # GMT, after
]


@pytest.mark.parametrize(("zone", "instant", "local_date"), DST_CASES)
def test_around_a_dst_change_today_is_the_date_on_the_users_wall_clock(
    app, clock, zone, instant, local_date
):
    clock(datetime.fromisoformat(instant).replace(tzinfo=UTC))
    create_user(app)
    client = signed_in(app, ADA, zone)
    assert post(client, "/tasks", {"title": "Call home today"}).status_code == 303
    with app.app_context():
        task_id, due = db.session.execute(select(Task.id, Task.due_date)).one()
    assert due == local_date
    assert due_shown(page(client, "/tasks/today"), task_id) == ("today", "Today")


# ---- the account page -----------------------------------------------------------------------


def test_a_new_account_follows_the_instances_zone(app, auth_client, clock):
    clock(INSTANT)
    body = page(auth_client, "/account")
    assert '<option selected value="">Same as the server (UTC)</option>' in body
    assert "It is now" in body and ">Sunday 14 June, 20:00</time> there." in body
    assert stored_zone(app, ADA) is None


def test_choosing_a_zone_saves_it_and_the_page_shows_it(app, auth_client, clock):
    clock(INSTANT)
    response = set_zone(auth_client, AUCKLAND)
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert stored_zone(app, ADA) == AUCKLAND
    body = page(auth_client, "/account")
    assert "Your time zone was saved." in body
    assert f'<option selected value="{AUCKLAND}">{AUCKLAND}</option>' in body
    assert ">Monday 15 June, 08:00</time> there." in body
    # Back to the server's: stored as no choice, so it follows a change of TIMEZONE.
    assert set_zone(auth_client, "").status_code == 302
    assert stored_zone(app, ADA) is None


@pytest.mark.parametrize(
    "zone",
    [
        "Mars/Olympus_Mons",
        "localtime",
        "Factory",
        "pacific/auckland",
        "../../etc/passwd",
        "x" * 300,
    ],
)
def test_an_unknown_zone_is_refused_with_a_message_and_the_saved_one_stays(app, auth_client, zone):
    assert set_zone(auth_client, AUCKLAND).status_code == 302
    response = set_zone(auth_client, zone)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Unknown time zone: choose one from the list" in body
    assert f'<option selected value="{AUCKLAND}">' in body  # the menu shows what is saved
    assert stored_zone(app, ADA) == AUCKLAND


def test_a_form_without_the_zone_field_is_refused(app, auth_client):
    response = account_post(auth_client, "/account/timezone", {})
    assert response.status_code == 422
    assert "Unknown time zone" in response.get_data(as_text=True)


def test_a_stored_zone_the_server_no_longer_has_falls_back_to_the_instances(
    app, auth_client, clock
):
    clock(INSTANT)
    with app.app_context():
        db.session.execute(update(User).values(timezone="Atlantis/Capital"))
        db.session.commit()
    task_id = add_task(app, title="Ship it", due_date=BOB_TODAY)
    assert due_shown(page(auth_client, "/tasks/today"), task_id) == ("today", "Today")  # UTC
    assert page(auth_client, "/account")


# ---- registration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ({"timezone": AUCKLAND}, AUCKLAND),  # what the browser proposed
        ({"timezone": "Mars/Olympus_Mons"}, None),  # no browser sends this: the server's
        ({"timezone": "localtime"}, None),
        ({"timezone": "a\x00b"}, None),
        ({"timezone": ""}, None),  # JavaScript off
        ({}, None),  # no field at all
    ],
)
def test_registration_keeps_the_browsers_zone_only_if_the_server_knows_it(
    app, client, sent, stored
):
    response = register(client, **sent)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert stored_zone(app, "grace@example.com") == stored


def test_the_registration_form_carries_the_field_the_script_fills(client):
    body = page(client, "/register")
    assert re.search(r'<input data-browser-timezone="" id="timezone" name="timezone"', body)
