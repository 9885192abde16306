"""Background jobs on Huey: the queue, the `job` decorator jobs are declared with, and what
becomes of a job that fails for good.

A job is a plain function declared with `@job(...)`; calling it queues it (it returns
nothing), and a consumer runs it later inside an application context:

- QUEUE_URL=redis://...: production. `make worker` (or the container's worker) consumes it;
  any number of web processes queue into it.
- QUEUE_URL empty (`make run`): a SQLite file in instance/, consumed by the consumer that
  gunicorn starts beside its workers (gunicorn.conf.py). Not Huey's immediate mode: that
  runs a job inside the request that queues it, so the request would wait on the SMTP
  server (and show, by how long it took, whether a reset was mailed), a failed send would
  never be retried, and nothing would ever run a scheduled job.
- QUEUE_URL=immediate: the tests' default. Each job runs inline when queued, through the
  same function and the same wrapper (app context, failure record), minus the serialising.

Jobs are queued after the request's commit: run inline, a job's own transaction would wait
for the request's write lock on SQLite.
"""

from __future__ import annotations

from app.jobs import health  # declares the scheduler's heartbeat, a periodic job
from app.jobs.queue import huey, init_app, job

__all__ = ["health", "huey", "init_app", "job"]
