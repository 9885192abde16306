"""How a due date reads at a glance, seen from a given day (the user's today:
app.timezones.today_for)."""

from __future__ import annotations

from datetime import date, time

SOON_DAYS = 7


def is_overdue(due: date, at: time | None, on: date, now: time | None) -> bool:
    """Overdue on the user's clock (`on` their today, `now` their time of day): due on an
    earlier day, or today at a time that has passed. listing.overdue_condition says the same
    in SQL."""
    return due < on or (due == on and at is not None and now is not None and at < now)


def due_state(due: date | None, on: date, at: time | None = None, now: time | None = None) -> str:
    """What a due date is, seen from `on`; with the task's time `at` and the user's time of
    day `now`, a task due today whose time has passed is overdue."""
    if due is None:
        return "none"
    if is_overdue(due, at, on, now):
        return "overdue"
    if due == on:
        return "today"
    if (due - on).days <= SOON_DAYS:
        return "soon"
    return "later"


def due_label(due: date, on: date) -> str:
    days = (due - on).days
    if days == 0:
        return "Today"
    if days == 1:
        return "Tomorrow"
    if days == -1:
        return "Yesterday"
    if 1 < days < 7:
        return due.strftime("%A")
    if due.year == on.year:
        return f"{due.strftime('%b')} {due.day}"
    return f"{due.strftime('%b')} {due.day}, {due.year}"
