"""What /readyz checks: each check answers None when fine, else a short reason that names
what failed and never how to reach it (no URL, host or password: the body is public)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text

from app.extensions import db, limiter
from app.jobs import huey

log = logging.getLogger("tasklane.health")


@functools.cache
def migration_heads(directory: str) -> frozenset[str]:
    """The revisions the code's migrations end at (read from the files once per process)."""
    return frozenset(ScriptDirectory(directory).get_heads())


def _failed(what: str, error: Exception) -> str:
    # The exception's text may hold a host, a port or a URL: logged, and only its kind shown.
    log.warning("readiness: %s failed: %r", what, error)
    return f"{what} failed ({type(error).__name__})"


def database() -> str | None:
    """The database answers, and its schema is at the migrations' head."""
    try:
        with db.engine.connect() as conn:
            applied = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except Exception as error:  # the driver's errors, a pool timeout, a missing table
        return _failed("database query", error)
    heads = migration_heads(current_app.extensions["migrate"].directory)
    if applied != heads:
        return (
            f"database at revision {', '.join(sorted(applied)) or 'none'}, "
            f"migrations at {', '.join(sorted(heads))}: run `flask db upgrade`"
        )
    return None


def rate_limits() -> str | None:
    """The rate-limit storage answers (Redis when RATELIMIT_STORAGE_URI names it)."""
    try:
        ok = limiter.storage.check()
    except Exception as error:
        return _failed("rate-limit storage", error)
    return None if ok else "rate-limit storage did not answer"


def job_queue() -> str | None:
    """The job queue's storage answers (Redis, or the SQLite file in instance/)."""
    try:
        huey.pending_count()
    except Exception as error:
        return _failed("job queue", error)
    return None


CHECKS: dict[str, Callable[[], str | None]] = {
    "database": database,
    "rate_limits": rate_limits,
    "job_queue": job_queue,
}


def run() -> dict[str, str]:
    """Each check's name with "ok" or the reason it failed."""
    return {name: check() or "ok" for name, check in CHECKS.items()}
