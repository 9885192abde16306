"""`flask users deactivate|activate|demote|delete|set-password`: the web's actions and guards."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, LoginSession, Task
from tests.helpers import PASSWORD, create_user, get_user, inbox_of, login
from tests.shell import flask_cli

TEMPORARY = "harbour-violet-engine-19"


def run(app, *args, stdin=None):
    return app.test_cli_runner().invoke(args=["users", *args], input=stdin)


def test_deactivate_ends_sessions_and_activate_restores_sign_in(app, client, user):
    login(client)
    result = run(app, "deactivate", "ADA@example.com")
    assert result.exit_code == 0, result.output
    assert "ada@example.com is deactivated and signed out everywhere." in result.output
    assert client.get("/tasks").status_code == 302
    assert login(app.test_client()).status_code == 401
    result = run(app, "activate", "ada@example.com")
    assert result.exit_code == 0 and "can sign in again" in result.output
    assert login(app.test_client()).status_code == 302
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.detail.contains("command line"))
        ).all()
    assert actions == ["user_activated"]  # the deactivation's detail counts sessions instead
    with app.app_context():
        detail = db.session.scalar(
            select(AuditEntry.detail).where(AuditEntry.action == "user_deactivated")
        )
    assert detail == "1 session(s) ended"


def test_demote_refuses_the_last_active_admin(app):
    create_user(app, email="root@example.com", admin=True)
    create_user(app, email="grace@example.com", admin=True)
    assert run(app, "demote", "grace@example.com").exit_code == 0
    assert not get_user(app, "grace@example.com").is_admin
    refused = run(app, "demote", "root@example.com")
    assert refused.exit_code != 0
    assert "root@example.com is the last active admin" in refused.output
    refused = run(app, "deactivate", "root@example.com")
    assert refused.exit_code != 0 and "last active admin" in refused.output
    root = get_user(app, "root@example.com")
    assert root.is_admin and root.is_active


def test_delete_asks_unless_yes_and_keeps_the_last_admin(app):
    create_user(app, email="root@example.com", admin=True)
    uid = create_user(app, email="ada@example.com")
    with app.app_context():
        db.session.add(Task(project_id=inbox_of()[1], created_by_id=uid, title="Mine"))
        db.session.commit()
    kept = run(app, "delete", "ada@example.com", stdin="n\n")
    assert kept.exit_code != 0 and "Nothing was deleted." in kept.output
    assert get_user(app, "ada@example.com") is not None
    gone = run(app, "delete", "ada@example.com", "--yes")
    assert gone.exit_code == 0 and "Deleted ada@example.com and all their data." in gone.output
    assert get_user(app, "ada@example.com") is None
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Task)) == 0
    refused = run(app, "delete", "root@example.com", "--yes")
    assert refused.exit_code != 0 and "last active admin" in refused.output
    missing = run(app, "delete", "ghost@example.com", "--yes")
    assert missing.exit_code != 0 and "No user with email ghost@example.com." in missing.output


def test_set_password_from_a_pipe_is_temporary_unless_permanent(app, database_url, client, user):
    login(client)
    result = flask_cli(database_url, "users", "set-password", "ada@example.com", stdin=TEMPORARY)
    assert result.returncode == 0, result.stderr
    assert "Temporary password set for ada@example.com" in result.stdout
    assert client.get("/tasks").status_code == 302  # the old session ended
    assert get_user(app, "ada@example.com").must_change_password
    browser = app.test_client()
    assert login(browser, password=TEMPORARY).status_code == 302
    assert browser.get("/tasks").headers["Location"] == "/account"

    result = run(app, "set-password", "ada@example.com", "--permanent", stdin=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert not get_user(app, "ada@example.com").must_change_password
    weak = run(app, "set-password", "ada@example.com", stdin="password\n")
    assert weak.exit_code != 0 and "commonly used" in weak.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 0
        details = db.session.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "user_password_set")
        ).all()
    assert details == ["temporary; 1 session(s) ended", "permanent; 1 session(s) ended"]
    assert login(app.test_client(), password=PASSWORD).status_code == 302
