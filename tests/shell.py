"""`flask ...` run as someone at a shell runs it: the input piped in, or typed at a
terminal (a pseudo-terminal, so the password prompts behave as they do for a person)."""

from __future__ import annotations

import os
import pty
import select as io_select
import signal
import subprocess
import sys
import time
from pathlib import Path

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
