"""How a due date reads at a glance, seen from a given day (the user's today:
app.timezones.today_for)."""

from __future__ import annotations

from datetime import date, time

from markupsafe import Markup

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


def due_mark(due: date, at: time | None, done: bool, on: date, time_of_day) -> Markup:
    """A task's due date as its row shows it: `<time class="due-STATE" datetime=...>`, with
    "Overdue · " for an open task past its time. One call a row where the template made six
    (state, label, ISO date, time of day) at a Jinja call's cost each. `time_of_day` is asked
    only for a task due today at a time (has that time passed?)."""
    now = time_of_day() if at is not None and due == on else None
    state = due_state(due, on, at, now)
    iso = due.isoformat()
    label = due_label(due, on)
    if at is not None:
        hhmm = at.strftime("%H:%M")
        iso, label = f"{iso}T{hhmm}", f"{label} {hhmm}"
    if state == "overdue" and not done:
        label = f"Overdue · {label}"
    # Dates, times and constants only, no user text: nothing to escape (Markup.format cost
    # as much again as the rest of this function).
    return Markup(f'<time class="due-{state}" datetime="{iso}">{label}</time>')  # noqa: S704


def priority_marks(priorities) -> dict[int, Markup]:
    """Each priority's mark (`priorities`: the Priority enum), made once: the stylesheet
    draws !, !! or !!! by its class, the hidden words are what a screen reader says. A row
    looks its mark up rather than building it (an enum call, a filter and two escapes)."""
    return {
        p.value: Markup('<span class="priority-{}"><span>{} priority</span></span>').format(
            p.name.lower(), p.label
        )
        for p in priorities
        if p
    }
