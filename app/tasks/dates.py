"""How a due date reads at a glance, seen from a given day (the user's today:
app.timezones.today_for)."""

from __future__ import annotations

from datetime import date

SOON_DAYS = 7


def due_state(due: date | None, on: date) -> str:
    if due is None:
        return "none"
    if due < on:
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
