"""Plain helpers for the stack tests: traffic through nginx that records every outcome, and
waiting for a line in a log."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

from tests.live import Client

ACKNOWLEDGED = (200, 201, 302, 303)


class Load:
    def __init__(self, base: str, cookies: dict, token: str, *, readers=3, writers=2):
        self.base, self.cookies, self.token = base, cookies, token
        self.stored: list[str] = []  # titles of the tasks whose POST was acknowledged
        self.outcomes: Counter = Counter()  # (method, status or error name) -> count
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._read, daemon=True) for _ in range(readers)]
        self._threads += [threading.Thread(target=self._write, daemon=True) for _ in range(writers)]

    @classmethod
    def signed_in(cls, base: str, email: str, password: str, **kwargs) -> Load:
        client = Client(base)
        signed = client.login(email, password)
        assert signed.status in (302, 303), (signed.status, signed.body[:2000])
        token = client.csrf("/tasks")  # also keeps the token in the session cookie
        return cls(base, client.cookies, token, **kwargs)

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)
        assert not any(t.is_alive() for t in self._threads), "a request hung"

    def _client(self) -> Client:
        client = Client(self.base, timeout=60)
        client.cookies = dict(self.cookies)
        return client

    def _record(self, method: str, outcome) -> None:
        with self._lock:
            self.outcomes[(method, outcome)] += 1

    def _read(self) -> None:
        client = self._client()
        while not self._stop.is_set():
            try:
                self._record("GET", client.get("/tasks").status)
            except OSError as error:
                self._record("GET", type(error).__name__)

    def _write(self) -> None:
        client = self._client()
        while not self._stop.is_set():
            title = f"load-{uuid.uuid4().hex}"
            form = {"title": title, "csrf_token": self.token}
            try:
                status = client.request("POST", "/tasks", form).status
            except OSError as error:
                self._record("POST", type(error).__name__)
                continue
            self._record("POST", status)
            if status in ACKNOWLEDGED:
                with self._lock:
                    self.stored.append(title)
            time.sleep(0.05)  # writes are the costly part; leave the cores to the rest

    def count(self, method: str, ok=True) -> int:
        with self._lock:
            return sum(
                n
                for (m, outcome), n in self.outcomes.items()
                if m == method and (outcome in ACKNOWLEDGED) == ok
            )

    def wait_for(self, requests: int, seconds: float = 60) -> None:
        """Until `requests` more have succeeded (GETs and POSTs together)."""
        target = self.count("GET") + self.count("POST") + requests
        deadline = time.monotonic() + seconds
        while self.count("GET") + self.count("POST") < target:
            assert time.monotonic() < deadline, f"traffic stalled: {self.outcomes}"
            time.sleep(0.1)

    def failures(self, method: str) -> dict:
        with self._lock:
            return {
                outcome: n
                for (m, outcome), n in self.outcomes.items()
                if m == method and outcome not in ACKNOWLEDGED
            }


def wait_in_log(path, needle: str, *, after: int = 0, seconds: float = 30) -> str:
    """The first line of the log at `path` (from byte `after`) that contains `needle`."""
    deadline = time.monotonic() + seconds
    while True:
        with open(path, "rb") as log:
            log.seek(after)
            for line in log.read().decode("utf-8", "replace").splitlines():
                if needle in line:
                    return line
        assert time.monotonic() < deadline, f"no line with {needle!r} in {path}"
        time.sleep(0.1)


def in_log(path, needle: str) -> bool:
    with open(path, encoding="utf-8", errors="replace") as log:
        return needle in log.read()
