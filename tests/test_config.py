"""Tests pass wherever they run: a developer's .env or shell must not change what they
check (a TIMEZONE far from UTC, proxies to trust, looser limits...), nor the machine's own
time zone change what "today" is.

Each probe builds an app from TestConfig in a fresh interpreter, noting every environment
variable read on the way; the variables found are then set to hostile values, and the app's
whole configuration must come out the same. Then tests that depend on the date, the limits
and the proxies run under the two time zones furthest from UTC with that hostile environment.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Builds the app and prints its configuration and the environment variables it read.
PROBE = """
import json, os

read = set()

class Recording(type(os.environ)):
    def __getitem__(self, key):
        read.add(key)
        return super().__getitem__(key)

os.environ.__class__ = Recording

from app import create_app
from app.config import TestConfig

app = create_app(TestConfig)

def plain(value):
    if isinstance(value, (set, frozenset)):
        return sorted(map(repr, value))
    return repr(value)

print(json.dumps({
    "read": sorted(read),
    "config": {key: plain(value) for key, value in app.config.items()},
}))
"""

# Read by the interpreter and libraries for themselves, not settings of Tasklane.
NOT_SETTINGS = ("HOME", "LANG", "LC_", "PYTHON", "_PYTHON", "WRAPT_", "PSYCOPG_")

# A .env a developer might well have: nothing like what the tests expect.
HOSTILE = {
    "TIMEZONE": "Pacific/Kiritimati",
    "TRUSTED_PROXIES": "2",
    "AUTH_RATE_LIMIT": "1/hour",
    "INVITE_RATE_LIMIT": "1/hour",
    "ADDRESS_RATE_LIMIT": "1/day",
    "RATELIMIT_ENABLED": "0",
    "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
    "RATELIMIT_KEY_PREFIX": "someone-elses",
    "SESSION_IDLE_MINUTES": "1",
    "SESSION_MAX_HOURS": "1",
    "REMEMBER_DAYS": "1",
    "LOG_LEVEL": "DEBUG",
    "LOG_FORMAT": "json",
    "INSTANCE_NAME": "someone-elses",
    "FLASK_DEBUG": "1",
    "TASKLANE_PRODUCTION": "1",
    "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing",
    "DATABASE_TRANSACTION_POOLING": "1",
    "ARGON2_TIME_COST": "9",
    "QUEUE_URL": "redis://127.0.0.1:6379/9",
    "BASE_URL": "https://attacker.example",
    "MAIL_HOST": "smtp.example.org",
    "MAIL_PORT": "2525",
    "MAIL_SECURITY": "tls",
    "MAIL_USER": "someone",
    "MAIL_PASSWORD": "their-password",
    "MAIL_SENDER": "Someone <someone@example.org>",
}


def _probe(environment: dict[str, str]) -> dict:
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), **environment}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def _settings_read(probe: dict) -> set[str]:
    return {name for name in probe["read"] if not name.startswith(NOT_SETTINGS)}


def _differences(expected: dict, got: dict) -> dict:
    keys = expected.keys() | got.keys()
    return {k: (expected.get(k), got.get(k)) for k in keys if expected.get(k) != got.get(k)}


def test_test_config_ignores_every_setting_from_the_environment():
    clean = _probe({})
    names = _settings_read(clean)
    # The probe sees the reads; if it saw none, the comparison below would prove nothing.
    assert {"TIMEZONE", "TRUSTED_PROXIES", "AUTH_RATE_LIMIT", "DATABASE_URL"} <= names
    assert set(HOSTILE) <= names, "a hostile value for a variable the app no longer reads"
    for environment in (
        HOSTILE,
        dict.fromkeys(names, "1"),  # every switch on, every number 1
        dict.fromkeys(names, "7"),
    ):
        assert _differences(clean["config"], _probe(environment)["config"]) == {}, environment


def test_test_config_pins_the_values_tests_rely_on():
    config = _probe(HOSTILE)["config"]
    assert config["TIMEZONE"] == repr("UTC")
    assert config["TRUSTED_PROXIES"] == repr(0)
    assert config["AUTH_RATE_LIMIT"] == repr("5/minute;20/hour")
    assert config["RATELIMIT_STORAGE_URI"] == repr("memory://")
    assert config["SQLALCHEMY_DATABASE_URI"] == repr("sqlite://")
    assert config["DEBUG"] == repr(False) and config["PRODUCTION"] == repr(False)
    assert config["QUEUE_URL"] == repr("immediate") and config["MAIL_HOST"] == repr("")
    assert config["BASE_URL"] == repr("http://tasklane.test")


# Tests whose assertions depend on "today", the auth limit or the trusted proxies.
SENSITIVE = [
    "tests/test_tasks.py::test_list_shows_only_my_tasks_with_their_details",
    "tests/test_tasks.py::test_quick_add_without_js_parses_and_redirects",
    "tests/test_tasks.py::test_quick_add_makes_a_repeating_task_that_spawns_its_next_one",
    "tests/test_tasks.py::test_tag_priority_and_due_filters",
    "tests/test_security.py::test_login_rate_limit_per_address",
    "tests/test_security.py::test_forwarded_for_is_ignored_without_trusted_proxies",
]


def test_date_and_limit_tests_pass_in_far_time_zones_with_a_hostile_env():
    # UTC+14 and UTC-12: at any hour of the day, at least one of them is on another date
    # than UTC, so a test that took the machine's date for the app's would fail here.
    for zone in ("Pacific/Kiritimati", "Etc/GMT+12"):
        # PGTZ: libpq's session time zone, on PostgreSQL when TEST_DATABASE_URL is set.
        env = {**os.environ, **HOSTILE, "TZ": zone, "PGTZ": zone}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SENSITIVE],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        passed = re.search(r"(\d+) passed", result.stdout)
        backends = 2 if os.environ.get("TEST_DATABASE_URL", "").strip() else 1
        assert passed and int(passed.group(1)) == len(SENSITIVE) * backends, result.stdout


def test_live_servers_get_the_pinned_settings_whatever_the_shell_holds(monkeypatch):
    """The gunicorn that live tests start builds its config from the production Config, which
    reads the environment and .env: it gets the pinned values and never loads .env."""
    from tests.live import PINNED, live_environment

    for name, value in HOSTILE.items():
        monkeypatch.setenv(name, value)
    environment = live_environment("sqlite:///x.sqlite3", workers=1, threads=1)
    assert environment["PYTHON_DOTENV_DISABLED"] == "1"
    assert environment["DATABASE_URL"] == "sqlite:///x.sqlite3"
    assert {name: environment[name] for name in PINNED} == PINNED
    leaked = {name for name in HOSTILE if environment.get(name) == HOSTILE[name]}
    assert leaked == set(), f"settings from the shell reach live servers: {sorted(leaked)}"
