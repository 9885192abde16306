"""The backup drill, on each database: a populated database backed up with `flask backup`,
restored with `flask restore` into a new one, holds the same rows in every table (and the
same Alembic revision), and the restored database serves. A restore never overwrites a
database that holds tables unless told to."""

from __future__ import annotations

from datetime import timedelta

from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.models import (
    Activity,
    AuditEntry,
    Invitation,
    JobFailure,
    Notification,
    Reminder,
    Role,
    UserToken,
    utcnow,
)
from tests.helpers import (
    PASSWORD,
    add_member,
    add_project,
    add_task,
    create_user,
    login,
    new_database,
    post,
    user_id,
)
from tests.shell import flask_cli

TABLES = [t.name for t in db.metadata.sorted_tables] + ["alembic_version"]


def _populate(app) -> None:
    """A row or more in every table, through the real sign-in and the helpers the other
    tests use; what no helper makes is added directly."""
    ada = create_user(app, email="ada@example.com", name="Ada Lovelace")
    create_user(app, email="root@example.com", name="Root", admin=True)
    bob = create_user(app, email="bob@example.com", name="Bob")
    project = add_project(app, name="Launch \u00e9t\u00e9 \u2713")
    add_member(app, project, "bob@example.com", Role.EDITOR)
    task = add_task(app, project_id=project, title="Ship it", tags=["work", "Urgent"])
    add_task(app, title="Notes with 'quotes' and \\\\ slashes", notes="**bold**\nline two")
    client = app.test_client()
    assert login(client).status_code == 302  # a login session, its audit entry
    assert post(client, "/tasks", {"title": "Pay rent #home !1 tomorrow"}).status_code < 400
    now = utcnow()
    with app.app_context():
        db.session.add_all(
            [
                Invitation(
                    project_id=project, email="carol@example.com", role=2, invited_by_id=ada
                ),
                AuditEntry(action="test", actor_id=ada, detail="made by the drill"),
                UserToken(
                    user_id=bob,
                    purpose="verify",
                    email="bob@example.com",
                    token_hash="ab" * 32,
                    expires_at=now + timedelta(days=1),
                ),
                JobFailure(job="mail.send", summary="a mail", error="timeout", attempts=3),
                Activity(project_id=project, actor_id=ada, task_id=task, action="created"),
                Reminder(task_id=task, offset_minutes=30, user_id=ada, fire_at=now),
                Notification(user_id=bob, kind="assignment", task_id=task, text="Ship it"),
            ]
        )
        db.session.commit()


def _rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = {}
            for name in TABLES:
                rows = conn.execute(text(f'SELECT * FROM "{name}"'))
                found[name] = sorted((tuple(row) for row in rows), key=repr)
            return found
    finally:
        engine.dispose()


def test_backup_restores_every_row_into_a_new_database(app, database_url, tmp_path):
    _populate(app)
    before = _rows(database_url)
    empty = sorted(name for name, rows in before.items() if not rows)
    assert not empty, f"the drill left tables empty, proving nothing for them: {empty}"

    file = tmp_path / "tasklane.backup"
    made = flask_cli(database_url, "backup", str(file))
    assert made.returncode == 0, made.stderr
    assert "Backed up" in made.stdout and file.stat().st_size > 0

    with new_database(database_url, tmp_path) as target:
        restored = flask_cli(database_url, "restore", str(file), "--into", target)
        assert restored.returncode == 0, restored.stderr
        assert _rows(target) == before
        # The restored database serves: sign in, and a new task gets a fresh id (the
        # sequences came along on PostgreSQL).
        served = create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": target})
        try:
            client = served.test_client()
            assert login(client, email="bob@example.com", password=PASSWORD).status_code == 302
            assert post(client, "/tasks", {"title": "After the restore"}).status_code < 400
            with served.app_context():
                assert (
                    db.session.execute(
                        text("SELECT count(*) FROM tasks WHERE title = 'After the restore'")
                    ).scalar()
                    == 1
                )
        finally:
            with served.app_context():
                db.session.remove()
                db.engine.dispose()


def test_restore_refuses_a_database_with_tables_unless_forced(app, database_url, tmp_path):
    _populate(app)
    file = tmp_path / "tasklane.backup"
    assert flask_cli(database_url, "backup", str(file)).returncode == 0
    with new_database(database_url, tmp_path) as target:
        other = create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": target})
        with other.app_context():
            upgrade()  # tables, no rows: a fresh install someone meant to keep
            db.engine.dispose()
        create_user(other, email="kept@example.com")
        refused = flask_cli(database_url, "restore", str(file), "--into", target)
        assert refused.returncode != 0
        assert "not empty" in refused.stderr and "--force" in refused.stderr
        assert user_id(other, "kept@example.com")  # untouched
        with other.app_context():
            db.engine.dispose()

        forced = flask_cli(database_url, "restore", str(file), "--into", target, "--force")
        assert forced.returncode == 0, forced.stderr
        assert _rows(target) == _rows(database_url)


def test_restore_names_a_file_that_is_no_backup(app, database_url, tmp_path):
    file = tmp_path / "notes.txt"
    file.write_text("not a backup")
    with new_database(database_url, tmp_path) as target:
        result = flask_cli(database_url, "restore", str(file), "--into", target)
    assert result.returncode != 0 and "is not a" in result.stderr
