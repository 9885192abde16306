"""The job consumer, with its scheduler: `python -m app.jobs.worker`.

One command for every place that runs it: `make worker`, the container's worker (see the
Dockerfile), and the consumer gunicorn starts beside its workers when the queue is a SQLite
file (gunicorn.conf.py). The Flask app is created once, here, for the whole process; each
job runs in an application context of it (app/jobs/queue.py).
"""

from __future__ import annotations

import logging

from app import create_app
from app.jobs.queue import huey

# Threads: the jobs wait on SMTP and the database, not the CPU. The SQLite queue is polled
# from every 0.1 s up to every 5 s when idle (Redis blocks on the list instead). SIGTERM
# (docker stop, gunicorn's shutdown) lets a running job finish first; SIGINT stops at once.
CONSUMER_OPTIONS = {
    "workers": 2,
    "worker_type": "thread",
    "periodic": True,
    "initial_delay": 0.1,
    "backoff": 1.15,
    "max_delay": 5.0,
    "check_worker_health": True,
    "graceful_signal": "TERM",
}

flask_app = create_app()


def main() -> None:
    if huey.immediate:
        raise SystemExit("QUEUE_URL=immediate runs every job where it is queued: no worker needed")
    logging.getLogger("huey").setLevel(flask_app.config["LOG_LEVEL"])
    flask_app.logger.info("job worker consuming %s", huey.storage.__class__.__name__)
    huey.create_consumer(**CONSUMER_OPTIONS).run()


if __name__ == "__main__":
    main()
