"""The stack of `make stack` (deploy/stack.py), started once for these tests on ports and a
database of their own: nginx -> two instances -> PgBouncer -> PostgreSQL, the worker, Redis.

Skipped, saying why, when nginx, PgBouncer, PostgreSQL or Redis is missing, unless
REQUIRE_STACK=1 (CI), where that fails instead."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest
import redis
from sqlalchemy.engine import make_url

from deploy.stack import SEARCH_PATH, Stack
from tests.helpers import PASSWORD, libpq_url
from tests.live import Client, free_port

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/13"  # the queue's keys apart from other tests' and a dev stack's


def _unavailable(reason: str):
    if os.environ.get("REQUIRE_STACK") == "1":
        pytest.fail(f"REQUIRE_STACK=1 but {reason}")
    pytest.skip(reason)


def _postgres_admin_url() -> str:
    url = libpq_url(os.environ.get("TEST_DATABASE_URL", "").strip() or DEFAULT_POSTGRES)
    try:
        with psycopg.connect(url, connect_timeout=3):
            pass
    except psycopg.OperationalError as error:
        _unavailable(f"no PostgreSQL at {make_url(url).render_as_string()}: {error}")
    return url


# Package scope: stopped after the last test here, not left running through the suite.
@pytest.fixture(scope="package")
def stack():
    for program in ("nginx", "pgbouncer"):
        if shutil.which(program, path=SEARCH_PATH) is None:
            _unavailable(f"{program} is not installed (`make install-stack`)")
    admin_url = _postgres_admin_url()
    try:
        redis.Redis.from_url(REDIS).ping()
    except redis.RedisError as error:
        _unavailable(f"no Redis at {REDIS}: {error}")
    # Not under pytest's 0700 temporary folder: PgBouncer and nginx's workers run as `nobody`
    # when the tests run as root, and must reach their files.
    run = Path(tempfile.mkdtemp(prefix="tasklane-stack-"))
    run.chmod(0o755)
    stack = Stack(
        run=run,
        port=free_port(),
        web_ports={"web1": free_port(), "web2": free_port()},
        pgbouncer_port=free_port(),
        database=f"tasklane_stack_{uuid.uuid4().hex[:12]}",
        postgres_url=admin_url,
        redis_url=REDIS,
        base_env={
            **{k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ},
            "PYTHON_DOTENV_DISABLED": "1",  # no developer's .env
            "TASKLANE_PRODUCTION": "0",
            "TIMEZONE": "UTC",
            "MAIL_HOST": "",
            # Every sign-in through nginx comes from its address: room for the tests' own.
            "AUTH_RATE_LIMIT": "20/minute",
            "RATELIMIT_ENABLED": "1",
            "ARGON2_TIME_COST": "1",
            "ARGON2_MEMORY_COST": "1024",
            "ARGON2_PARALLELISM": "1",
            # One process of four threads per instance: two instances on two shared cores.
            "WEB_CONCURRENCY": "1",
            "GUNICORN_THREADS": "4",
        },
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        stack.drop_database()
        _remove_mail_written_by(stack)
        shutil.rmtree(run, ignore_errors=True)


def _remove_mail_written_by(stack: Stack) -> None:
    """The worker writes its .eml files to instance/mail/ (no MAIL_HOST), as `make run` does:
    remove those of this run, which its log names."""
    log = stack.log("worker")
    if log.exists():
        for path in re.findall(r"written to (\S+\.eml)", log.read_text(errors="replace")):
            Path(path).unlink(missing_ok=True)


@pytest.fixture(scope="package")
def account(stack):
    """A user registered through nginx: (email, password)."""
    email = f"stack-{uuid.uuid4().hex[:8]}@example.com"
    client = Client(f"127.0.0.1:{stack.port}")
    token = client.csrf("/register")
    form = {"email": email, "display_name": "Stack", "password": PASSWORD, "confirm": PASSWORD}
    response = client.request("POST", "/register", {**form, "csrf_token": token})
    assert response.status in (302, 303), response.body[:500]
    return email, PASSWORD


@pytest.fixture
def database(stack):
    """A connection straight to the stack's database (not through PgBouncer), to count rows."""
    url = make_url(stack.postgres_url).set(database=stack.database)
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        yield conn
