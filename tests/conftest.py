"""Test fixtures: an app per test on an isolated database, on SQLite and (with
TEST_DATABASE_URL) on PostgreSQL, a client, and a user signed in through the real form.
Plain helpers (requests with a CSRF token, rows made directly) are in tests/helpers.py."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import create_app, timezones
from app.config import TestConfig
from app.extensions import db
from tests.helpers import create_user, libpq_url, login, new_postgres_database
from tests.mailbox import Mailbox

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])


def _sqlalchemy(url: str) -> str:
    return make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url():
    """A database created for this run on the server TEST_DATABASE_URL names, dropped after."""
    if not TEST_DATABASE_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    with new_postgres_database(TEST_DATABASE_URL) as created:
        url = _sqlalchemy(created)
        app = create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade()
            db.engine.dispose()
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file that each test copies, so migrations run once per session."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    app = create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        upgrade()
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.engine.dispose()
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "tasklane.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    _truncate_all(url)


def _truncate_all(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build an app on this test's database (more than one may share it, like two workers).
    Mail it writes without an SMTP server goes to the test's own folder."""
    apps = []

    def factory(**overrides):
        settings = {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "MAIL_FILE_DIR": str(tmp_path / "mail"),
        }
        app = create_app(TestConfig, {**settings, **overrides})
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def mailbox():
    """A real SMTP server on a free port; `make_app(**mailbox.settings)` sends to it."""
    server = Mailbox().start()
    yield server
    server.stop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def user(app):
    return create_user(app)


@pytest.fixture
def auth_client(app, client, user):
    response = login(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def clock(monkeypatch):
    """Fixes the instant every "today" is read from (app.timezones.now, the clock seam):
    `clock(datetime(2026, 6, 14, 20, 0, tzinfo=UTC))`; call it again to move on. No sleeping,
    and one instant seen from two zones. Until called, the clock is the real one."""

    def set_to(instant: datetime) -> None:
        assert instant.tzinfo is not None, "an instant (aware), not a wall-clock time"
        monkeypatch.setattr(timezones, "now", lambda: instant)

    return set_to


def pytest_terminal_summary(terminalreporter):
    from tests import security_figures

    text = security_figures.write()
    if text:
        terminalreporter.section("security and reliability figures")
        terminalreporter.write_line(text)


def pytest_collection_modifyitems(config, items):
    """Tests marked one_database (layout, contrast, screenshots) run on SQLite alone: what
    they check is the stylesheet's, and a second database would only double their minutes."""
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        one = item.get_closest_marker("one_database")
        (drop if one and params.get("database_url") == "postgresql" else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
