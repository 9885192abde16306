"""Production gunicorn settings, frozen for a 2-core machine (the bench uses these too).

Two worker processes (one per core) with four threads each: Tasklane's requests spend part of
their time waiting on the database, which threads overlap, while processes use both cores.
"""

import gc
import os
from pathlib import Path

from dotenv import dotenv_values

worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 20
keepalive = 5
# Tasklane logs one line per request itself (app/request_log.py); no second access log.
accesslog = None
errorlog = "-"
# LOG_FORMAT=json (in the environment or .env, as the app reads it): gunicorn's own lines
# as JSON too, through the app's formatter, so that every line on stderr parses.
_env_file = dotenv_values(Path(__file__).with_name(".env"))
if (os.environ.get("LOG_FORMAT") or _env_file.get("LOG_FORMAT") or "").strip().lower() == "json":
    from app.log_format import gunicorn_config

    logconfig_dict = gunicorn_config()
# Do not import the app in the master: each worker opens its own database pool.
preload_app = False
# No control socket: it lives at one fixed path per user, so a second instance (tests, the
# benchmark's ceilings) would fight over it, and nothing here uses it.
control_socket_disable = True


def post_worker_init(worker):
    """Hide everything the loaded app holds (modules, mappers, compiled templates: about
    125,000 objects) from the garbage collector. They live as long as the worker, and each
    full collection walked them all: a 60-70 ms pause in about one request in a hundred,
    which was the list page's p99 (measured with gc.callbacks; after freezing, full
    collections take under 2 ms)."""
    gc.collect()
    gc.freeze()


# ---- the job queue's consumer, when the queue is a SQLite file ----------------------------
# With no QUEUE_URL (`make run`, a container without Redis), jobs wait in instance/queue.sqlite3,
# which only this machine sees: the server runs their consumer itself, as a child it stops on
# the way out. With Redis, the worker runs on its own (`make worker`, the container's worker).
# Only for Tasklane's app (the benchmark serves others with this file).
_consumer = None


def on_starting(server):
    global _consumer
    if getattr(server.app, "app_uri", None) != "wsgi:app":
        return
    from dotenv import load_dotenv

    load_dotenv(override=False)  # as app/config.py does; the environment wins
    url = os.environ.get("QUEUE_URL", "").strip()
    if url and not url.startswith("sqlite:"):
        return
    import subprocess
    import sys

    _consumer = subprocess.Popen([sys.executable, "-m", "app.jobs.worker"])
    server.log.info("Started the job consumer (pid %s) for the SQLite queue", _consumer.pid)


def on_exit(server):
    if _consumer is None or _consumer.poll() is not None:
        return
    _consumer.terminate()  # SIGTERM: the job it is running finishes first
    try:
        _consumer.wait(timeout=graceful_timeout)
    except Exception:
        _consumer.kill()
        _consumer.wait()
