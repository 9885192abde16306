"""Real servers for the reliability tests: Tasklane under gunicorn with the production
config, a cuttable TCP proxy in front of PostgreSQL, and a small HTTP client."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
# The settings tests rely on, as TestConfig pins them for in-process apps.
PINNED = {
    "TASKLANE_PRODUCTION": "0",
    "TIMEZONE": "UTC",
    "TRUSTED_PROXIES": "0",
    "AUTH_RATE_LIMIT": "5/minute;20/hour",
    "RATELIMIT_ENABLED": "1",
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_KEY_PREFIX": "tasklane-test",
    # Jobs inline: no consumer beside the server, no queue file in instance/ (a test that
    # wants the SQLite queue and its consumer names a file of its own).
    "QUEUE_URL": "immediate",
    "MAIL_HOST": "",
    "BASE_URL": "http://tasklane.test",
}


def live_environment(database_url: str, *, workers=2, threads=4, **env) -> dict[str, str]:
    """The environment a live gunicorn gets: fixed settings, this test's overrides."""
    return {
        # Only what the interpreter needs from this shell, and no .env: a developer's
        # TIMEZONE, TRUSTED_PROXIES or limits must not change what these tests see.
        **{key: os.environ[key] for key in PASSED_THROUGH if key in os.environ},
        "PYTHON_DOTENV_DISABLED": "1",
        **PINNED,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "live-test-secret",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "1024",
        "ARGON2_PARALLELISM": "1",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_THREADS": str(threads),
        "LOG_LEVEL": "WARNING",
        **env,
    }


@contextlib.contextmanager
def gunicorn(database_url: str, *, workers=2, threads=4, log: Path | None = None, **env):
    """Tasklane under gunicorn on a free port; yields its base URL; always stopped. `log`: a
    file that gets its stderr (read it after the block: the server has stopped)."""
    port = free_port()
    environment = live_environment(database_url, workers=workers, threads=threads, **env)
    log_file = log.open("w") if log is not None else None
    process = subprocess.Popen(
        [GUNICORN, "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=log_file or subprocess.PIPE,
        text=True,
    )
    base = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if Client(base).get("/healthz").status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                said = log.read_text() if log is not None else process.stderr.read()
                raise RuntimeError("gunicorn did not start:\n" + (said or ""))
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        (log_file or process.stderr).close()


class Response:
    def __init__(self, status: int, headers, body: str):
        self.status, self.headers, self.body = status, headers, body


class Client:
    """A cookie-keeping HTTP client on http.client: one fresh connection per request."""

    def __init__(self, base: str, timeout: float = 30):
        self.base, self.timeout, self.cookies = base, timeout, {}

    def request(self, method, path, form=None, headers=None) -> Response:
        host, port = self.base.split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=self.timeout)
        all_headers = dict(headers or {})
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=all_headers)
            raw = conn.getresponse()
            text = raw.read().decode("utf-8", "replace")
            for header in raw.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name] = rest.split(";")[0]
            return Response(raw.status, raw.headers, text)
        finally:
            conn.close()

    def get(self, path, headers=None) -> Response:
        return self.request("GET", path, headers=headers)

    def csrf(self, path="/login") -> str:
        page = self.get(path).body
        return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)

    def post(self, path, form, *, token_from="/tasks", headers=None) -> Response:
        token = self.csrf(token_from)
        return self.request("POST", path, {**form, "csrf_token": token}, headers)

    def login(self, email, password) -> Response:
        return self.post("/login", {"email": email, "password": password}, token_from="/login")

    def login_from(self, address, email, password) -> Response:
        """Sign in as if through a proxy that reports the client's `address`."""
        headers = {"X-Forwarded-For": address}
        token = re.search(
            r'<meta name="csrf-token" content="([^"]+)"', self.get("/login", headers).body
        ).group(1)
        form = {"email": email, "password": password, "csrf_token": token}
        return self.request("POST", "/login", form, headers)


class TcpProxy:
    """127.0.0.1:<port> -> target, to take the database away without stopping the shared
    server: cut() drops every connection and refuses new ones; blackhole() accepts and keeps
    every socket open but passes nothing on, as a server (or a proxy whose server died) that
    went silent; restore() serves again, after closing the connections that lost bytes."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._silent = threading.Event()
        self.restore()

    def restore(self):
        if self._silent.is_set():
            # Half an exchange went nowhere: neither end can go on, as when a network heals
            # and each side's next packet meets a reset.
            self._drop_connections()
            self._silent.clear()
        if self._listener is not None:
            return
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def blackhole(self):
        self._silent.set()

    def cut(self):
        with self._lock:
            if self._listener is not None:
                # shutdown() wakes the thread blocked in accept(); close() alone would not,
                # and the port would keep accepting.
                with contextlib.suppress(OSError):
                    self._listener.shutdown(socket.SHUT_RDWR)
                self._listener.close()
                self._listener = None
        self._drop_connections()

    def close(self):
        self._silent.clear()
        self.cut()

    def _drop_connections(self):
        with self._lock:
            for conn in list(self._conns):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self._conns.clear()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self._silent.is_set():
                with self._lock:
                    self._conns.add(client)  # held open, never read nor answered
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source, sink):
        try:
            while data := source.recv(65536):
                if not self._silent.is_set():
                    sink.sendall(data)
        except OSError:
            pass
        finally:
            if not self._silent.is_set():
                for s in (source, sink):
                    with contextlib.suppress(OSError):
                        s.shutdown(socket.SHUT_RDWR)


def all_at_once(calls: list) -> list:
    """Run each of `calls` (no arguments) in a thread of its own, released together by a
    barrier; their results, in order. A call that hangs fails the test."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(n):
        barrier.wait(timeout=60)
        results[n] = calls[n]()

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads), "a request hung"
    return results
