"""Start, watch and stop the benchmarked servers: gunicorn with the frozen production config.

Every server (Tasklane, the bare and raw ceilings) runs `gunicorn --config gunicorn.conf.py`
on its own free loopback port, so all of them get the same workers, threads and timeouts.
Server CPU is read from /proc: utime + stime of the master's worker processes.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.settings import ROOT

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
CLK_TCK = os.sysconf("SC_CLK_TCK")
# The frozen config decides workers and threads: nothing in our environment may change it.
CONFIG_OVERRIDES = ("WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_CMD_ARGS")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (index 0 is field 3, the state)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields and int(fields[1]) == pid:
                found.append(int(entry))
    return sorted(found)


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """user + system CPU seconds of each live process in `pids`."""
    used = {}
    for pid in pids:
        fields = _stat(pid)
        if fields:
            used[pid] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return used


# /proc/<pid>/status's lines for the resident size and its parts: anonymous memory (the heap,
# the process's own), file pages mapped in (shared libraries, and SQLite's database file read
# through its memory map) and shared memory.
_MEMORY_LINES = {"VmRSS:": "rss", "RssAnon:": "anon", "RssFile:": "file", "RssShmem:": "shmem"}


def memory_mb(pid: int) -> dict[str, float] | None:
    """A live process's resident size and its parts, in MB of 1,024 kB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    sizes = {}
    for line in status.splitlines():
        key = _MEMORY_LINES.get(line.split(maxsplit=1)[0] if line else "")
        if key:
            sizes[key] = int(line.split()[1]) / 1024
    return sizes if "rss" in sizes else None


@dataclass
class Server:
    name: str
    app: str  # the WSGI target, e.g. "wsgi:app"
    env: dict = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, log_dir: Path) -> None:
        self.port = free_port()
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{self.name}.log"
        env = {k: v for k, v in os.environ.items() if k not in CONFIG_OVERRIDES}
        # A worker that crashes (it has happened: SIGSEGV) leaves its Python stacks in the log.
        env["PYTHONFAULTHANDLER"] = "1"
        env.update(self.env)
        command = [GUNICORN, "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}"]
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                [*command, self.app], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_ready(self, timeout: float = 60) -> None:
        """Until every worker has booted and answers HTTP (any status will do)."""
        deadline = time.monotonic() + timeout
        expected = int(self.env.get("BENCH_EXPECT_WORKERS", "2"))
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_path.read_text()[-3000:]}")
            if len(self.workers()) >= expected and self._answers():
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not ready:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.2)

    def _answers(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            conn.request("GET", "/")
            conn.getresponse().read()
            conn.close()
            return True
        except OSError:
            return False

    def workers(self) -> list[int]:
        return children(self.process.pid) if self.process else []

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


class PostgresCpu:
    """CPU used by PostgreSQL for the bench database, read from /proc like the workers'.

    It adds up the client backends connected to the database (other than this watcher's own
    connection) and the CPU of PostgreSQL processes that ended meanwhile, which the kernel
    adds to the postmaster's cutime/cstime when it reaps them: that is where parallel query
    workers end up. On a PostgreSQL server shared with other work, other databases' ended
    connections would be counted too (nothing else used it while the results were made).
    """

    def __init__(self, libpq_url: str):
        import psycopg

        self.conn = psycopg.connect(libpq_url, autocommit=True)
        self.postmaster = int(_stat(self.conn.info.backend_pid)[1])

    def backends(self) -> list[int]:
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchall()
        return [pid for (pid,) in rows]

    def snapshot(self) -> tuple[dict[int, float], float]:
        fields = _stat(self.postmaster)
        reaped = (int(fields[13]) + int(fields[14])) / CLK_TCK
        return cpu_seconds(self.backends()), reaped

    def used_since(self, before: tuple[dict[int, float], float]) -> float:
        (live_before, reaped_before), (live, reaped) = before, self.snapshot()
        # A backend that ended during the run is in `reaped` whole; count only its growth.
        gone = sum(used for pid, used in live_before.items() if pid not in live)
        grown = sum(used - live_before.get(pid, 0.0) for pid, used in live.items())
        return grown + (reaped - reaped_before) - gone

    def close(self) -> None:
        self.conn.close()
