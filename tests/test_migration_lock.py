"""Migrations take a lock: two `flask db upgrade` started together on a new database (two
instances booting at once) both succeed, and each revision runs once."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.helpers import new_postgres_database

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).with_name("flask"))
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()


def _head() -> str:
    heads = subprocess.run(
        [FLASK, "db", "heads"], cwd=ROOT, env=_env("sqlite://"), capture_output=True, text=True
    )
    return heads.stdout.split()[0]


def _env(database_url: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/"),
        "PYTHON_DOTENV_DISABLED": "1",
        "FLASK_APP": "wsgi:app",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "migration-lock-test",
        "QUEUE_URL": "immediate",
    }


def _start_two_upgrades(database_url: str) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            [FLASK, "db", "upgrade"],
            cwd=ROOT,
            env=_env(database_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]


def _finish(processes: list[subprocess.Popen]) -> list[tuple[int, str]]:
    return [(p.wait(timeout=180), p.stdout.read()) for p in processes]


def _waits_for_an_flock(pid: int) -> bool:
    """Whether the kernel lists `pid` as blocked on an flock ("-> FLOCK" in /proc/locks)."""
    lines = Path("/proc/locks").read_text().splitlines()
    return any("-> FLOCK" in line and line.split()[5] == str(pid) for line in lines)


def _ran_each_revision_once(outputs: list[str]) -> bool:
    """Alembic logs "Running upgrade a -> b" per revision: once in all, not once per process."""
    lines = [line for out in outputs for line in out.splitlines() if "Running upgrade" in line]
    return len(lines) == len(set(lines)) and len(lines) > 0


@pytest.fixture
def new_database():
    if not TEST_DATABASE_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    with new_postgres_database(TEST_DATABASE_URL, "tasklane_lock") as url:
        yield url


def test_two_upgrades_at_once_on_a_new_postgresql_database(new_database):
    results = _finish(_start_two_upgrades(new_database))
    assert [code for code, _ in results] == [0, 0], results
    assert _ran_each_revision_once([out for _, out in results]), results
    with psycopg.connect(new_database) as conn:
        versions = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    assert versions == [(_head(),)]


def test_upgrades_of_a_sqlite_database_wait_for_the_lock_beside_it(tmp_path):
    """SQLite migrates fast enough that two upgrades rarely overlap by chance: the test holds
    the lock itself while both start, so that both must wait for it."""
    path = tmp_path / "new.sqlite3"
    with open(f"{path}-migrate.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        processes = _start_two_upgrades(f"sqlite:///{path}")
        deadline = time.monotonic() + 120
        while not all(_waits_for_an_flock(p.pid) for p in processes):
            assert all(p.poll() is None for p in processes), "an upgrade did not wait"
            assert time.monotonic() < deadline, "the upgrades never asked for the lock"
            time.sleep(0.1)
    results = _finish(processes)
    assert [code for code, _ in results] == [0, 0], results
    assert _ran_each_revision_once([out for _, out in results]), results
    with sqlite3.connect(path) as conn:
        versions = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    assert versions == [(_head(),)]
