"""Reminders fired by the clock (the `clock` fixture, no sleeping): at the right minute in the
recipient's zone, across DST changes, once with two firing calls at once, after a worker died
mid-send, and through an SMTP outage; repeats carry them on. Mail goes to a real SMTP server
(aiosmtpd)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from app import reminders
from app.extensions import db
from app.models import Notification, Reminder, Task, User
from tests.helpers import HTMX, add_task, create_user, get_task, huey_time, post, run_due
from tests.mailbox import Mailbox

ADA = "ada@example.com"


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _setup(app, zone, due, at, offsets, email=ADA):
    """Ada in `zone` with a task due `due` `at`, reminding at `offsets`."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        user.timezone = zone
        db.session.commit()
    task_id = add_task(app, email, title="Call the bank", due_date=due, due_time=at)
    with app.app_context():
        reminders.set_offsets(task_id, offsets)
        db.session.commit()
    return task_id


def _fire(app) -> int:
    with app.app_context():
        return reminders.fire_due()


def _notifications(app) -> list[tuple[int, str, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(Notification.user_id, Notification.kind, Notification.text).order_by(
                Notification.id
            )
        )
        return [tuple(row) for row in rows]


@pytest.fixture
def mail_app(make_app, mailbox):
    app = make_app(**mailbox.settings)
    create_user(app)
    return app


@pytest.mark.parametrize(
    ("zone", "due", "offset", "fires"),
    [
        # New York, the day its clocks go forward (8 Mar 2026): 9:00 is EDT, UTC-4.
        ("America/New_York", date(2026, 3, 8), 0, _utc(2026, 3, 8, 13, 0)),
        # "1 day before" across Paris's change (29 Mar 2026): 9:00 CEST on the 29th, not 8:00.
        ("Europe/Paris", date(2026, 3, 30), 1440, _utc(2026, 3, 29, 7, 0)),
        # An hour before 1:30 on the day the clocks go back (25 Oct 2026): 0:30 CEST.
        ("Europe/Paris", date(2026, 10, 25), 60, _utc(2026, 10, 24, 22, 30)),
        # Auckland, the other side of the date line: 9:00 NZDT on 1 Jan is 20:00 UTC the day before.
        ("Pacific/Auckland", date(2027, 1, 1), 10, _utc(2026, 12, 31, 19, 50)),
    ],
)
def test_a_reminder_fires_at_its_minute_in_the_users_zone(
    mail_app, mailbox, clock, zone, due, offset, fires
):
    at = time(1, 30) if due == date(2026, 10, 25) else time(9, 0)
    clock(fires - timedelta(days=3))
    _setup(mail_app, zone, due, at, [offset])
    clock(fires - timedelta(minutes=1))
    assert _fire(mail_app) == 0 and mailbox.messages == []
    clock(fires)
    assert _fire(mail_app) == 1
    clock(fires + timedelta(minutes=1))
    assert _fire(mail_app) == 0  # once
    [message] = mailbox.messages
    assert message["To"] == ADA and message["Subject"] == "Reminder: Call the bank"
    [(_, kind, text)] = _notifications(mail_app)
    assert kind == "reminder" and "Call the bank" in text and f"{at:%H:%M}" in text


def test_changing_zone_moves_pending_reminders(mail_app, mailbox, clock):
    clock(_utc(2026, 6, 1, 0, 0))
    task_id = _setup(mail_app, "Europe/Paris", date(2026, 6, 10), time(9, 0), [0])
    client = mail_app.test_client()
    from tests.helpers import login

    login(client)
    response = post(client, "/account/timezone", {"timezone": "America/Los_Angeles"})
    assert response.status_code == 302
    with mail_app.app_context():
        fire_at = db.session.scalar(select(Reminder.fire_at).where(Reminder.task_id == task_id))
    assert fire_at == _utc(2026, 6, 10, 16, 0)  # 9:00 PDT


def test_two_firing_calls_at_once_fire_each_reminder_once(make_app, mailbox, clock):
    """Two workers (or schedulers) scanning in the same minute, each on its own database
    connection, started together."""
    first, second = make_app(**mailbox.settings), make_app(**mailbox.settings)
    create_user(first)
    clock(_utc(2026, 6, 1, 0, 0))
    for n in range(5):
        task_id = add_task(first, title=f"T{n}", due_date=date(2026, 6, 2), due_time=time(9, 0))
        with first.app_context():
            reminders.set_offsets(task_id, [0, 10])
            db.session.commit()
    clock(_utc(2026, 6, 2, 12, 0))
    start = threading.Barrier(2)
    fired: list[int] = []

    def worker(app):
        start.wait()
        fired.append(_fire(app))

    threads = [threading.Thread(target=worker, args=(app,)) for app in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(fired) == 10
    assert len(mailbox.messages) == 10
    assert len(_notifications(first)) == 10
    with first.app_context():
        assert db.session.scalar(select(Reminder.id).where(Reminder.sent_at.is_(None))) is None


def test_a_claim_left_by_a_dead_worker_is_retried_once(mail_app, mailbox, clock):
    clock(_utc(2026, 6, 1, 0, 0))
    task_id = _setup(mail_app, "UTC", date(2026, 6, 2), time(9, 0), [0])
    died = _utc(2026, 6, 2, 9, 0)
    with mail_app.app_context():  # a worker claimed it, then was killed before sending
        db.session.execute(update(Reminder).values(claimed_at=died))
        db.session.commit()
    clock(died + timedelta(minutes=1))
    assert _fire(mail_app) == 0  # a live claim is left alone
    clock(died + reminders.STALE_CLAIM + timedelta(minutes=1))
    assert _fire(mail_app) == 1
    clock(died + timedelta(hours=1))
    assert _fire(mail_app) == 0
    assert len(mailbox.messages) == 1 and len(_notifications(mail_app)) == 1
    assert get_task(mail_app, task_id).title == "Call the bank"


def test_a_worker_killed_after_notifying_is_not_repeated(mail_app, mailbox, clock):
    """The notification (under the reminder's key) was written, then the worker died: the
    retry finds it and neither notifies nor mails a second time."""
    clock(_utc(2026, 6, 1, 0, 0))
    task_id = _setup(mail_app, "UTC", date(2026, 6, 2), time(9, 0), [0])
    died = _utc(2026, 6, 2, 9, 0)
    with mail_app.app_context():
        key, user_id = db.session.execute(select(Reminder.key, Reminder.user_id)).one()
        db.session.execute(update(Reminder).values(claimed_at=died))
        db.session.add(
            Notification(user_id=user_id, kind="reminder", task_id=task_id, text="x", key=key)
        )
        db.session.commit()
    clock(died + reminders.STALE_CLAIM + timedelta(minutes=1))
    assert _fire(mail_app) == 1
    assert mailbox.messages == [] and len(_notifications(mail_app)) == 1
    with mail_app.app_context():
        assert db.session.scalar(select(Reminder.sent_at)) is not None


def test_smtp_down_then_back_delivers_the_reminder_once(make_app, tmp_path, clock):
    server = Mailbox()  # its port, nothing listening yet
    app = make_app(QUEUE_URL=f"sqlite:///{tmp_path / 'queue.sqlite3'}", **server.settings)
    create_user(app)
    clock(_utc(2026, 6, 1, 0, 0))
    _setup(app, "UTC", date(2026, 6, 2), time(9, 0), [0])
    clock(_utc(2026, 6, 2, 9, 0))
    assert _fire(app) == 1
    assert run_due() == 1  # the mail job, which failed
    server.start()
    try:
        assert run_due(huey_time(seconds=31)) == 1
        assert run_due(huey_time(days=1)) == 0
    finally:
        server.stop()
    [message] = server.messages
    assert message["Subject"] == "Reminder: Call the bank"
    assert _fire(app) == 0


def test_no_reminder_for_a_done_or_deleted_task_or_one_without_a_time(mail_app, mailbox, clock):
    clock(_utc(2026, 6, 1, 0, 0))
    done = _setup(mail_app, "UTC", date(2026, 6, 2), time(9, 0), [0])
    untimed = add_task(mail_app, title="No time", due_date=date(2026, 6, 2))
    with mail_app.app_context():
        reminders.set_offsets(untimed, [0])
        db.session.execute(update(Task).where(Task.id == done).values(done=True))
        db.session.commit()
    clock(_utc(2026, 6, 3, 0, 0))
    assert _fire(mail_app) == 0 and mailbox.messages == []


def test_the_editor_sets_reminders_and_a_repeat_carries_them(mail_app, mailbox, clock):
    from tests.helpers import login

    clock(_utc(2026, 6, 1, 0, 0))
    client = mail_app.test_client()
    login(client)
    post(client, "/tasks", {"title": "Standup every day 2026-06-02 9:00"})
    with mail_app.app_context():
        task = db.session.scalar(select(Task).where(Task.title == "Standup"))
    editor = client.get(f"/tasks/{task.id}/edit", headers=HTMX).get_data(as_text=True)
    assert 'name="reminders"' in editor and "10 minutes before" in editor
    data = {
        "title": "Standup",
        "priority": "0",
        "due_date": "2026-06-02",
        "due_time": "09:00",
        "reminders": ["0", "10"],
        "repeat": "daily",
        "interval": "1",
        "version": str(task.version),
    }
    assert post(client, f"/tasks/{task.id}", data).status_code == 303
    bad = post(client, f"/tasks/{task.id}", {**data, "reminders": "7", "version": "2"})
    assert bad.status_code == 422 and "not a valid choice" in bad.get_data(as_text=True)
    assert post(client, f"/tasks/{task.id}/toggle", {"done": "1"}).status_code == 303
    with mail_app.app_context():
        rows = db.session.execute(
            select(Reminder.task_id, Reminder.offset_minutes, Reminder.fire_at).order_by(
                Reminder.task_id, Reminder.offset_minutes
            )
        ).all()
    following = task.id + 1
    assert [(r[0], r[1], r[2]) for r in rows if r[0] == following] == [
        (following, 0, _utc(2026, 6, 3, 9, 0)),  # the instance's zone in tests is UTC
        (following, 10, _utc(2026, 6, 3, 8, 50)),
    ]
    clock(_utc(2026, 6, 3, 9, 0))
    assert _fire(mail_app) == 2  # the next occurrence's two; the done one's never fire


def test_reminder_mail_carries_a_one_click_unsubscribe_that_keeps_in_app_notices(
    mail_app, mailbox, clock
):
    clock(_utc(2026, 6, 1, 0, 0))
    _setup(mail_app, "UTC", date(2026, 6, 2), time(9, 0), [0, 60])
    clock(_utc(2026, 6, 2, 8, 0))
    assert _fire(mail_app) == 1
    [message] = mailbox.messages
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message["List-Unsubscribe"].strip("<>")
    assert link.startswith("http://tasklane.test/unsubscribe/reminders?token=")
    client = mail_app.test_client()  # not signed in: the mail client's one-click POST
    response = client.post(
        link.removeprefix("http://tasklane.test"), data="List-Unsubscribe=One-Click"
    )
    assert response.status_code == 200 and "no longer get reminder emails" in response.text
    clock(_utc(2026, 6, 2, 9, 0))
    assert _fire(mail_app) == 1
    assert len(mailbox.messages) == 1  # no second mail, but the notification is there
    assert [kind for _, kind, _ in _notifications(mail_app)] == ["reminder", "reminder"]


def test_the_default_reminder_applies_when_a_task_gets_a_time_without_one_of_its_own(
    mail_app, clock
):
    from tests.helpers import login

    clock(_utc(2026, 6, 1, 0, 0))
    client = mail_app.test_client()
    login(client)
    assert post(client, "/account/mail", {"default_reminder": "60"}).status_code == 302

    def offsets(title):
        with mail_app.app_context():
            task_id = db.session.scalar(select(Task.id).where(Task.title == title))
            return task_id, reminders.offsets_of(task_id)

    post(client, "/tasks", {"title": "Dentist 2026-06-02 9:00"})
    post(client, "/tasks", {"title": "Someday"})
    assert offsets("Dentist")[1] == [60]  # quick add with a time
    assert offsets("Someday")[1] == []  # no time, no reminder
    task_id, _ = offsets("Someday")
    data = {"title": "Someday", "priority": "0", "due_date": "2026-06-03", "version": "1"}
    assert post(client, f"/tasks/{task_id}", data).status_code == 303
    assert offsets("Someday")[1] == []  # a date alone: nothing to remind at
    timed = {**data, "due_time": "10:00", "version": "2"}
    assert post(client, f"/tasks/{task_id}", timed).status_code == 303
    assert offsets("Someday")[1] == [60]  # it got a time, and chose no reminder
    assert post(client, f"/tasks/{task_id}", {**timed, "version": "3"}).status_code == 303
    assert offsets("Someday")[1] == []  # unticked on a task that had its time: stays off
    dentist, _ = offsets("Dentist")
    chosen = {"title": "Dentist", "priority": "0", "due_date": "2026-06-02", "version": "1"}
    post(client, f"/tasks/{dentist}", {**chosen, "due_time": ""})
    post(
        client,
        f"/tasks/{dentist}",
        {**chosen, "due_time": "9:00", "reminders": "10", "version": "2"},
    )
    assert offsets("Dentist")[1] == [10]  # chosen in the same save: the default stays out


def test_removing_a_member_moves_or_cancels_their_reminders_in_that_project(
    mail_app, mailbox, clock
):
    """Bob's reminders in Ada's project: the task he was assigned reminds its creator, Ada,
    once he is removed; the task he added himself reminds nobody; his Inbox's still him."""
    from app.models import Role
    from tests.helpers import add_member, add_project, login, user_id

    clock(_utc(2026, 6, 1, 0, 0))
    create_user(mail_app, "bob@example.com", name="Bob")
    team = add_project(mail_app, name="Team")
    add_member(mail_app, team, "bob@example.com", Role.EDITOR)
    bob = user_id(mail_app, "bob@example.com")
    due = {"due_date": date(2026, 6, 2), "due_time": time(9, 0)}
    assigned = add_task(mail_app, title="Assigned", project_id=team, assignee_id=bob, **due)
    his_own = add_task(mail_app, "bob@example.com", title="His own", project_id=team, **due)
    his_inbox = add_task(mail_app, "bob@example.com", title="His inbox", **due)
    with mail_app.app_context():
        for task_id in (assigned, his_own, his_inbox):
            reminders.set_offsets(task_id, [0])
        db.session.commit()
    client = mail_app.test_client()
    login(client)
    response = post(client, f"/projects/{team}/members/{bob}/remove")
    assert response.status_code == 303
    clock(_utc(2026, 6, 2, 9, 0))
    assert _fire(mail_app) == 2
    sent = sorted((m["To"], m["Subject"]) for m in mailbox.messages)
    assert sent == [
        ("ada@example.com", "Reminder: Assigned"),
        ("bob@example.com", "Reminder: His inbox"),
    ]
