"""`flask users ...` from a real shell: the password piped in, or typed at a terminal."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import User
from tests.helpers import PASSWORD, create_user, login
from tests.shell import flask_cli, flask_on_a_terminal


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


def test_create_in_process_reads_one_piped_line(app):
    runner = app.test_cli_runner()
    # CliRunner's stdin is not a TTY: the piped path, in process (the terminal's is below).
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


TYPED = "amber-kettle-window-63"
PROMPT, AGAIN = "Password: ", "Repeat for confirmation: "
ENTER, CTRL_C = "\r", "\x03"  # the keys (the terminal turns CR into a newline)


def test_create_asks_twice_on_a_terminal_without_echo(app, database_url, client):
    status, screen = flask_on_a_terminal(
        database_url,
        "users",
        "create",
        "tty@example.com",
        typing=[(PROMPT, TYPED + ENTER), (AGAIN, TYPED + ENTER)],
    )
    assert status == 0, screen
    assert "Created user tty@example.com." in screen
    assert TYPED not in screen  # typed blind: the terminal never showed it
    assert login(client, email="tty@example.com", password=TYPED).status_code == 302


def test_a_mistyped_confirmation_is_refused_on_a_terminal(app, database_url):
    status, screen = flask_on_a_terminal(
        database_url,
        "users",
        "create",
        "tty@example.com",
        # Mistyped, then asked again from the start; Ctrl-C gives up.
        typing=[
            (PROMPT, TYPED + ENTER),
            (AGAIN, TYPED + "x" + ENTER),
            ("do not match.", None),
            (PROMPT, CTRL_C),
        ],
    )
    assert status != 0, screen
    assert "Error: The two entered values do not match." in screen and "Aborted!" in screen
    with app.app_context():
        assert db.session.scalars(select(User.email)).all() == []


def test_set_password_and_delete_on_a_terminal(app, database_url, user):
    status, screen = flask_on_a_terminal(
        database_url,
        "users",
        "set-password",
        "ada@example.com",
        "--permanent",
        typing=[(PROMPT, TYPED + ENTER), (AGAIN, TYPED + ENTER)],
    )
    assert status == 0, screen
    assert "Password set for ada@example.com" in screen and TYPED not in screen
    assert login(app.test_client(), password=PASSWORD).status_code == 401
    assert login(app.test_client(), password=TYPED).status_code == 302

    status, screen = flask_on_a_terminal(
        database_url,
        "users",
        "delete",
        "ada@example.com",
        typing=[("Delete ada@example.com and all their data? [y/N]: ", "y" + ENTER)],
    )
    assert status == 0, screen
    assert "Deleted ada@example.com and all their data." in screen
    with app.app_context():
        assert db.session.scalars(select(User.email)).all() == []
