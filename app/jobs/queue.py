"""The one Huey instance, bound by create_app to the queue its config names, and the `job`
decorator that runs each job in an application context."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app, has_app_context
from huey import Huey
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

from app.seams import huey_storage

log = logging.getLogger("tasklane.jobs")

IMMEDIATE = "immediate"

# Results are not kept: no caller waits for a job's return value, and in Redis they would
# pile up. Immediate (in memory) until create_app binds it.
huey = Huey("tasklane", results=False, immediate=True, utc=True)

# The application jobs run in when no application context is active: the worker's (one per
# consumer process, app/jobs/worker.py), or the last one create_app built in this process.
_bound: Flask | None = None


def storage_for(url: str, instance_path: str) -> tuple[type, dict]:
    """Huey's storage class and its arguments for QUEUE_URL."""
    if url == IMMEDIATE:
        return MemoryStorage, {}
    if not url:
        return SqliteStorage, {"filename": str(Path(instance_path) / "queue.sqlite3")}
    scheme = urlsplit(url).scheme
    if url.startswith("sqlite:///"):  # as SQLAlchemy spells them: sqlite:////abs, sqlite:///rel
        return SqliteStorage, {"filename": url.removeprefix("sqlite:///")}
    if scheme in {"redis", "rediss", "unix"}:
        return RedisStorage, {"url": url}
    raise ValueError(f"QUEUE_URL: use redis://..., sqlite:///path or {IMMEDIATE!r}, not {url!r}")


def init_app(app: Flask) -> None:
    """Bind the queue to `app`'s QUEUE_URL; jobs run in `app` outside an app context.

    Huey's tasks are declared on one module-level instance, so one queue per process: its
    storage is swapped (app/seams/huey_storage.py) rather than the instance replaced.
    """
    global _bound
    url = app.config["QUEUE_URL"]
    storage_class, storage_kwargs = storage_for(url, app.instance_path)
    huey_storage.rebind(
        huey,
        name=app.config["QUEUE_NAME"],
        storage_class=storage_class,
        storage_kwargs=storage_kwargs,
        immediate=url == IMMEDIATE,
    )
    _bound = app


def _app() -> Flask:
    if has_app_context():
        return current_app._get_current_object()
    if _bound is None:
        raise RuntimeError("no application: create_app() binds the job queue")
    return _bound


def job(
    *,
    retries: int = 0,
    retry_delay: float = 0,
    backoff: float = 1,
    summary: Callable[..., str] = lambda *args, **kwargs: "",
    every: Callable[[datetime], bool] | None = None,
):
    """Declare a job: Huey retries it `retries` times, the first after `retry_delay` seconds
    and each next one `backoff` times later. It runs in a fresh application context (its own
    database session, even when run inline inside a request). When its last try fails, a
    JobFailure row says so, with `summary(*args)`: what the job was, in words an admin can
    act on, and nothing secret (its arguments may carry a reset link).

    `every`: a periodic job (it takes no arguments), which the consumer's scheduler queues
    at each minute `every` (a huey.crontab) accepts; every consumer with periodic=True does,
    so the job itself must bear running twice at once."""

    def decorate(fn):
        @functools.wraps(fn)
        def run(*args, task, **kwargs):
            with _app().app_context():
                try:
                    return fn(*args, **kwargs)
                except Exception as error:
                    if not task.retries:  # Huey counts down: none left, this was the last
                        from app.jobs import failures

                        name = f"{fn.__module__}.{fn.__name__}"
                        failures.record(name, summary(*args, **kwargs), error, retries + 1)
                    raise

        options = {"retries": retries, "retry_delay": retry_delay, "retry_backoff": backoff}
        if every is not None:
            return huey.periodic_task(every, context=True, **options)(run)
        return huey.task(context=True, **options)(run)

    return decorate
