"""Reliability under real servers: gunicorn with the production config on SQLite and
PostgreSQL, concurrent editors and creators, shared rate limits through Redis, and a database
that goes away and comes back."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
import uuid
from collections import Counter

import psycopg
import pytest
from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.models import Task
from tests.helpers import PASSWORD, add_task, count, create_user, get_task, libpq_url
from tests.live import Client, TcpProxy, gunicorn
from tests.security_figures import record

pytestmark = pytest.mark.security
HX = {"HX-Request": "true"}
EDITORS, SAVES_EACH = 20, 5
CREATORS, CREATES_EACH = 50, 4


def _run_threads(targets, timeout=180):
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.1, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "clients still running: a request hung"


def test_concurrent_editors_and_creators_lose_nothing(app, database_url):
    create_user(app)
    task_id = add_task(app, title="Shared task")
    results: list[tuple] = []
    with gunicorn(database_url, workers=2, threads=4) as base:
        owner = Client(base)
        assert owner.login("ada@example.com", PASSWORD).status == 302
        token, cookies = owner.csrf("/tasks"), dict(owner.cookies)

        def editor(n):
            client = Client(base)
            client.cookies = dict(cookies)
            for i in range(SAVES_EACH):
                editor_page = client.get(f"/tasks/{task_id}/edit", headers=HX)
                version = int(
                    re.search(
                        r'name="version" type="hidden" value="(\d+)"', editor_page.body
                    ).group(1)
                )
                title = f"editor {n} save {i}"
                form = {
                    "title": title,
                    "priority": "0",
                    "interval": "1",
                    "version": str(version),
                    "csrf_token": token,
                }
                response = client.request("POST", f"/tasks/{task_id}", form, HX)
                results.append(("edit", response.status, title, version, response.body))

        def creator(n):
            client = Client(base)
            client.cookies = dict(cookies)
            for i in range(CREATES_EACH):
                title = f"creator {n} task {i}"
                response = client.request(
                    "POST", "/tasks", {"title": title, "csrf_token": token}, HX
                )
                results.append(("create", response.status, title, None, response.body))

        started = time.monotonic()
        _run_threads(
            [lambda n=n: editor(n) for n in range(EDITORS)]
            + [lambda n=n: creator(n) for n in range(CREATORS)]
        )
        elapsed = time.monotonic() - started

    statuses = Counter((kind, status) for kind, status, *_ in results)
    final = get_task(app, task_id)
    with app.app_context():
        stored = Counter(db.session.scalars(select(Task.title).where(Task.title.like("creator %"))))
    accepted = [r for r in results if r[0] == "edit" and r[1] == 200]
    acknowledged_creates = [r[2] for r in results if r[0] == "create" and r[1] == 200]
    server_errors = sum(status >= 500 for _, status, *_ in results)
    lost_updates = _lost_updates(final, accepted, acknowledged_creates, stored)
    backend = make_url(database_url).get_backend_name()
    record(f"concurrency.{backend}", {
        "editors": EDITORS, "saves_each": SAVES_EACH, "creators": CREATORS,
        "creates_each": CREATES_EACH, "accepted_saves": len(accepted),
        "conflicts_409": statuses[("edit", 409)], "created": sum(stored.values()),
        "lost_updates": lost_updates, "server_errors": server_errors,
        "seconds": round(elapsed, 1),
    })  # fmt: skip

    assert len(results) == EDITORS * SAVES_EACH + CREATORS * CREATES_EACH
    assert server_errors == 0, statuses
    assert lost_updates == 0
    assert not [r for r in results if "database is locked" in r[4]]
    assert {s for k, s in statuses if k == "edit"} <= {200, 409}
    assert {s for k, s in statuses if k == "create"} == {200}
    # Nothing stored that was not acknowledged: every version step is an accepted save.
    assert final.version == 1 + len(accepted)
    assert set(stored) == set(acknowledged_creates)


def _lost_updates(final, accepted, acknowledged_creates, stored: Counter) -> int:
    """Acknowledged writes missing or wrong in the database afterwards.

    A save is acknowledged with 200 and names the version it was made from; each version can
    be left only once, so two acknowledged saves from one version mean one was silently
    overwritten. The row must hold the save made from the highest version. An acknowledged
    create must be stored, and stored once.
    """
    from_versions = Counter(version for _, _, _, version, _ in accepted)
    overwritten = sum(n - 1 for n in from_versions.values())
    last = max(accepted, key=lambda r: r[3], default=None)
    wrong_row = last is not None and (final.title, final.version) != (last[2], last[3] + 1)
    missing_or_doubled = sum(stored[title] != 1 for title in acknowledged_creates)
    return overwritten + wrong_row + missing_or_doubled


def test_login_limit_is_shared_by_workers_through_redis(app, database_url):
    if make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("the counting happens in Redis; one database backend is enough")
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
    except OSError:
        pytest.fail("no Redis on 127.0.0.1:6379 (.ci/run starts it; see its Redis step)")
    create_user(app)
    redis_env = {
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
        "RATELIMIT_KEY_PREFIX": f"tasklane-test-{uuid.uuid4().hex}",
        "AUTH_RATE_LIMIT": "5/minute",
    }
    with gunicorn(database_url, workers=2, threads=2, **redis_env) as base:
        # A fresh connection (and session) for every attempt, spread over both workers.
        by_address = [
            Client(base).login("ada@example.com", "not-the-password").status for _ in range(12)
        ]
    assert by_address[:5] == [401] * 5
    assert set(by_address[5:]) == {429}

    redis_env["RATELIMIT_KEY_PREFIX"] = f"tasklane-test-{uuid.uuid4().hex}"
    with gunicorn(database_url, workers=2, threads=2, TRUSTED_PROXIES="1", **redis_env) as base:
        # Behind a trusted proxy each attempt comes from another address: the per-account
        # limit still holds.
        by_account = [
            Client(base).login_from(f"198.51.100.{i}", "ada@example.com", "not-the-password").status
            for i in range(1, 9)
        ]
    assert by_account[:5] == [401] * 5
    assert set(by_account[5:]) == {429}
    record(
        "rate_limit",
        {
            "limit": "5/minute;20/hour per address and per account",
            "shared_across_workers": True,
            "storage": "redis",
        },
    )


def test_database_outage_answers_503_fast_and_recovers(app, database_url):
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("a server outage is a PostgreSQL matter (SQLite is a local file)")
    create_user(app)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    timings = {}
    try:
        with gunicorn(proxied, workers=2, threads=4) as base:
            client = Client(base, timeout=10)
            assert client.login("ada@example.com", PASSWORD).status == 302
            assert client.get("/tasks").status == 200

            proxy.cut()
            for path in ("/readyz", "/tasks", "/tags", "/login"):
                started = time.monotonic()
                response = client.get(path)
                timings[path] = time.monotonic() - started
                assert response.status == 503, (path, response.status)
                assert timings[path] < 2.0, timings
            assert "Temporarily unavailable" in client.get("/tasks").body

            proxy.restore()
            deadline = time.monotonic() + 10
            while client.get("/readyz").status != 200:
                assert time.monotonic() < deadline, "did not recover"
                time.sleep(0.2)
            assert client.get("/tasks").status == 200  # same processes, same session
    finally:
        proxy.close()
    record(
        "database_outage",
        {"seconds_to_503_max": round(max(timings.values()), 3), "recovered_without_restart": True},
    )


ANSWER_TIMEOUT = 2  # DATABASE_ANSWER_TIMEOUT for the blackhole test's gunicorn (the default)


def test_database_that_accepts_and_never_answers_gets_503s_loses_nothing_and_recovers(
    app, database_url
):
    """The other outage: the host (or a proxy in front of it) accepts connections, then says
    nothing. Neither a refused connection nor the server's statement_timeout helps there; the
    app's answer timeout (app/seams/request_bound_connection.py) must bound new requests and
    one already waiting."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("a silent server is a PostgreSQL matter (SQLite is a local file)")
    create_user(app)
    task_id = add_task(app, title="Toggled in flight")
    before = get_task(app, task_id)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    env = {"DATABASE_ANSWER_TIMEOUT": str(ANSWER_TIMEOUT), "DATABASE_CONNECT_TIMEOUT": "2"}
    seconds = {}
    try:
        with gunicorn(proxied, workers=2, threads=4, **env) as base:
            client = Client(base, timeout=15)
            assert client.login("ada@example.com", PASSWORD).status == 302
            token = client.csrf("/tasks")
            toggle = {"done": "1", "csrf_token": token}
            create = {"title": "Written during the outage", "csrf_token": token}

            # (b) A query already waiting for its answer when the server goes silent: a
            # toggle whose UPDATE waits on a row lock this test holds.
            with _row_locked(database_url, task_id) as holder_pid:
                in_flight = _Background(
                    lambda: client.request("POST", f"/tasks/{task_id}/toggle", toggle, HX)
                )
                _wait_until_waiting_on_a_lock(database_url, holder_pid, in_flight)
                proxy.blackhole()
            # The lock is gone: the server answers now, into the void.
            response, seconds["in_flight"] = in_flight.result()
            assert response.status == 503
            assert seconds["in_flight"] < ANSWER_TIMEOUT + 1.5, seconds

            # (a) New requests, on pooled connections and on new ones alike.
            for path in ("/readyz", "/tasks", "/tags", "/login"):
                started = time.monotonic()
                response = client.get(path)
                seconds[path] = time.monotonic() - started
                assert response.status == 503, (path, response.status)
                assert seconds[path] < 2.5, seconds
            assert "Temporarily unavailable" in response.body

            # (c) A write sent during the outage.
            started = time.monotonic()
            assert client.request("POST", "/tasks", create, HX).status == 503
            seconds["post"] = time.monotonic() - started
            assert seconds["post"] < 2.5, seconds

            proxy.restore()
            deadline = time.monotonic() + 15
            while client.get("/readyz").status != 200:
                assert time.monotonic() < deadline, "did not recover"
                time.sleep(0.2)
            # Refused with 503, so nothing may be stored: the task as it was, nothing created.
            after = get_task(app, task_id)
            refused_but_stored = (after.version != before.version) + count(
                app, Task, Task.title == create["title"]
            )
            # The same processes take the retries, and each must be stored once.
            assert client.request("POST", f"/tasks/{task_id}/toggle", toggle, HX).status == 200
            assert client.request("POST", "/tasks", create, HX).status == 200
    finally:
        proxy.close()
    after = get_task(app, task_id)
    retried_not_once = (after.version != before.version + 1 or not after.done) + (
        count(app, Task, Task.title == create["title"]) != 1
    )
    record(
        "database_silent",
        {
            "answer_timeout_seconds": ANSWER_TIMEOUT,
            "seconds_to_503_in_flight": round(seconds.pop("in_flight"), 3),
            "seconds_to_503_new_request_max": round(max(seconds.values()), 3),
            "refused_writes_stored": refused_but_stored,
            "retried_writes_not_stored_once": retried_not_once,
            "recovered_without_restart": True,
        },
    )
    assert refused_but_stored == 0
    assert retried_not_once == 0


