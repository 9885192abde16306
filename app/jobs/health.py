"""How the job queue is doing, for the admin dashboard: jobs waiting to run, jobs scheduled
for later (retries among them), jobs that failed for good, and when the scheduler last ran.

The scheduler's heartbeat is a periodic job that writes the time it ran, every minute, into
the queue's own key-value store (Huey's put/get: a field of a hash in Redis, a row of the
SQLite queue's kv table). Kept with the queue rather than in the database because it is the
queue's health it tells of: the web app reads it where the consumer writes it, one value
overwritten each minute rather than rows to purge, and no table to migrate. It proves the
whole chain, not just a live process: the scheduler queued the job and a worker ran it.
Older than STALE_AFTER and the dashboard calls it stale: the scheduler checks once a minute,
and a worker busy with slow jobs (an SMTP server timing out) may run the beat a little late,
so three minutes without one means the consumer is down or stuck.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from huey import crontab
from huey.storage import RedisStorage, SqliteStorage

from app.jobs import failures
from app.jobs.queue import huey, job
from app.models import utcnow

log = logging.getLogger("tasklane.jobs")

HEARTBEAT_KEY = "tasklane.heartbeat"
STALE_AFTER = timedelta(minutes=3)


@job(every=crontab(), summary=lambda: "scheduler heartbeat")
def heartbeat() -> None:
    huey.put(HEARTBEAT_KEY, utcnow())


@dataclass(frozen=True)
class QueueHealth:
    backend: str
    failed: int
    pending: int | None = None  # None: the queue could not be read
    scheduled: int | None = None
    last_beat: datetime | None = None
    error: str = ""

    @property
    def inline(self) -> bool:
        return huey.immediate

    @property
    def stale(self) -> bool:
        return self.last_beat is None or utcnow() - self.last_beat > STALE_AFTER


def _backend() -> str:
    if huey.immediate:
        return "inline (QUEUE_URL=immediate): each job runs where it is queued"
    if isinstance(huey.storage, RedisStorage):
        return "Redis"
    if isinstance(huey.storage, SqliteStorage):
        return f"SQLite file {huey.storage.filename}"
    return type(huey.storage).__name__


def check() -> QueueHealth:
    """The figures, read now. A queue that cannot be read (Redis down) is reported as such,
    not raised: the dashboard is where an admin looks when things are wrong."""
    backend, failed = _backend(), failures.count()
    try:
        return QueueHealth(
            backend,
            failed,
            pending=huey.pending_count(),
            scheduled=huey.scheduled_count(),
            last_beat=huey.get(HEARTBEAT_KEY, peek=True),
        )
    except Exception as error:  # whatever the storage raises: redis, sqlite3, OS errors
        log.warning("could not read the job queue: %r", error)
        return QueueHealth(backend, failed, error=f"{type(error).__name__}: {error}")
