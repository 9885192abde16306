"""The README's screenshots, of a list that looks like someone's week: a dozen tasks with
tags, priorities and due dates, one overdue and three repeating; the inline editor; the
shortcut help; a phone; the dark scheme; the admin user list.

The tests run with the suite and check what each picture would show. Only with
SCREENSHOTS=1 (`make screenshots`) do they write the pictures, to docs/screenshots/: a
normal test run leaves the tracked files alone.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from app.extensions import db
from app.models import Priority, Tag, User, utcnow
from tests.browser.helpers import sign_in
from tests.helpers import add_task, app_today, create_user, user_id

pytestmark = [pytest.mark.browser, pytest.mark.one_database]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TAGS = {
    "work": "#4f46e5",
    "home": "#16a34a",
    "health": "#dc2626",
    "errands": "#d97706",
    "travel": "#0891b2",
    "family": "#db2777",
    "reading": "#7c3aed",
}
H, M, L = Priority.HIGH, Priority.MEDIUM, Priority.LOW
# Title, due in days from today (None: no date), priority, tags, recurrence, notes.
WEEK = [
    ("Send the Q3 invoice to Northwind", -2, H, ["work"], None, "Net 30, PO 4471."),
    ("Review Maya's pull request", 0, M, ["work"], None, ""),
    ("Book a dentist appointment", 0, None, ["health"], None, ""),
    ("Water the plants", 1, None, ["home"], "FREQ=DAILY;INTERVAL=3", ""),
    ("Buy oat milk and coffee beans", 1, None, ["errands"], None, ""),
    ("Call grandma", 3, None, ["family"], None, ""),
    ("Pay the electricity bill", 5, M, ["home"], "FREQ=MONTHLY", ""),
    ("Team sync: write up the notes", 6, None, ["work"], "FREQ=WEEKLY", ""),
    ("Renew passport", 12, H, ["travel"], None, "Photos first; the form is online."),
    ("Plan the Lisbon trip", 24, L, ["travel", "family"], None, "Flights in May?"),
    ("Read “The Design of Everyday Things”", None, None, ["reading"], None, ""),
    ("Back up the laptop", None, L, ["home"], None, ""),
]
# Email, name, open and done tasks, joined and last seen (days ago; None: never signed in).
PEOPLE = [
    ("grace@example.com", "Grace Hopper", 4, 11, 212, 0),
    ("alan@example.com", "Alan Turing", 9, 3, 180, 2),
    ("katherine@example.com", "Katherine Johnson", 2, 25, 96, 1),
    ("edsger@example.com", "Edsger Dijkstra", 6, 0, 61, 40),
    ("barbara@example.com", "Barbara Liskov", 0, 0, 3, None),
    ("radia@example.com", "Radia Perlman", 3, 7, 14, 5),
]


def shoot(page, name: str, **options) -> None:
    if os.environ.get("SCREENSHOTS") == "1":
        page.mouse.move(0, 0)  # no hover state in the picture
        page.screenshot(path=str(SHOTS / f"{name}.png"), animations="disabled", **options)


@pytest.fixture
def week(app):
    """Ada's week; returns the id of the task the editor picture opens."""
    create_user(app, name="Ada Lovelace")
    owner = user_id(app)
    with app.app_context():
        db.session.add_all(Tag(owner_id=owner, name=n, colour=c) for n, c in TAGS.items())
        db.session.commit()
    today = app_today(app)
    ids = {}
    for title, days, priority, tags, rule, notes in WEEK:
        ids[title] = add_task(
            app,
            title=title,
            due_date=None if days is None else today + timedelta(days=days),
            priority=priority or Priority.NONE,
            tags=tags,
            recurrence=rule,
            notes=notes,
        )
    return ids["Water the plants"]


@pytest.fixture
def people(app):
    """An admin, Ada, and six more people with some tasks; Edsger is deactivated."""
    create_user(app, email="margaret@example.com", name="Margaret Hamilton", admin=True)
    create_user(app, name="Ada Lovelace")
    add_task(app, title="A task")
    now = utcnow()
    for email, name, open_, done, joined, seen in PEOPLE:
        create_user(app, email=email, name=name)
        for n in range(open_ + done):
            add_task(app, email, title=f"Task {n}", done=n >= open_)
        with app.app_context():
            db.session.execute(
                update(User)
                .where(User.email == email)
                .values(
                    created_at=now - timedelta(days=joined, hours=joined % 7),
                    last_login_at=None if seen is None else now - timedelta(days=seen, hours=3),
                    is_active=email != "edsger@example.com",
                )
            )
            db.session.commit()


def test_the_task_list_light_and_dark_with_the_editor_and_the_help(week, page):
    sign_in(page)
    rows = page.locator(".task-row")
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        expect(rows).to_have_count(len(WEEK))
        expect(page.locator(".task-row .due-overdue")).to_have_count(1)
        expect(page.locator(".task-row .repeat")).to_have_count(3)
        expect(rows.first).to_contain_text("Overdue")  # sorted by due date
        shoot(page, f"tasks-{scheme}", full_page=True)
    page.emulate_media(color_scheme="light")

    page.locator(f"#task-{week}").get_by_role("link", name="Edit").click()
    expect(page.locator(f"#task-{week}").get_by_label("Title")).to_have_value("Water the plants")
    expect(page.locator(f"#task-{week} .repeat-fields")).to_be_visible()
    shoot(page, "tasks-editor", full_page=True)
    page.keyboard.press("Escape")
    expect(page.locator(".task-row.editing")).to_have_count(0)

    page.get_by_role("heading", name="Inbox").click()
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    dialog.evaluate("(d) => { d.scrollTop = 0; }")  # its heading, not its end
    shoot(page, "tasks-help")


def test_the_task_list_on_a_phone(week, page):
    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page)
    expect(page.locator(".task-row")).to_have_count(len(WEEK))
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shoot(page, "tasks-phone", full_page=True)


def test_the_admin_user_list(people, page):
    sign_in(page, "margaret@example.com")
    page.goto("/admin/users")
    expect(page.locator("#user-table tbody tr")).to_have_count(2 + len(PEOPLE))
    expect(page.locator("#user-table .badge-danger")).to_have_text("deactivated")
    expect(page.get_by_role("status")).to_have_text(f"{2 + len(PEOPLE)} users")
    shoot(page, "admin-users", full_page=True)