class _Background:
    """A call run in a thread, timed from its start; result() waits for it (an event)."""

    def __init__(self, call):
        self._outcome: list = []
        self._done = threading.Event()

        def run():
            started = time.monotonic()
            try:
                self._outcome.append(call())
            except Exception as error:  # e.g. the client's own timeout: the request hung
                self._outcome.append(error)
            self._outcome.append(time.monotonic() - started)
            self._done.set()

        threading.Thread(target=run, daemon=True).start()

    def done(self) -> bool:
        return self._done.is_set()

    def result(self, timeout=30):
        assert self._done.wait(timeout), "the call never returned"
        outcome, seconds = self._outcome
        if isinstance(outcome, Exception):
            raise AssertionError(f"failed after {seconds:.1f} s") from outcome
        return outcome, seconds


@contextlib.contextmanager
def _row_locked(database_url, task_id):
    """Hold the task's row lock (SELECT ... FOR UPDATE) until the block ends; yields the
    holder's backend pid."""
    with psycopg.connect(libpq_url(database_url)) as holder:
        holder.execute("SELECT 1 FROM tasks WHERE id = %s FOR UPDATE", (task_id,))
        try:
            yield holder.info.backend_pid
        finally:
            holder.rollback()


def _wait_until_waiting_on_a_lock(database_url, holder_pid, background, timeout=10):
    """Until the server shows another backend waiting for the holder's lock. Asked from a
    connection of its own in autocommit: a transaction keeps its first view of
    pg_stat_activity, so the holder's own could never see the waiter arrive."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(libpq_url(database_url), autocommit=True) as observer:
        while not observer.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
            (holder_pid,),
        ).fetchone()[0]:
            assert not background.done(), f"answered before it waited: {background.result()}"
            assert time.monotonic() < deadline, "the request never reached the locked row"
            time.sleep(0.01)


def test_a_request_waits_a_bounded_time_for_each_database_answer(make_app, database_url):
    """The answer timeout holds inside a request and not outside one (a migration may take
    minutes); also the behaviour canary for the psycopg internals RequestBoundConnection
    (app/seams/request_bound_connection.py) relies on; test_seams.py checks their names."""
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("the answer timeout is PostgreSQL's (SQLite is a local file)")
    bounded = make_app(DATABASE_ANSWER_TIMEOUT=0.3)
    with bounded.test_request_context("/tasks"):
        started = time.monotonic()
        with pytest.raises(OperationalError, match=r"did not answer within 0\.3 s"):
            db.session.execute(text("SELECT pg_sleep(3)"))
        assert time.monotonic() - started < 2.5, "psycopg's wait ignored the timeout"
        db.session.rollback()
        # The pool dropped the connection cut off mid-answer; the next one works.
        assert db.session.execute(text("SELECT 1")).scalar() == 1
    with bounded.app_context():
        db.session.execute(text("SELECT pg_sleep(0.6)"))  # outside a request: no limit


def test_connections_the_server_ended_are_replaced_without_an_error(app, auth_client, database_url):
    """A PostgreSQL restart or an idle-session timeout ends pooled connections; the next
    requests must get fresh ones, not a 503 (the pool checks the socket, not a SELECT 1)."""
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("pooled server connections are a PostgreSQL matter")
    add_task(app, title="Survives the restart")
    pids = []
    with app.app_context():
        event.listen(db.engine, "connect", lambda conn, _record: pids.append(conn.info.backend_pid))
        db.engine.dispose()  # every pooled connection from now on is one the listener saw
    assert auth_client.get("/tasks").status_code == 200
    assert pids, "the request used no new connection"

    with psycopg.connect(libpq_url(database_url), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (pids,))
        deadline = time.monotonic() + 5
        while admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)
        ).fetchone()[0]:
            assert time.monotonic() < deadline, "the server did not end the connections"
            time.sleep(0.05)

    ended = list(pids)
    for _ in range(3):
        response = auth_client.get("/tasks")
        assert response.status_code == 200, response.status_code
        assert "Survives the restart" in response.get_data(as_text=True)
    assert len(pids) > len(ended), "no fresh connection replaced the ended one"
