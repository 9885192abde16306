"""Engine settings per database: SQLite pragmas and locking, PostgreSQL pool behaviour and
how long a request waits for the server."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import select
import threading
import weakref

from flask import Flask, has_request_context, request
from sqlalchemy import event, exc, text
from sqlalchemy.engine import Engine

from app.extensions import db

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SQLITE_BUSY_TIMEOUT = 10  # seconds a writer waits for another to finish
# SQLite reads the database file through memory mapping, up to this size, instead of copying
# each page into its connection's own cache (2 MB by default, and emptied whenever another
# connection writes). The mapped pages are the operating system's page cache, shared by every
# connection and worker. The Today view of a user in 20 projects reads about 1,000 index and
# table pages: 17.4 ms in a request through pread and the small cache, 1.5 ms mapped
# (`make bench`, 2026-12-02; bench/README.md). Larger files are read the old way beyond it.
SQLITE_MMAP_SIZE = 256 * 1024 * 1024
_HOLDS_WRITER = "tasklane_holds_writer"  # in a pooled connection's info
_WRITERS: weakref.WeakKeyDictionary[Engine, WriterQueue] = weakref.WeakKeyDictionary()


class WriterQueue:
    """Where a SQLite database's write transactions wait for their turn.

    SQLite lets one writer in and makes the others poll: its busy handler sleeps 1, 2, 5, 10
    ... up to 100 ms between tries. With a few concurrent writers most of a write's time
    went to sleeping (p99 0.5-0.9 s with 8 writers in `make bench`), and while the waiting
    worker slept, the database often stood idle. So writers queue here instead: the threads
    of a process on a lock, and processes (gunicorn's workers, a CLI command) on an flock of
    a file beside the database, which the kernel hands to the next waiter the moment the
    holder lets go. SQLite's own lock still decides; the queue only orders who asks.

    The wait in the process's own queue ends after `timeout`, and the writer goes on without
    the queue: a writer that never let go cannot stall the process. The flock has no
    timeout (polling it instead cost more CPU and throughput than SQLite's own polling
    saved), so a hung holder in another process keeps one thread here waiting (the one at
    the head of this process's queue) until it lets go or its process ends, which releases
    the lock; the threads behind it time out and meet at SQLite's lock as before.
    """

    def __init__(self, database: str | None):
        self._threads = threading.Lock()
        in_memory = not database or database == ":memory:" or database.startswith("file:")
        self._path = None if in_memory else f"{database}-writer.lock"
        self._fd: int | None = None
        self._fd_pid: int | None = None

    def acquire(self, timeout: float) -> bool:
        """Wait for this thread's turn; False past `timeout` (in the process's own queue)."""
        if not self._threads.acquire(timeout=timeout):
            return False
        if self._path is not None:
            # On a file system without locks, the process's own queue alone.
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_file(), fcntl.LOCK_EX)
        return True

    def release(self) -> None:
        if self._fd is not None and self._fd_pid == os.getpid():
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()

    def locked(self) -> bool:
        return self._threads.locked()

    def _lock_file(self) -> int:
        # Opened once per process: a descriptor inherited across fork shares its lock with
        # the parent, so it would not keep the two apart.
        if self._fd_pid != os.getpid():
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._fd_pid = os.getpid()
            weakref.finalize(self, os.close, self._fd)  # with its engine (tests make many)
        return self._fd


def sqlite_writer(engine: Engine) -> WriterQueue:
    """The queue a SQLite engine's write transactions take turns on."""
    return _WRITERS[engine]


def engine_options(uri: str, transaction_pooling: bool = False) -> dict:
    if uri.startswith("sqlite"):
        # check_same_thread off: gunicorn threads share the pool; the timeout is the busy wait.
        return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT, "check_same_thread": False}}
    options = {
        "pool_timeout": 5,
        "pool_size": 5,
        "max_overflow": 5,
        "pool_recycle": 1800,
    }
    if transaction_pooling:
        # Behind PgBouncer in transaction mode, each transaction may run on another server
        # connection, so nothing may outlive a transaction on the server. psycopg prepares a
        # statement on the server after its fifth run on a connection and then only names
        # it: on a server connection that never saw the PREPARE that fails ("prepared
        # statement does not exist"). None: never prepare. Tasklane keeps no other session
        # state (no SET, LISTEN, temporary tables or session advisory locks; the migration
        # lock is transaction-scoped), and the answer timeout is kept by the client.
        options["connect_args"] = {"prepare_threshold": None}
    return options


