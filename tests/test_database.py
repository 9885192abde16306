"""Migrations agree with the models, run both ways, and /healthz tells the truth."""

from __future__ import annotations

import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from app.extensions import db
from tests.conftest import create_user, login

pytestmark = pytest.mark.security


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_downgrade_and_upgrade_again(app):
    with app.app_context():
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        upgrade()  # a second run is a no-op
        assert {"users", "tasks", "tags", "task_tags", "login_sessions"} <= set(
            inspect(db.engine).get_table_names()
        )


def test_sqlite_runs_in_wal_mode_with_busy_timeout(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite pragmas")
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_healthz_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "up"}


def test_database_down_answers_503_fast(make_app, app):
    create_user(app)
    browser = app.test_client()
    login(browser)
    down = make_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://postgres@127.0.0.1:9/none")
    client = down.test_client()
    started = time.monotonic()
    health = client.get("/healthz")
    assert health.status_code == 503
    # A signed-in user's page needs the database for the session: a friendly 503 page.
    client.set_cookie("tasklane_session", browser.get_cookie("tasklane_session").value)
    page = client.get("/tasks")
    assert time.monotonic() - started < 4
    assert page.status_code == 503
    body = page.get_data(as_text=True)
    assert "Temporarily unavailable" in body and "Traceback" not in body
