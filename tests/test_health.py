"""The probes: /healthz says the process is alive without asking anything else; /readyz
says whether this instance can serve (database at the migrations' head, rate-limit storage
and job queue answering), and what fails when it cannot, without secrets."""

from __future__ import annotations

import socket
import threading
import uuid

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from app import ROOT, create_app
from app.config import TestConfig
from app.extensions import db
from app.models import User
from tests.helpers import create_user, login, new_database
from tests.live import free_port

UNREACHABLE_DATABASE = "postgresql+psycopg://tasklane:s3cret-pw@127.0.0.1:9/nowhere"


def test_healthz_answers_ok_uncached(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True).strip() == "ok"
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_healthz_asks_no_database_even_with_a_session(make_app, app):
    """Signed in (a session cookie whose lookup needs the database) and with the database
    gone, the liveness probe still answers: it never looks up who asks."""
    user_id = create_user(app)
    with app.app_context():
        db.session.get(User, user_id).must_change_password = True  # the guard redirects
        db.session.commit()
    browser = app.test_client()
    login(browser)
    down = make_app(SQLALCHEMY_DATABASE_URI=UNREACHABLE_DATABASE).test_client()
    down.set_cookie("tasklane_session", browser.get_cookie("tasklane_session").value)
    response = down.get("/healthz")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_readyz_lists_its_checks(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert response.get_json() == {
        "status": "ready",
        "checks": {"database": "ok", "rate_limits": "ok", "job_queue": "ok"},
    }


def test_readyz_is_ready_with_redis_for_limits_and_queue(make_app):
    redis = "redis://127.0.0.1:6379/0"
    app = make_app(RATELIMIT_STORAGE_URI=redis, QUEUE_URL=redis, QUEUE_NAME=uuid.uuid4().hex)
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.get_json()


def _unavailable(response, check: str) -> str:
    assert response.status_code == 503
    assert "Set-Cookie" not in response.headers
    body = response.get_json()
    assert body["status"] == "unavailable"
    failed = [name for name, result in body["checks"].items() if result != "ok"]
    assert failed == [check], body
    return body["checks"][check]


def test_readyz_503_when_the_database_is_unreachable_names_no_address(make_app):
    response = make_app(SQLALCHEMY_DATABASE_URI=UNREACHABLE_DATABASE).test_client().get("/readyz")
    reason = _unavailable(response, "database")
    assert "OperationalError" in reason
    body = response.get_data(as_text=True)
    for secret in ("127.0.0.1", ":9", "s3cret", "tasklane:", "nowhere", "postgresql"):
        assert secret not in body, secret


@pytest.mark.parametrize("setting", ["RATELIMIT_STORAGE_URI", "QUEUE_URL"])
def test_readyz_503_when_redis_is_unreachable(make_app, setting):
    closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app = make_app(**{setting: closed})
    response = app.test_client().get("/readyz")
    check = {"RATELIMIT_STORAGE_URI": "rate_limits", "QUEUE_URL": "job_queue"}[setting]
    reason = _unavailable(response, check)
    assert "127.0.0.1" not in response.get_data(as_text=True), reason


@pytest.mark.parametrize("setting", ["RATELIMIT_STORAGE_URI", "QUEUE_URL"])
def test_readyz_503_when_redis_accepts_but_never_answers(make_app, setting):
    """A hung Redis (the port open, nothing read) fails the check after a socket timeout
    (redis-py's default, 5 s, for both clients) instead of holding the probe, and the thread
    serving it, forever. Guards against a client upgrade or a setting that drops it."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as silent:  # never accepts
        port = silent.getsockname()[1]
        app = make_app(**{setting: f"redis://127.0.0.1:{port}/0"})
        answered = []
        probe = threading.Thread(target=lambda: answered.append(app.test_client().get("/readyz")))
        probe.start()
        probe.join(30)  # a bound on a hang, not a speed figure: without timeouts it never ends
        assert answered, "/readyz still waiting on a silent Redis"
    check = {"RATELIMIT_STORAGE_URI": "rate_limits", "QUEUE_URL": "job_queue"}[setting]
    _unavailable(answered[0], check)


@pytest.fixture
def database_behind_head(database_url, tmp_path):
    """A new database migrated to the revision before the migrations' head."""
    scripts = ScriptDirectory(str(ROOT / "migrations"))
    head = scripts.get_current_head()
    previous = scripts.get_revision(head).down_revision
    with new_database(database_url, tmp_path) as target:
        app = create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": target})
        with app.app_context():
            upgrade(revision=previous)
            db.engine.dispose()
        yield target, previous, head


def test_readyz_503_when_the_database_is_behind_the_migrations(make_app, database_behind_head):
    target, previous, head = database_behind_head
    response = make_app(SQLALCHEMY_DATABASE_URI=target).test_client().get("/readyz")
    reason = _unavailable(response, "database")
    assert previous in reason and head in reason and "flask db upgrade" in reason
