"""Repeat rules: building, validating, describing, and the next due date, at both ends of the
calendar; and through HTTP, ticking off a series whose next date there is none."""

from __future__ import annotations

import random
import re
from datetime import date, datetime, time, timedelta

import pytest
from dateutil.rrule import DAILY, WEEKLY, rrule, weekdays
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Task
from app.tasks.recurrence import (
    DAYS,
    build_rule,
    describe,
    next_due,
    rule_to_choices,
    validate_rule,
)
from tests.helpers import add_task, app_today, post

D = date


@pytest.mark.parametrize(
    ("freq", "interval", "days", "rule"),
    [
        ("", 1, [], None),
        ("daily", 1, [], "FREQ=DAILY"),
        ("daily", 3, [], "FREQ=DAILY;INTERVAL=3"),
        ("weekdays", 1, ["SA"], "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        ("weekly", 1, [], "FREQ=WEEKLY"),
        ("weekly", 2, ["WE", "MO"], "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE"),
        ("monthly", 1, ["MO"], "FREQ=MONTHLY"),
        ("yearly", 5, [], "FREQ=YEARLY;INTERVAL=5"),
    ],
)
def test_build_and_read_back(freq, interval, days, rule):
    assert build_rule(freq, interval, days) == rule
    if rule:
        assert validate_rule(rule) is None
        expected_days = sorted(days, key="MOTUWETHFRSASU".index) if freq == "weekly" else []
        assert rule_to_choices(rule) == (freq, interval, expected_days)


@pytest.mark.parametrize(
    "rule",
    [
        "",
        "FREQ=HOURLY",
        "FREQ=DAILY;COUNT=3",
        "FREQ=DAILY;INTERVAL=0",
        "FREQ=DAILY;INTERVAL=366",
        "FREQ=DAILY;INTERVAL=x",
        "FREQ=DAILY;BYDAY=MO",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=WEEKLY;BYDAY=MO,MO",
        "FREQ=WEEKLY;BYDAY=",
        "FREQ=DAILY;FREQ=DAILY",
        "garbage",
        "FREQ=DAILY;" + "X" * 200,
    ],
)
def test_invalid_rules_are_explained_not_raised(rule):
    assert isinstance(validate_rule(rule), str)
    assert rule_to_choices(rule) == ("", 1, [])


@pytest.mark.parametrize(
    ("rule", "due", "completed", "expected"),
    [
        ("FREQ=DAILY", D(2026, 11, 25), D(2026, 11, 25), D(2026, 11, 26)),
        ("FREQ=DAILY", D(2026, 12, 31), D(2026, 12, 31), D(2027, 1, 1)),
        ("FREQ=DAILY;INTERVAL=3", D(2026, 11, 25), D(2026, 11, 25), D(2026, 11, 28)),
        ("FREQ=DAILY", D(2026, 11, 20), D(2026, 11, 25), D(2026, 11, 26)),  # overdue: no pile-up
        ("FREQ=DAILY", D(2026, 11, 27), D(2026, 11, 25), D(2026, 11, 28)),  # early: one step
        ("FREQ=DAILY", None, D(2026, 11, 25), D(2026, 11, 26)),
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", D(2026, 11, 27), D(2026, 11, 27), D(2026, 11, 30)),
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", D(2026, 11, 24), D(2026, 11, 24), D(2026, 11, 25)),
        ("FREQ=WEEKLY;BYDAY=MO,WE", D(2026, 11, 25), D(2026, 11, 25), D(2026, 11, 30)),
        ("FREQ=WEEKLY;BYDAY=MO,WE", D(2026, 11, 23), D(2026, 11, 23), D(2026, 11, 25)),
        ("FREQ=WEEKLY", D(2026, 11, 25), D(2026, 11, 25), D(2026, 12, 2)),
        ("FREQ=WEEKLY;INTERVAL=2", D(2026, 11, 25), D(2026, 11, 25), D(2026, 12, 9)),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", D(2026, 11, 23), D(2026, 11, 23), D(2026, 12, 7)),
        ("FREQ=MONTHLY", D(2026, 11, 25), D(2026, 11, 25), D(2026, 12, 25)),
        ("FREQ=MONTHLY", D(2027, 1, 31), D(2027, 1, 31), D(2027, 2, 28)),
        ("FREQ=MONTHLY", D(2028, 1, 31), D(2028, 1, 31), D(2028, 2, 29)),
        ("FREQ=MONTHLY", D(2027, 1, 31), D(2027, 3, 1), D(2027, 3, 31)),  # back to the 31st
        ("FREQ=MONTHLY", D(2026, 8, 31), D(2026, 8, 31), D(2026, 9, 30)),
        ("FREQ=MONTHLY;INTERVAL=3", D(2026, 11, 30), D(2026, 11, 30), D(2027, 2, 28)),
        ("FREQ=MONTHLY", D(2026, 1, 15), D(2026, 11, 25), D(2026, 12, 15)),  # long overdue
        ("FREQ=YEARLY", D(2028, 2, 29), D(2028, 2, 29), D(2029, 2, 28)),
        ("FREQ=YEARLY", D(2029, 2, 28), D(2029, 2, 28), D(2030, 2, 28)),
        ("FREQ=YEARLY", D(2026, 12, 25), D(2026, 12, 25), D(2027, 12, 25)),
        ("FREQ=YEARLY;INTERVAL=4", D(2024, 2, 29), D(2024, 2, 29), D(2028, 2, 29)),
    ],
)
def test_next_due(rule, due, completed, expected):
    assert next_due(rule, due, completed) == expected


RULES = (
    "FREQ=DAILY",
    "FREQ=DAILY;INTERVAL=365",
    "FREQ=WEEKLY",
    "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,FR",
    "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    "FREQ=MONTHLY",
    "FREQ=MONTHLY;INTERVAL=7",
    "FREQ=YEARLY",
    "FREQ=YEARLY;INTERVAL=365",
)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize(
    ("due", "completed"),
    [
        (date.max, date.max),
        (date.max, D(2026, 11, 25)),  # ticked early: still nothing after the last day
        (None, date.max),
        (D(9999, 12, 31), D(9999, 12, 31)),
    ],
)
def test_no_next_occurrence_after_the_calendars_last_day(rule, due, completed):
    assert next_due(rule, due, completed) is None


@pytest.mark.parametrize(
    ("rule", "due", "expected"),
    [
        ("FREQ=DAILY", D(9999, 12, 30), D(9999, 12, 31)),
        ("FREQ=DAILY;INTERVAL=2", D(9999, 12, 30), None),
        ("FREQ=DAILY;INTERVAL=365", D(9999, 12, 25), None),
        ("FREQ=WEEKLY", D(9999, 12, 24), D(9999, 12, 31)),
        ("FREQ=WEEKLY", D(9999, 12, 25), None),
        ("FREQ=WEEKLY;BYDAY=MO,FR", D(9999, 12, 27), D(9999, 12, 31)),  # Mon -> Fri
        ("FREQ=WEEKLY;BYDAY=MO", D(9999, 12, 27), None),
        ("FREQ=MONTHLY", D(9999, 11, 30), D(9999, 12, 30)),
        ("FREQ=MONTHLY", D(9999, 12, 1), None),
        ("FREQ=MONTHLY;INTERVAL=2", D(9999, 11, 1), None),
        ("FREQ=YEARLY", D(9998, 12, 31), D(9999, 12, 31)),
        ("FREQ=YEARLY", D(9996, 2, 29), D(9997, 2, 28)),
        ("FREQ=YEARLY;INTERVAL=4", D(9996, 2, 29), None),
    ],
)
def test_the_last_occurrences_before_the_calendar_ends(rule, due, expected):
    assert next_due(rule, due, due) == expected


@pytest.mark.parametrize(
    ("rule", "due", "completed", "expected"),
    [
        ("FREQ=DAILY", date.min, date.min, D(1, 1, 2)),
        ("FREQ=DAILY;INTERVAL=365", date.min, date.min, D(2, 1, 1)),  # year 1 is common
        ("FREQ=WEEKLY", date.min, date.min, D(1, 1, 8)),
        ("FREQ=WEEKLY;BYDAY=SU", date.min, date.min, D(1, 1, 7)),  # 1 Jan 1 was a Monday
        ("FREQ=MONTHLY", D(1, 1, 31), D(1, 1, 31), D(1, 2, 28)),
        ("FREQ=YEARLY", D(4, 2, 29), D(4, 2, 29), D(5, 2, 28)),
        ("FREQ=YEARLY;INTERVAL=4", D(4, 2, 29), D(4, 2, 29), D(8, 2, 29)),
        # Due in year 1, done near the end: the schedule steps straight to the completion day.
        ("FREQ=DAILY", date.min, D(9999, 12, 30), D(9999, 12, 31)),
        ("FREQ=DAILY;INTERVAL=7", date.min, D(2026, 11, 25), D(2026, 11, 30)),  # a Monday
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU,WE,TH,FR", date.min, D(9999, 12, 30), D(9999, 12, 31)),
        ("FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,TU,WE,TH,FR", date.min, D(9999, 12, 30), None),
        ("FREQ=MONTHLY", date.min, D(9999, 11, 30), D(9999, 12, 1)),
        ("FREQ=YEARLY", date.min, D(9999, 12, 30), None),
    ],
)
def test_the_calendars_first_days(rule, due, completed, expected):
    assert next_due(rule, due, completed) == expected


def _rrule_next(rule: str, anchor: date, after: date) -> date | None:
    """What dateutil's RFC 5545 engine says (daily and weekly rules): the reference."""
    parts = dict(item.split("=") for item in rule.split(";"))
    schedule = rrule(
        DAILY if parts["FREQ"] == "DAILY" else WEEKLY,
        dtstart=datetime.combine(anchor, time()),
        interval=int(parts.get("INTERVAL", "1")),
        byweekday=[weekdays[DAYS.index(d)] for d in parts["BYDAY"].split(",")]
        if "BYDAY" in parts
        else None,
    )
    found = schedule.after(datetime.combine(after, time()))
    return found.date() if found else None


@pytest.mark.parametrize("seed", range(4))
def test_daily_and_weekly_steps_agree_with_rfc_5545(seed):
    generator = random.Random(seed)
    for _ in range(250):
        freq = generator.choice(["DAILY", "WEEKLY"])
        parts = [f"FREQ={freq}", f"INTERVAL={generator.choice([1, 2, 3, 5, 13])}"]
        if freq == "WEEKLY" and generator.random() < 0.7:
            parts.append(
                "BYDAY=" + ",".join(sorted(set(generator.choices(DAYS, k=3)), key=DAYS.index))
            )
        rule = ";".join(parts)
        anchor = D(2020, 1, 1) + timedelta(days=generator.randrange(3000))
        completed = anchor + timedelta(days=generator.randrange(-10, 200))
        assert next_due(rule, anchor, completed) == _rrule_next(
            rule, anchor, max(anchor, completed)
        ), (rule, anchor, completed)


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ("FREQ=DAILY", "Every day"),
        ("FREQ=DAILY;INTERVAL=2", "Every 2 days"),
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "Every weekday"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE", "Every 2 weeks on Mon, Wed"),
        ("FREQ=WEEKLY", "Every week"),
        ("FREQ=MONTHLY", "Every month"),
        ("FREQ=YEARLY", "Every year"),
        ("nonsense", "Does not repeat"),
    ],
)
def test_describe(rule, text):
    assert describe(rule) == text


