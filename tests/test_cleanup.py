"""The hourly clean-up job, with the clock given (the `clock` fixture): deleted tasks go once
the undo window is over and not before, expired mailed links go, read notifications go after
READ_NOTIFICATIONS_KEPT while unread ones stay; and the scheduler runs it every hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app import activity, cleanup, user_tokens
from app.extensions import db
from app.jobs import huey
from app.models import Activity, Notification, Task, User, UserToken
from app.tasks.services import UNDO_WINDOW
from tests.helpers import add_project, add_task, create_user, user_id

NOW = datetime(2026, 6, 14, 12, 0, tzinfo=UTC)


def _titles(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(Task.title)))


def test_deleted_tasks_go_after_the_undo_window_in_every_project(app, clock):
    create_user(app)
    project = add_project(app)
    add_task(app, title="Kept")
    add_task(app, title="Restorable", deleted_at=NOW - UNDO_WINDOW + timedelta(minutes=1))
    add_task(app, title="Old inbox", deleted_at=NOW - UNDO_WINDOW - timedelta(minutes=1))
    add_task(app, title="Old project", project_id=project, deleted_at=NOW - timedelta(days=9))
    clock(NOW)
    with app.app_context():
        counts = cleanup.purge()
    assert counts["deleted tasks"] == 2
    assert _titles(app) == {"Kept", "Restorable"}
    clock(NOW + timedelta(minutes=2))
    with app.app_context():
        assert cleanup.purge()["deleted tasks"] == 1
    assert _titles(app) == {"Kept"}


def test_expired_links_go_live_ones_stay(app, clock):
    create_user(app)
    with app.app_context():
        ada = db.session.get(User, user_id(app))
        user_tokens.issue(ada, user_tokens.RESET)  # an hour, from the real clock
        user_tokens.issue(ada, user_tokens.VERIFY)  # seven days
        db.session.commit()
        issued = db.session.scalar(select(UserToken.created_at).limit(1))
    clock(issued + timedelta(minutes=59))
    with app.app_context():
        assert cleanup.purge()["expired links"] == 0
    clock(issued + timedelta(hours=1, minutes=1))
    with app.app_context():
        assert cleanup.purge()["expired links"] == 1
        assert list(db.session.scalars(select(UserToken.purpose))) == [user_tokens.VERIFY]
    clock(issued + timedelta(days=8))
    with app.app_context():
        assert cleanup.purge()["expired links"] == 1
        assert db.session.scalar(select(UserToken.id)) is None


def test_read_notifications_go_after_a_month_unread_ones_stay(app, clock):
    create_user(app)
    kept = cleanup.READ_NOTIFICATIONS_KEPT
    with app.app_context():
        ada = user_id(app)
        for text, created, read in (
            ("old and read", NOW - kept * 2, NOW - kept - timedelta(hours=1)),
            ("read lately", NOW - kept * 2, NOW - kept + timedelta(hours=1)),
            ("old, never read", NOW - kept * 3, None),
        ):
            db.session.add(
                Notification(
                    user_id=ada, kind="reminder", text=text, created_at=created, read_at=read
                )
            )
        db.session.commit()
    clock(NOW)
    with app.app_context():
        assert cleanup.purge()["read notifications"] == 1
        left = set(db.session.scalars(select(Notification.text)))
    assert left == {"read lately", "old, never read"}


def test_activity_past_what_the_page_shows_goes_per_project(app):
    """A project with more events than its page shows keeps its newest SHOWN; one with few
    keeps them all."""
    create_user(app)
    busy, quiet = add_project(app, name="Busy"), add_project(app, name="Quiet")
    extra = 3
    with app.app_context():
        for project_id, n in ((busy, activity.SHOWN + extra), (quiet, 2)):
            for i in range(n):
                db.session.add(Activity(project_id=project_id, action="added", task_title=f"{i}"))
        db.session.commit()
        assert cleanup.purge()["activity past the page"] == extra
        left = {busy: [], quiet: []}
        for project_id, title in db.session.execute(
            select(Activity.project_id, Activity.task_title)
        ):
            left[project_id].append(int(title))
    assert sorted(left[busy]) == list(range(extra, activity.SHOWN + extra))  # oldest went
    assert sorted(left[quiet]) == [0, 1]
    with app.app_context():
        assert cleanup.purge()["activity past the page"] == 0


def test_the_scheduler_runs_it_every_hour():
    def periodic_at(minute: int) -> set[str]:
        moment = datetime(2026, 6, 14, 12, minute)  # Huey's clock: naive UTC
        return {task.name for task in huey.read_periodic(moment)}

    assert "hourly" in " ".join(periodic_at(7))
    assert "hourly" not in " ".join(periodic_at(8))
