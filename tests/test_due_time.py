"""Due times: quick add's time words, the editor's time field, what rows show, and repeating
tasks keeping their time."""

from __future__ import annotations

from datetime import date, time

import pytest

from app.tasks.quickadd import parse_quick_add
from tests.helpers import HTMX, add_task, edit_data, get_task, post

TODAY = date(2026, 11, 25)  # a Wednesday
D, T = date, time


@pytest.mark.parametrize(
    ("text", "title", "due", "at"),
    [
        ("Call Ada tomorrow 9am", "Call Ada", D(2026, 11, 26), T(9, 0)),
        ("Standup friday 17:30", "Standup", D(2026, 11, 27), T(17, 30)),
        ("Dinner today 6pm", "Dinner", TODAY, T(18, 0)),
        ("Call tomorrow at 9:15am", "Call", D(2026, 11, 26), T(9, 15)),
        ("x 12am tomorrow", "x", D(2026, 11, 26), T(0, 0)),
        ("x 12pm", "x", TODAY, T(12, 0)),  # a time alone: today
        ("x at 07:05", "x", TODAY, T(7, 5)),
        ("x 9PM.", "x", TODAY, T(21, 0)),
        ("x 9am 10am", "x", TODAY, T(10, 0)),  # the last one wins
        ("x 25:00", "x 25:00", None, None),
        ("x 9:60", "x 9:60", None, None),
        ("x 13pm", "x 13pm", None, None),
        ("x 0am", "x 0am", None, None),
        ("Route 9", "Route 9", None, None),
        ("Meet at noon", "Meet at noon", None, None),
        ("look at 5", "look at 5", None, None),
        (r"Buy \9am coffee", "Buy 9am coffee", None, None),
    ],
)
def test_time_grammar(text, title, due, at):
    parsed = parse_quick_add(text, TODAY)
    assert (parsed.title, parsed.due, parsed.due_time) == (title, due, at)


def test_a_repeat_with_a_time_starts_on_its_first_day():
    parsed = parse_quick_add("Gym every monday 7am", TODAY)
    assert (parsed.due, parsed.due_time, parsed.repeat) == (
        D(2026, 11, 30),
        T(7, 0),
        "FREQ=WEEKLY;BYDAY=MO",
    )


def _task(app, title):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Task

    with app.app_context():
        return db.session.scalars(select(Task).where(Task.title == title)).one()


def test_quick_add_stores_the_time_and_the_row_shows_it(app, auth_client):
    response = post(auth_client, "/tasks", {"title": "Call Ada 2030-01-15 9:30am"}, htmx=True)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "09:30" in body and 'datetime="2030-01-15T09:30"' in body
    task = _task(app, "Call Ada")
    assert (task.due_date, task.due_time) == (D(2030, 1, 15), T(9, 30))
    page = auth_client.get("/tasks").get_data(as_text=True)
    assert "Jan 15, 2030 09:30" in page or "Jan 15 09:30" in page


def _edit(task, **changes):
    """The editor's form for `task`, its time included, with `changes`."""
    at = task.due_time.strftime("%H:%M") if task.due_time else ""
    return edit_data(task, **{"due_time": at, **changes})


def test_editor_sets_and_clears_the_time(app, auth_client):
    task_id = add_task(app, title="Report")
    editor = auth_client.get(f"/tasks/{task_id}/edit", headers=HTMX).get_data(as_text=True)
    assert 'name="due_time"' in editor and 'type="time"' in editor
    data = _edit(get_task(app, task_id), due_date="2030-03-01", due_time="08:45")
    response = post(auth_client, f"/tasks/{task_id}", data, htmx=True)
    assert response.status_code == 200 and "08:45" in response.get_data(as_text=True)
    assert get_task(app, task_id).due_time == T(8, 45)
    data = _edit(get_task(app, task_id), due_time="")
    assert post(auth_client, f"/tasks/{task_id}", data, htmx=True).status_code == 200
    saved = get_task(app, task_id)
    assert (saved.due_date, saved.due_time) == (D(2030, 3, 1), None)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"due_date": "", "due_time": "09:00"}, "A time goes with a due date"),
        ({"due_date": "2030-03-01", "due_time": "25:00"}, "Not a valid time value."),
        ({"due_date": "2030-03-01", "due_time": "9am"}, "Not a valid time value."),
    ],
)
def test_bad_times_answer_422_and_change_nothing(app, auth_client, changes, message):
    task_id = add_task(app, title="Keep")
    response = post(auth_client, f"/tasks/{task_id}", _edit(get_task(app, task_id), **changes))
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    saved = get_task(app, task_id)
    assert (saved.version, saved.due_time) == (1, None)


def test_bulk_clearing_the_date_clears_the_time(app, auth_client):
    post(auth_client, "/tasks", {"title": "Timed 2030-01-15 9am"})
    task = _task(app, "Timed")
    response = post(
        auth_client, "/tasks/bulk", {"ids": str(task.id), "action": "due", "due_date": ""}
    )
    assert response.status_code == 303
    saved = get_task(app, task.id)
    assert (saved.due_date, saved.due_time) == (None, None)


def test_the_next_occurrence_keeps_the_time(app, auth_client):
    post(auth_client, "/tasks", {"title": "Standup every day 9:15"})
    first = _task(app, "Standup")
    assert post(auth_client, f"/tasks/{first.id}/toggle", {"done": "1"}).status_code == 303
    following = get_task(app, first.id + 1)
    assert (following.title, following.due_time) == ("Standup", T(9, 15))