# ---- through HTTP: the editor, quick add, the toggle and bulk "done" --------------------


def _tasks(app) -> list[Task]:
    with app.app_context():
        tasks = list(
            db.session.scalars(select(Task).options(selectinload(Task.tags)).order_by(Task.id))
        )
        db.session.expunge_all()
        return tasks


def _edit(client, task_id, due, repeat, **extra):
    version = re.search(
        r'name="version" type="hidden" value="(\d+)"',
        client.get(f"/tasks/{task_id}/edit").get_data(as_text=True),
    ).group(1)
    form = {"title": "Renew", "priority": "0", "due_date": due, "repeat": repeat}
    response = post(client, f"/tasks/{task_id}", {**form, "version": version, **extra})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]


ENDED = "“Renew” repeats no more: its next date would be after 31 Dec 9999."


@pytest.mark.parametrize(
    ("repeat", "extra"),
    [
        ("daily", {}),
        ("daily", {"interval": "365"}),
        ("weekdays", {}),
        ("weekly", {"weekdays": ["MO", "FR"]}),
        ("monthly", {}),
        ("yearly", {"interval": "2"}),
    ],
)
def test_ticking_off_a_series_at_the_calendars_end_ends_it(app, auth_client, repeat, extra):
    task_id = add_task(app, title="Renew")
    _edit(auth_client, task_id, "9999-12-31", repeat, **extra)
    assert _tasks(app)[0].recurrence  # the editor saved a repeating task

    response = post(auth_client, f"/tasks/{task_id}/toggle", {"done": "1"}, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="task-{task_id}" class="task-row is-done"' in body and "<html" not in body
    toast = re.search(r'hx-swap-oob="afterbegin:#toasts">(.*?)</div></div>', body, re.S)
    assert toast and "Done. " + ENDED in toast.group(1)
    [task] = _tasks(app)  # done, and no next copy
    assert task.done and task.due_date == date.max and task.recurrence is None
    # Ticked again after unticking: still one task, no toast (the rule has ended).
    post(auth_client, f"/tasks/{task_id}/toggle", {}, htmx=True)
    again = post(auth_client, f"/tasks/{task_id}/toggle", {"done": "1"}, htmx=True)
    assert again.status_code == 200 and "repeats no more" not in again.get_data(as_text=True)
    assert len(_tasks(app)) == 1


def test_quick_added_series_at_the_calendars_end_ends_with_a_flash(app, auth_client):
    created = post(auth_client, "/tasks", {"title": "Renew 9999-12-31 every day"})
    assert created.status_code == 303
    [task] = _tasks(app)
    assert (task.due_date, task.recurrence) == (date.max, "FREQ=DAILY")
    assert "Renew" in auth_client.get("/tasks").get_data(as_text=True)

    response = post(auth_client, f"/tasks/{task.id}/toggle", {"done": "1"})
    assert response.status_code == 303
    page = auth_client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<p class="flash flash-info">Done. ' + ENDED + "</p>" in page
    [task] = _tasks(app)
    assert task.done and task.recurrence is None


def test_bulk_done_ends_the_series_at_the_calendars_end_and_continues_the_others(app, auth_client):
    due = date(app_today(app).year + 1, 3, 2)
    ending = add_task(app, title="Renew", due_date=date.max, recurrence="FREQ=YEARLY")
    weekly = add_task(app, title="Water", due_date=due, recurrence="FREQ=WEEKLY", tags=["Home"])
    plain = add_task(app, title="Once")
    ids = [str(ending), str(weekly), str(plain)]
    response = post(auth_client, "/tasks/bulk", {"ids": ids, "action": "done"}, htmx=True)
    assert response.status_code == 200
    assert "Updated 3 tasks. " + ENDED in response.get_data(as_text=True)
    tasks = _tasks(app)
    assert [(t.title, t.done, t.recurrence, t.due_date) for t in tasks] == [
        ("Renew", True, None, date.max),
        ("Water", True, None, due),
        ("Once", True, None, None),
        ("Water", False, "FREQ=WEEKLY", due + timedelta(days=7)),
    ]
    assert [t.name for t in tasks[-1].tags] == ["Home"]

    both = [str(add_task(app, title=t, due_date=date.max, recurrence="FREQ=DAILY")) for t in "AB"]
    plain = post(auth_client, "/tasks/bulk", {"ids": both, "action": "done"})
    assert plain.status_code == 303
    page = auth_client.get("/tasks").get_data(as_text=True)
    assert "Updated 2 tasks. 2 repeating tasks repeat no more" in page
    assert len(_tasks(app)) == 6


@pytest.mark.parametrize("repeat", ["daily", "weekly", "monthly", "yearly"])
def test_a_series_due_in_year_one_continues_from_the_day_it_is_done(app, auth_client, repeat):
    task_id = add_task(app, title="Renew")
    _edit(auth_client, task_id, "0001-01-01", repeat)
    response = post(auth_client, f"/tasks/{task_id}/toggle", {"done": "1"}, htmx=True)
    assert response.status_code == 200 and "Next “Renew” is due" in response.get_data(as_text=True)
    first, following = _tasks(app)
    on = app_today(app)
    assert first.done and not following.done and following.recurrence == first_rule(repeat)
    assert following.due_date == next_due(first_rule(repeat), date.min, on) > on


def first_rule(repeat: str) -> str:
    return build_rule(repeat, 1, [])


@pytest.mark.parametrize(
    ("repeat", "due", "expected"),
    [
        ("yearly", "2028-02-29", date(2029, 2, 28)),
        ("yearly", "2032-02-29", date(2033, 2, 28)),
        ("monthly", "2031-01-31", date(2031, 2, 28)),
        ("monthly", "2032-01-31", date(2032, 2, 29)),
        ("monthly", "2031-03-31", date(2031, 4, 30)),
    ],
)
def test_short_months_clamp_the_next_copy_through_http(app, auth_client, repeat, due, expected):
    task_id = add_task(app, title="Renew")
    _edit(auth_client, task_id, due, repeat)
    assert post(auth_client, f"/tasks/{task_id}/toggle", {"done": "1"}).status_code == 303
    first, following = _tasks(app)
    assert first.done and (following.due_date, following.done) == (expected, False)
