"""Migrations agree with the models, run both ways, and /readyz tells the truth (with
tests/test_health.py)."""

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
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import SAWarning

from app import unmodelled
from app.database import SQLITE_MMAP_SIZE, sqlite_writer
from app.extensions import db
from app.models import Task
from tests.helpers import add_task, create_user, get_task, login, prepared_statements

pytestmark = pytest.mark.security


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as conn, warnings.catch_warnings():
        # SQLite cannot reflect expression indexes, so Alembic leaves them out of the
        # comparison there; test_list_indexes_exist_as_declared checks them instead.
        warnings.filterwarnings(
            "ignore", "Skipped unsupported reflection of expression-based index", SAWarning
        )
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
        opts = {"compare_type": True, "include_name": unmodelled.include_name}
        context = MigrationContext.configure(conn, opts=opts)
        assert compare_metadata(context, db.metadata) == []


def test_migrated_schema_matches_the_models_in_every_detail(app, tmp_path):
    """Alembic's comparison above leaves out CHECK constraints, partial-index predicates and
    (on SQLite) expression indexes. Here the models' own DDL (create_all) is run beside the
    migrated schema, on the same database, and both are read back from the database's
    catalog, so each side is in the database's canonical form: every index with its columns
    and expressions in order and its predicate, every CHECK constraint's name and text, every
    foreign key with its ON DELETE, the unique and primary keys and the columns."""
    with app.app_context(), db.engine.connect() as conn:
        migrated = _schema(conn, None)
        if conn.dialect.name == "sqlite":
            engine = create_engine(f"sqlite:///{tmp_path / 'models.sqlite3'}")
            db.metadata.create_all(engine)
            with engine.connect() as models_conn:
                models = _schema(models_conn, None)
            engine.dispose()
        else:
            conn.execute(text("CREATE SCHEMA models_only"))
            try:
                translated = conn.execution_options(schema_translate_map={None: "models_only"})
                db.metadata.create_all(translated)
                models = _schema(conn, "models_only")
            finally:
                conn.rollback()  # the schema and its tables go with the transaction
    assert any("where deleted_at is null" in ddl for ddl in models["indexes"].values())
    assert models["checks"]["tasks"], "no CHECK constraint read back: the test sees nothing"
    for part in models:
        assert migrated[part] == models[part], part


def _schema(conn, schema: str | None) -> dict:
    """The schema's tables as the database itself describes them (alembic_version aside)."""
    with warnings.catch_warnings():
        # SQLite's reflection skips expression indexes; they are read from sqlite_master.
        warnings.filterwarnings(
            "ignore", "Skipped unsupported reflection of expression-based index", SAWarning
        )
        inspector = inspect(conn)
        tables = [
            t
            for t in inspector.get_table_names(schema=schema)
            if t != "alembic_version" and unmodelled.include_name(t, "table", {})
        ]

        def each(read, clean=dict):
            return {t: sorted(map(repr, map(clean, read(t, schema=schema)))) for t in tables}

        def without_schema(fk):
            return {k: v for k, v in fk.items() if k != "referred_schema"}

        return {
            "indexes": _index_ddl(conn, schema),
            "checks": each(inspector.get_check_constraints),
            "foreign_keys": each(inspector.get_foreign_keys, without_schema),
            "unique": each(inspector.get_unique_constraints),
            "primary_keys": {t: inspector.get_pk_constraint(t, schema=schema) for t in tables},
            "columns": {
                t: [
                    (c["name"], str(c["type"]), c["nullable"], _unqualified(c["default"], schema))
                    for c in inspector.get_columns(t, schema=schema)
                    if (t, c["name"]) not in unmodelled.COLUMNS
                ]
                for t in tables
            },
        }


def _unqualified(sql: str | None, schema: str | None) -> str | None:
    return sql.replace(f"{schema}.", "") if sql and schema else sql


