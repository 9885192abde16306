"""`flask users ...` from a real shell: the password piped in, or typed at a terminal."""

from __future__ import annotations

import os
import pty
import select as io_select
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import User
from tests.conftest import PASSWORD, create_user, login

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).with_name("flask"))


def _cli_env(database_url) -> dict:
    return {
        **os.environ,
        "PYTHON_DOTENV_DISABLED": "1",  # a developer's .env must not choose the database
        "FLASK_APP": "wsgi:app",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "cli-test",
        "ARGON2_MEMORY_COST": "1024",
        "ARGON2_TIME_COST": "1",
        "ARGON2_PARALLELISM": "1",
    }


def flask_cli(database_url, *args, stdin=""):
    return subprocess.run(
        [FLASK, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_cli_env(database_url),
        timeout=60,
    )


def flask_on_a_terminal(
    database_url, *args, typing: list[tuple[str, str | None]]
) -> tuple[int, str]:
    """Run `flask ...` with a pseudo-terminal as its controlling terminal and standard streams,
    as someone at a shell: wait for each prompt, then type its keys.

    Returns the exit status and everything the terminal showed.
    """
    pid, terminal = pty.fork()
    if pid == 0:  # the child: nothing but exec (it runs on the pty pty.fork set up)
        try:
            os.chdir(ROOT)
            os.execve(FLASK, [FLASK, *args], _cli_env(database_url))  # noqa: S606 (no shell wanted)
        finally:
            os._exit(127)
    screen = _Screen(terminal)
    try:
        for prompt, keys in typing:
            screen.wait_for(prompt)
            if keys:
                os.write(terminal, keys.encode())
        screen.wait_for_end()
    except BaseException:
        os.kill(pid, signal.SIGKILL)  # not left waiting for keys that will never come
        raise
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(terminal)
    return os.waitstatus_to_exitcode(status), screen.text


class _Screen:
    """What a terminal has shown, read as it comes; each wait looks past the previous match,
    so a prompt shown twice is waited for twice. A wait fails, with the screen, after 60 s."""

    LIMIT = 60

    def __init__(self, terminal: int):
        self.terminal = terminal
        self.shown = b""
        self.seen = 0  # where the next wait starts looking

    @property
    def text(self) -> str:
        return self.shown.decode(errors="replace")

    def wait_for(self, wanted: str) -> None:
        needle = wanted.encode()
        deadline = time.monotonic() + self.LIMIT
        while (found := self.shown.find(needle, self.seen)) < 0:
            assert self._read(deadline), f"no {wanted!r}; the terminal showed {self.text!r}"
        self.seen = found + len(needle)

    def wait_for_end(self) -> None:
        deadline = time.monotonic() + self.LIMIT
        while self._read(deadline):
            pass

    def _read(self, deadline: float) -> bool:
        """Read what comes next; False once the program has closed the terminal."""
        left = deadline - time.monotonic()
        ready = left > 0 and io_select.select([self.terminal], [], [], left)[0]
        assert ready, f"the program hung; the terminal showed {self.text!r}"
        try:
            chunk = os.read(self.terminal, 4096)
        except OSError:  # EIO: every process has closed the terminal
            return False
        self.shown += chunk
        return bool(chunk)


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
