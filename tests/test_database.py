"""Migrations agree with the models, run both ways, and /healthz tells the truth."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import SAWarning

from app.database import sqlite_writer
from app.extensions import db
from app.models import Task
from tests.conftest import create_user, login

pytestmark = pytest.mark.security


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as conn, warnings.catch_warnings():
        # SQLite cannot reflect expression indexes, so Alembic leaves them out of the
        # comparison there; test_list_indexes_exist_as_declared checks them instead.
        warnings.filterwarnings(
            "ignore", "Skipped unsupported reflection of expression-based index", SAWarning
        )
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_list_indexes_exist_as_declared(app):
    """The migrated database has each list index with the model's columns and predicate."""
    from sqlalchemy.schema import CreateIndex

    with app.app_context():
        dialect = db.engine.dialect
        expected = {
            index.name: _normalise(str(CreateIndex(index).compile(dialect=dialect)))
            for index in Task.__table__.indexes
            if index.name.startswith("ix_tasks_list_")
        }
        assert len(expected) == 6
        if dialect.name == "sqlite":
            sql = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tasks'"
        else:
            sql = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tasks'"
        actual = {name: _normalise(ddl) for name, ddl in db.session.execute(text(sql))}
        for name, ddl in expected.items():
            assert name in actual, f"{name} is missing"
            if dialect.name == "sqlite":
                assert actual[name] == ddl
            else:
                # pg_indexes prints its own canonical form; compare the parts that matter.
                assert "where (deleted_at is null)" in actual[name]
                assert actual[name].startswith(f"create index {name} on public.tasks using btree")
        assert not {"ix_tasks_owner_due", "ix_tasks_owner_priority", "ix_tasks_owner_created"} & (
            actual.keys()
        )


def _normalise(ddl: str) -> str:
    """Lower case, single spaces, no quotes, no parentheses around index expressions."""
    ddl = " ".join(ddl.replace('"', "").lower().split())
    return re.sub(r"\((due_date is (?:not )?null|-priority)\)", r"\1", ddl)


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


def _write(app, fail: bool = False, entered=None, proceed=None):
    """One write transaction the way a POST makes one (tasklane_write), optionally failing."""
    with (
        app.app_context(),
        db.engine.connect().execution_options(tasklane_write=True) as conn,
        conn.begin(),
    ):
        conn.execute(text("UPDATE users SET display_name = display_name"))
        if entered is not None:
            entered.set()
            assert proceed.wait(10)
        if fail:
            raise RuntimeError("the view failed")


HOLD_LOCK = """
import fcntl, sys
with open(sys.argv[1], "a") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_sqlite_writers_of_other_processes_take_turns_through_a_lock_file(app):
    """A second worker's writer waits for the lock file beside the database, and goes in as
    soon as the other process lets go (rather than polling SQLite's lock)."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's write queue")
        lock_file = f"{db.engine.url.database}-writer.lock"
    create_user(app)
    other = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, lock_file],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdout.readline().strip() == "held"
        done = []
        writer = threading.Thread(target=lambda: (_write(app), done.append(time.monotonic())))
        writer.start()
        writer.join(0.5)
        assert writer.is_alive() and done == []  # waiting for the other process's turn
        let_go = time.monotonic()
        other.stdin.write("\n")
        other.stdin.flush()
        writer.join(10)
        assert done and done[0] - let_go < 1  # woken by the release, not by a timeout
    finally:
        other.kill()
        other.wait()


def test_sqlite_writers_of_a_process_take_turns_and_a_failed_one_lets_go(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's write queue")
        queue = sqlite_writer(db.engine)
    create_user(app)
    entered, proceed, done = threading.Event(), threading.Event(), []
    first = threading.Thread(target=lambda: _write(app, entered=entered, proceed=proceed))
    first.start()
    assert entered.wait(10)
    assert queue.locked()  # the first writer holds the queue while its transaction is open
    second = threading.Thread(target=lambda: (_write(app), done.append("second")))
    second.start()
    # Readers never queue: a read transaction runs while the writer is inside.
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM users")).scalar() == 1
        db.session.rollback()
    second.join(0.3)
    assert second.is_alive() and done == []  # the second writer waits for its turn
    proceed.set()
    first.join(10)
    second.join(10)
    assert done == ["second"] and not queue.locked()

    with pytest.raises(RuntimeError, match="the view failed"):
        _write(app, fail=True)
    assert not queue.locked()  # the rollback returned the connection, and the turn with it
    _write(app)  # and the next writer goes straight in
    assert not queue.locked()