def _index_ddl(conn, schema: str | None) -> dict[str, str]:
    """Each index's definition as the catalog prints it, normalised: lower case, one space,
    no quotes, no schema, and no parentheses (SQLite keeps the text each CREATE INDEX was
    written with, and SQLAlchemy and Alembic bracket expressions differently)."""
    if conn.dialect.name == "sqlite":
        sql = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        rows = conn.execute(text(sql))
    else:
        sql = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = :schema"
        rows = conn.execute(text(sql), {"schema": schema or "public"})
    indexes = {}
    for name, ddl in rows:
        if name == "alembic_version_pkc" or name in unmodelled.INDEXES:
            continue
        ddl = ddl.replace('"', "").replace(f" {schema or 'public'}.", " ").lower()
        ddl = re.sub(r"[()]", " ", ddl)
        indexes[name] = re.sub(r" ,", ",", " ".join(ddl.split()))
    return indexes


def test_downgrade_and_upgrade_again(app):
    with app.app_context():
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        upgrade()  # a second run is a no-op
        assert {"users", "tasks", "tags", "task_tags", "login_sessions"} <= set(
            inspect(db.engine).get_table_names()
        )


def test_sqlite_runs_in_wal_mode_with_busy_timeout_and_mapped_reads(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite pragmas")
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        # Reads go through the shared page cache (app/database.py); a SQLite built without
        # memory mapping answers 0 here, and this would fail rather than let it pass unseen.
        assert db.session.execute(text("PRAGMA mmap_size")).scalar() == SQLITE_MMAP_SIZE


def test_database_down_answers_503_fast(make_app, app):
    create_user(app)
    browser = app.test_client()
    login(browser)
    down = make_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://postgres@127.0.0.1:9/none")
    client = down.test_client()
    started = time.monotonic()
    health = client.get("/readyz")
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


def test_transaction_pooling_keeps_psycopg_from_preparing_statements(make_app, database_url):
    """Behind PgBouncer in transaction mode a statement prepared in one transaction is unknown
    (or already known) on the server connection the next one gets; DATABASE_TRANSACTION_POOLING
    makes psycopg never prepare. The stack tests (tests/stack/) run the app through PgBouncer."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL setting")
    for pooling, threshold in ((False, 5), (True, None)):
        app = make_app(DATABASE_TRANSACTION_POOLING=pooling)
        with app.app_context(), db.engine.connect() as conn:
            assert conn.connection.driver_connection.prepare_threshold == threshold


def test_the_lists_statements_stay_prepared_from_one_request_to_the_next(make_app, database_url):
    """psycopg prepares a statement after its fifth run on a connection and forgets them all
    at a ROLLBACK: a read request ends with COMMIT (app/database.py) so the list's statements
    are prepared once and planned once, not on every request."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL setting")
    app = make_app()
    create_user(app)
    add_task(app, title="Water the tomatoes", tags=("garden",))
    client = app.test_client()
    login(client)
    for _ in range(7):
        page = client.get("/tasks")
        assert page.status_code == 200 and b"Water the tomatoes" in page.data
    prepared = prepared_statements(app)
    assert any("FROM tasks" in statement for statement in prepared), prepared

    # A request that fails still rolls back, and the statements go with it (psycopg's rule).
    assert client.get("/tasks?limit=0").status_code == 400
    page = client.get("/tasks")
    assert page.status_code == 200 and b"Water the tomatoes" in page.data


def test_a_read_request_that_wrote_without_committing_commits_nothing(make_app, database_url):
    """Ending reads with COMMIT must not save what a GET left behind: a flushed change
    (or one still pending) is rolled back when the request ends, as it always was."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL setting")
    app = make_app()
    create_user(app)
    task_id = add_task(app, title="Untouched")

    def rename(flush: str):
        task = db.session.get(Task, task_id)
        task.title = f"Renamed by a GET ({flush})"
        if flush == "flushed":
            db.session.flush()
        return "renamed, not committed"

    app.add_url_rule("/_rename/<flush>", "rename_probe", rename)
    client = app.test_client()
    for flush in ("flushed", "pending"):
        assert client.get(f"/_rename/{flush}").status_code == 200
        assert get_task(app, task_id).title == "Untouched"