def configure(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    else:
        event.listen(engine, "checkout", _drop_if_closed_by_server)
        event.listen(db.session, "after_flush", _note_flush)
        app.teardown_request(_end_reads_with_commit)
        connect_timeout = app.config["DATABASE_CONNECT_TIMEOUT"]

        @event.listens_for(engine, "do_connect")
        def _connect(_dialect, _record, _cargs, cparams):
            # Fail fast when the server is gone, so a page answers 503 instead of hanging.
            # (The connection is opened by the answer-timeout seam's listener, after this
            # one: app/seams/request_bound_connection.py.)
            cparams["connect_timeout"] = connect_timeout


_FLUSHED = "tasklane_flushed"  # in a session's info: this request's session wrote through the ORM


def _note_flush(session, _flush_context) -> None:
    session.info[_FLUSHED] = True


def _end_reads_with_commit(error: BaseException | None) -> None:
    """End a read request's transaction with COMMIT rather than the ROLLBACK of closing it.

    psycopg prepares a statement on the server after its fifth run on a connection, and a
    prepared statement is planned once instead of on every run. But psycopg forgets them
    all and deallocates them at every ROLLBACK (they may name objects the rollback undid),
    and closing the request's session rolls back: so the list's statements were planned
    anew on every request, and never prepared. A read has nothing to undo; COMMIT ends it
    the same way and keeps them. Runs before Flask-SQLAlchemy closes the session (request
    teardown precedes the app context's).

    Only a GET, HEAD or OPTIONS that ended without an exception, left nothing pending and
    flushed nothing commits: anything else ends as before. (A read that hit an error
    handler was rolled back by it; what it read afterwards to render the page is all a
    COMMIT then ends.) Behind PgBouncer statements are never prepared and this changes
    nothing but the word that ends the transaction."""
    if error is not None or request.method not in SAFE_METHODS:
        return
    if not db.session.registry.has():
        return
    session = db.session()
    if (
        not session.in_transaction()
        or session.info.get(_FLUSHED)
        or session.new
        or session.dirty
        or session.deleted
    ):
        return
    try:
        session.commit()
    except Exception:  # the database may have gone: the session's close rolls back as before
        log.debug("ending a read with COMMIT failed", exc_info=True)


@contextlib.contextmanager
def one_plan_for_every_value(connection):
    """Statements run on `connection` (a SQLAlchemy Connection) inside, once psycopg has
    prepared them, run by PostgreSQL's one generic plan, never planned again for each run's
    values: for a statement that chooses its way as it runs (a project's search,
    search.probed_page), where no estimate of a value decides.

    PostgreSQL chooses by itself between planning every run for its values and keeping one
    generic plan, by their estimated costs, and for the probed search that choice followed
    ANALYZE's sample: custom plans after 3 of 6 ANALYZEs of the bench's data, each run then
    planned anew (0.5-0.6 ms of PostgreSQL CPU a keystroke: the statement is large), the
    generic plan after the others. The generic plan is the one it already ran half the
    time; the tests check it on every search plan test (tests/helpers.generic_plan).
    SET LOCAL lasts to the end of the transaction, so it is set back after the block (an
    error rolls the transaction back, and the setting with it). On the driver's connection:
    through SQLAlchemy the two SETs cost about 0.25 ms of Python, a third of the saving.
    Never prepared (SQLite; PgBouncer's transaction pooling): nothing to keep, nothing set.
    """
    driver = connection.connection.driver_connection
    if getattr(driver, "prepare_threshold", None) is None:
        yield
        return
    driver.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    yield
    driver.execute("SET LOCAL plan_cache_mode = DEFAULT")


@contextlib.contextmanager
def planned_for_its_values(connection):
    """Statements run on `connection` (a SQLAlchemy Connection) inside are never prepared.

    psycopg prepares a statement after its fifth run on a connection (and reads keep them:
    _end_reads_with_commit), and PostgreSQL then plans it five times for its values and may
    keep one generic plan for every value after that. For a statement whose best plan
    depends on a value's statistics that plan can be ruinous: a view's search planned for
    no term in particular walked every task of every project for a rare one instead of
    reading the trigram index. Sent unprepared, each run is planned for its own values.
    (The tag filter instead writes its tag ids into the statement, listing.tagged: they are
    integers of our own, so its plans can still be kept. A search term is the user's text.)
    """
    driver = connection.connection.driver_connection
    if not hasattr(driver, "prepare_threshold"):  # SQLite: plans are always for the values
        yield
        return
    threshold = driver.prepare_threshold
    driver.prepare_threshold = None
    try:
        yield
    finally:
        driver.prepare_threshold = threshold


def _drop_if_closed_by_server(dbapi_connection, _record, _proxy) -> None:
    """Instead of pool_pre_ping, whose SELECT 1 cost every request a round trip.

    An idle connection has nothing to read unless the server has ended it (a restart, an
    idle timeout, pg_terminate_backend): the closing notice and end of file make the socket
    readable. Asking the kernel costs microseconds; the pool then connects anew.
    """
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN)
    if poller.poll(0):
        raise exc.DisconnectionError("the server closed this connection")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy emit BEGIN itself (below) instead of pysqlite's implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_SIZE}")
        cursor.close()

    writer = _WRITERS[engine] = WriterQueue(engine.url.database)

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A write transaction takes the write lock up front (BEGIN IMMEDIATE), waiting on the
        # busy timeout; a deferred one that later wrote could hit an unrecoverable lock upgrade
        # ("database is locked") under concurrent writers. Reads stay deferred and concurrent.
        write = conn.get_execution_options().get("tasklane_write") or (
            has_request_context() and request.method not in SAFE_METHODS
        )
        info = conn.connection.info
        if write and not info.get(_HOLDS_WRITER) and writer.acquire(SQLITE_BUSY_TIMEOUT):
            info[_HOLDS_WRITER] = True
        # Straight to the driver: every request begins one, and SQLAlchemy's execution layer
        # cost more than the statement.
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):
        # The transaction is over when its connection goes back to the pool: after the
        # commit or rollback, on error and on invalidation alike.
        if record.info.pop(_HOLDS_WRITER, False):
            writer.release()


# Namespaces of one_at_a_time's keys (the first of pg_advisory_xact_lock's two int4 keys;
# migrations/env.py's lock takes the single-bigint form, a different key space).
PROJECT_NAMES = 1


def one_at_a_time(namespace: int, key: int) -> None:
    """Until this transaction ends, every other transaction asking for (namespace, key) waits:
    for a check followed by a write that must not interleave with another's (two tabs
    creating a project of the same name: both would find the name free).

    PostgreSQL: a transaction-scoped advisory lock (released by the commit or rollback, so it
    works behind PgBouncer's transaction pooling). SQLite: nothing more to do, its writes
    already go one at a time (BEGIN IMMEDIATE, above)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, :key)"),
            {"namespace": namespace, "key": key % 2**31},
        )
