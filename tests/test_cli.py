"""`flask users ...` from a real shell, with the password piped in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import User
from tests.conftest import PASSWORD, create_user, login

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).with_name("flask"))


def flask_cli(database_url, *args, stdin=""):
    env = {
        **os.environ,
        "FLASK_APP": "wsgi:app",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "cli-test",
        "ARGON2_MEMORY_COST": "1024",
        "ARGON2_TIME_COST": "1",
        "ARGON2_PARALLELISM": "1",
    }
    return subprocess.run(
        [FLASK, *args], input=stdin, capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )


def test_create_admin_with_piped_password_then_sign_in(app, database_url, client):
    result = flask_cli(
        database_url, "users", "create", "Root@Example.com", "--admin", stdin=PASSWORD + "\n"
    )
    assert result.returncode == 0, result.stderr
    assert "Created admin root@example.com" in result.stdout
    assert login(client, email="root@example.com").status_code == 302
    assert client.get("/admin/users").status_code == 200


def test_create_refuses_weak_password_and_duplicates(app, database_url):
    weak = flask_cli(database_url, "users", "create", "weak@example.com", stdin="password\n")
    assert weak.returncode != 0
    assert "commonly used" in weak.stderr or "at least 8" in weak.stderr
    create_user(app, email="ada@example.com")
    dup = flask_cli(database_url, "users", "create", "ADA@example.com", stdin=PASSWORD + "\n")
    assert dup.returncode != 0
    assert "already exists" in dup.stderr
    with app.app_context():
        assert db.session.scalars(select(User.email)).all() == ["ada@example.com"]


def test_create_prompts_twice_on_a_terminal(app):
    runner = app.test_cli_runner()
    # CliRunner's stdin is not a TTY, so this exercises the piped path through Click too.
    result = runner.invoke(args=["users", "create", "cli@example.com"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(User.email)) == "cli@example.com"


def test_promote_and_list(app):
    create_user(app, email="ada@example.com")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "promote", "ADA@example.com"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(User.is_admin)) is True
    listing = runner.invoke(args=["users", "list"])
    assert "ada@example.com" in listing.output and "admin" in listing.output
    missing = runner.invoke(args=["users", "promote", "ghost@example.com"])
    assert missing.exit_code != 0 and "No user" in missing.output
