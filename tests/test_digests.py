"""The daily digest: mailed at the hour each user chose, in their zone (Auckland and Los
Angeles, either side of the date line, sharing a project), once a day however many
schedulers scan, with what is overdue, due today and assigned to them; and its one-click
unsubscribe link (RFC 8058), which works without signing in and cannot be forged. The
clock is the `clock` fixture; mail goes to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select, update

from app import digests
from app.extensions import db
from app.mail.unsubscribe import token_for
from app.models import Role, Task, User
from tests.helpers import add_member, add_project, add_task, create_user, login, post
from tests.live import all_at_once
from tests.mailbox import parts

ADA, BOB = "ada@example.com", "bob@example.com"  # Auckland, Los Angeles


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# 20:00 UTC on 14 June is 8:00 on the 15th in Auckland (NZST, UTC+12) and 13:00 on the 14th in
# Los Angeles (PDT, UTC-7); 15:00 UTC on the 15th is 8:00 there.
AUCKLAND_8AM = _utc(2026, 6, 14, 20, 0)
LOS_ANGELES_8AM = _utc(2026, 6, 15, 15, 0)


def _opt_in(app, email: str, zone: str, hour: int = 8) -> None:
    with app.app_context():
        db.session.execute(
            update(User).where(User.email == email).values(timezone=zone, digest_hour=hour)
        )
        db.session.commit()


@pytest.fixture
def shared(make_app, mailbox, clock):
    """Ada (Auckland) and Bob (Los Angeles), both opted in at 8:00, in Ada's project "Team"
    with one task due on 15 June; each has a task of their own overdue."""
    clock(_utc(2026, 6, 10, 0, 0))
    app = make_app(**mailbox.settings)
    create_user(app, ADA, name="Ada")
    create_user(app, BOB, name="Bob")
    team = add_project(app, ADA, "Team")
    add_member(app, team, BOB, Role.EDITOR)
    add_task(app, ADA, title="Ship the release", project_id=team, due_date=date(2026, 6, 15))
    add_task(app, ADA, title="Ada's old chore", due_date=date(2026, 6, 1))
    add_task(app, BOB, title="Bob's old chore", due_date=date(2026, 6, 1))
    _opt_in(app, ADA, "Pacific/Auckland")
    _opt_in(app, BOB, "America/Los_Angeles")
    return app


def _send(app) -> int:
    with app.app_context():
        return digests.send_due()


def _digest_for(mailbox, address):
    return [m for m in mailbox.to(address) if m["Subject"].startswith("Your Tasklane day")]


def test_each_user_gets_it_at_their_hour_in_their_zone(shared, mailbox, clock):
    clock(AUCKLAND_8AM - timedelta(minutes=1))
    assert _send(shared) == 0
    clock(AUCKLAND_8AM)
    assert _send(shared) == 1
    [ada] = mailbox.messages
    assert ada["To"] == ADA and ada["Subject"] == "Your Tasklane day: Monday 15 June"
    text, html = parts(ada)
    # 15 June in Auckland: the shared task is due today there; her own chore is overdue.
    assert text.index("Overdue") < text.index("Ada's old chore") < text.index("Due today")
    assert text.index("Due today") < text.index("Ship the release")
    assert "Bob's old chore" not in text + html  # Bob's Inbox: not hers to see
    clock(LOS_ANGELES_8AM - timedelta(minutes=1))
    assert _send(shared) == 0  # 7:59 in Los Angeles; Ada had today's
    clock(LOS_ANGELES_8AM)
    assert _send(shared) == 1
    [bob] = _digest_for(mailbox, BOB)
    assert bob["Subject"] == "Your Tasklane day: Monday 15 June"
    text, _ = parts(bob)
    assert "Ship the release" in text and "Bob's old chore" in text
    assert "Ada's old chore" not in text


def test_once_a_day_however_many_schedulers_scan(shared, make_app, mailbox, clock):
    """Two schedulers (each its own app and database connection) scanning in the same
    minute, then again later that hour and the next: one digest."""
    other = make_app(**mailbox.settings)
    clock(AUCKLAND_8AM)
    sent = all_at_once([lambda: _send(shared), lambda: _send(other)])
    assert sorted(sent) == [0, 1]
    for later in (timedelta(minutes=1), timedelta(minutes=59), timedelta(hours=2)):
        clock(AUCKLAND_8AM + later)
        assert _send(shared) == _send(other) == 0
    assert len(_digest_for(mailbox, ADA)) == 1
    clock(AUCKLAND_8AM + timedelta(days=1))  # the next morning: the next day's
    assert _send(shared) == 1
    assert len(_digest_for(mailbox, ADA)) == 2


def test_a_scheduler_down_at_the_hour_catches_up_but_not_for_ever(shared, mailbox, clock):
    clock(AUCKLAND_8AM + timedelta(hours=digests.CATCH_UP, minutes=30))
    assert _send(shared) == 1
    with shared.app_context():
        db.session.execute(update(User).values(digest_sent_on=None))
        db.session.commit()
    clock(AUCKLAND_8AM + timedelta(hours=digests.CATCH_UP + 1))
    assert _send(shared) == 0


def test_content_overdue_by_the_time_today_and_assigned(shared, mailbox, clock):
    with shared.app_context():
        bob_id = db.session.scalar(select(User.id).where(User.email == BOB))
    team = None
    with shared.app_context():
        team = db.session.scalar(select(Task.project_id).where(Task.title == "Ship the release"))
    day = date(2026, 6, 15)  # Auckland's today at AUCKLAND_8AM
    add_task(shared, ADA, title="Standup", project_id=team, due_date=day, due_time=time(7, 30))
    add_task(shared, ADA, title="Lunch", project_id=team, due_date=day, due_time=time(12, 0))
    add_task(shared, ADA, title="Done already", due_date=day, done=True)
    add_task(shared, ADA, title="Review for Bob", project_id=team, assignee_id=bob_id)
    add_task(shared, ADA, title="Deleted", due_date=day, deleted_at=_utc(2026, 6, 9))
    _opt_in(shared, BOB, "Pacific/Auckland")
    clock(AUCKLAND_8AM)
    assert _send(shared) == 2
    text, _ = parts(_digest_for(mailbox, ADA)[0])
    overdue, today = text.split("Due today")
    assert "Standup" in overdue  # 7:30 today is past at 8:00
    assert "Lunch" in today and "Ship the release" in today
    assert "Done already" not in text and "Deleted" not in text
    assert "Assigned to you" not in text
    [bob] = _digest_for(mailbox, BOB)
    text, _ = parts(bob)
    assert "Assigned to you" in text and "Review for Bob" in text.split("Assigned to you")[1]
    assert "http://tasklane.test/tasks/" in text


def test_nothing_to_say_unverified_or_not_opted_in_sends_nothing(make_app, mailbox, clock):
    clock(_utc(2026, 6, 10, 0, 0))
    app = make_app(**mailbox.settings)
    create_user(app, ADA)
    create_user(app, BOB, verified=False)
    create_user(app, "cy@example.com")
    _opt_in(app, ADA, "UTC")  # nothing due
    _opt_in(app, BOB, "UTC")
    add_task(app, BOB, title="Overdue", due_date=date(2026, 6, 1))
    add_task(app, "cy@example.com", title="Overdue", due_date=date(2026, 6, 1))
    clock(_utc(2026, 6, 10, 8, 0))
    assert _send(app) == 0 and mailbox.messages == []


def _unsubscribe_link(message) -> str:
    header = message["List-Unsubscribe"]
    assert header.startswith("<") and header.endswith(">")
    link = header[1:-1]
    text, html = parts(message)
    assert link in text and link in html.replace("&amp;", "&")
    return link


def test_headers_and_one_click_unsubscribe_without_signing_in(shared, mailbox, clock):
    clock(AUCKLAND_8AM)
    _send(shared)
    [message] = mailbox.messages
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = _unsubscribe_link(message)
    base = shared.config["BASE_URL"].rstrip("/")
    assert link.startswith(f"{base}/unsubscribe/digest?token=")
    path = link.removeprefix(base)
    client = shared.test_client()  # nobody signed in, no CSRF token
    page = client.get(path)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Stop the daily digest to <strong>ada@example.com</strong>?" in body
    with shared.app_context():  # a GET (a mail scanner's) changes nothing
        assert db.session.scalar(select(User.digest_hour).where(User.email == ADA)) == 8
    # RFC 8058: the mail client POSTs this body to the header's address, nothing else.
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "will no longer get the daily digest" in done.text
    with shared.app_context():
        assert db.session.scalar(select(User.digest_hour).where(User.email == ADA)) is None
        assert db.session.scalar(select(User.digest_hour).where(User.email == BOB)) == 8
    clock(AUCKLAND_8AM + timedelta(days=1))
    _send(shared)
    assert len(_digest_for(mailbox, ADA)) == 1  # no digest the next day
    again = client.get(path)
    assert again.status_code == 200 and "no longer gets the daily digest" in again.text


def test_forged_and_misused_unsubscribe_links_are_refused(shared, clock):
    with shared.app_context():
        ada, bob = (db.session.scalar(select(User).where(User.email == e)) for e in (ADA, BOB))
        ada_token = token_for(ada, "digest")
        bob_key = token_for(bob, "digest") and bob.mail_key
        # Bob's id with Ada's key, signed with another secret; Bob's id and key, unsigned.
        forged = [
            URLSafeSerializer("not-the-secret", salt="tasklane.unsubscribe.digest").dumps(
                [bob.id, bob_key]
            ),
            ada_token[:-2] + ("AA" if not ada_token.endswith("AA") else "BB"),
            URLSafeSerializer(shared.secret_key, salt="tasklane.unsubscribe.digest").dumps(
                [bob.id, ada.mail_key]
            ),
            "",
            "x" * 5000,
        ]
    client = shared.test_client()
    for token in forged:
        for method in (client.get, client.post):
            response = method("/unsubscribe/digest", query_string={"token": token})
            assert response.status_code == 400, token
            assert "This unsubscribe link does not work" in response.text
    # A digest link does not turn off reminder mail, nor an unknown kind anything.
    for kind in ("reminders", "everything"):
        response = client.post(f"/unsubscribe/{kind}", query_string={"token": ada_token})
        assert response.status_code == 400
    with shared.app_context():
        assert set(db.session.scalars(select(User.digest_hour))) == {8}
        assert set(db.session.scalars(select(User.reminder_mail))) == {True}


def test_the_account_page_sets_the_digest_and_range_checks_the_hour(app, client, user):
    login(client)
    page = client.get("/account").get_data(as_text=True)
    assert "Mail me a daily digest" in page and "23:00" in page
    for bad in ("24", "-1", "abc", "99999999999999999999999"):
        response = post(client, "/account/mail", {"digest": "y", "digest_hour": bad})
        assert response.status_code == 422, bad
    response = post(client, "/account/mail", {"digest": "y", "digest_hour": "24"})
    assert "Choose an hour from 00:00 to 23:00." in response.text
    ok = post(
        client,
        "/account/mail",
        {"digest": "y", "digest_hour": "7", "reminder_mail": "y", "default_reminder": "60"},
    )
    assert ok.status_code == 302
    with app.app_context():
        saved = db.session.get(User, user)
        assert (saved.digest_hour, saved.reminder_mail, saved.default_reminder) == (7, True, 60)
    post(client, "/account/mail", {"digest_hour": "7", "default_reminder": ""})
    with app.app_context():
        saved = db.session.get(User, user)
        assert (saved.digest_hour, saved.reminder_mail, saved.default_reminder) == (
            None,
            False,
            None,
        )
    bad_offset = post(client, "/account/mail", {"default_reminder": "7"})
    assert bad_offset.status_code == 422 and "Not a valid choice" in bad_offset.text
    assert urlsplit(ok.location).path == "/account"
