"""The job queue's panel on /admin: jobs waiting, scheduled and failed for good, and the
scheduler's heartbeat, stale when it is old. On the real queues (a SQLite file, Redis with a
queue of the test's own), the heartbeat written by the periodic job as the consumer's
scheduler runs it, and by a real worker process; a queue that cannot be read is reported on
the page, not raised."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest

from app.extensions import db
from app.jobs import huey
from app.jobs.health import HEARTBEAT_KEY
from app.models import JobFailure, utcnow
from tests.helpers import admin_client, create_user, huey_time, post_form, run_due
from tests.live import ROOT, free_port, live_environment

ADA = "ada@example.com"


def figures(admin) -> dict[str, str]:
    """The panel's figures, as the signed-in admin `admin` reads them."""
    page = admin.get("/admin")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    panel = re.search(r'<section class="card"[^>]*id="queue-health">(.*?)</section>', body, re.S)
    assert panel, "no queue panel on /admin"
    found = dict(re.findall(r'<span[^>]*id="queue-(\w+)">(.*?)</span>', panel.group(1), re.S))
    found = {key: " ".join(re.sub(r"<[^>]+>", " ", value).split()) for key, value in found.items()}
    found["text"] = " ".join(re.sub(r"<[^>]+>", " ", panel.group(1)).split())
    return found


def test_inline_jobs_have_no_scheduler_to_show(app):
    shown = figures(admin_client(app))
    assert "inline (QUEUE_URL=immediate)" in shown["text"]
    assert (shown["pending"], shown["scheduled"], shown["failed"]) == ("0", "0", "0")
    assert shown["heartbeat"] == "never: no scheduler runs jobs inline"


@pytest.fixture(params=["sqlite", "redis"])
def queue_app(request, make_app, tmp_path):
    """An app on a real queue (a SQLite file, or Redis under a name of this test's own)
    whose SMTP server is down: each mail fails and waits for its retry."""
    smtp_down = {"MAIL_HOST": "127.0.0.1", "MAIL_PORT": free_port(), "MAIL_SECURITY": "none"}
    if request.param == "sqlite":
        yield make_app(QUEUE_URL=f"sqlite:///{tmp_path / 'queue.sqlite3'}", **smtp_down)
        return
    name = f"tasklane-test-{uuid.uuid4().hex[:8]}"
    app = make_app(QUEUE_URL="redis://127.0.0.1:6379/0", QUEUE_NAME=name, **smtp_down)
    yield app
    huey.storage.flush_all()


def test_the_panel_counts_the_queue_and_shows_the_heartbeat(queue_app):
    app = queue_app
    create_user(app)
    post_form(app.test_client(), "/forgot-password", {"email": ADA}, token_from="/forgot-password")
    with app.app_context():  # an earlier job that failed for good
        db.session.add(JobFailure(job="app.mail.sending.deliver", summary="mail to x", attempts=9))
        db.session.commit()
    admin = admin_client(app)
    shown = figures(admin)
    assert (shown["pending"], shown["scheduled"], shown["failed"]) == ("1", "0", "1")
    assert shown["heartbeat"] == "never stale"

    # The consumer's scheduler at this minute: the periodic jobs (the heartbeat among them)
    # join the queue, then the worker runs everything waiting: those, the reset link, then
    # the mail it queues, which fails and is scheduled for its retry.
    now = huey_time()
    periodic = huey.read_periodic(now)
    assert "heartbeat" in " ".join(task.name for task in periodic)
    for task in periodic:
        huey.enqueue(task)
    assert run_due(now) == len(periodic) + 2
    beat = huey.get(HEARTBEAT_KEY, peek=True)
    assert timedelta(0) <= utcnow() - beat < timedelta(minutes=1)
    shown = figures(admin)
    assert (shown["pending"], shown["scheduled"], shown["failed"]) == ("0", "1", "1")
    assert shown["heartbeat"] == f"{beat:%Y-%m-%d %H:%M} UTC running"

    with app.app_context():
        huey.put(HEARTBEAT_KEY, utcnow() - timedelta(minutes=4))
    shown = figures(admin)
    assert shown["heartbeat"].endswith("UTC stale")
    assert "none for three minutes means no job consumer is running" in shown["text"]


def test_a_running_worker_keeps_the_heartbeat(make_app, database_url, tmp_path):
    """`python -m app.jobs.worker` on a SQLite queue: its scheduler queues the heartbeat as
    it starts (and every minute after), and its workers run it."""
    queue_url = f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    app = make_app(QUEUE_URL=queue_url)
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "app.jobs.worker"],
        cwd=ROOT,
        env=live_environment(database_url, QUEUE_URL=queue_url, LOG_LEVEL="INFO"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while huey.get(HEARTBEAT_KEY, peek=True) is None:
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            time.sleep(0.1)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
    assert figures(admin_client(app))["heartbeat"].endswith("UTC running")
    assert "Enqueueing periodic task" in (tmp_path / "worker.log").read_text()


def test_a_queue_that_cannot_be_read_is_reported(make_app):
    app = make_app(QUEUE_URL=f"redis://127.0.0.1:{free_port()}/0")
    shown = figures(admin_client(app))
    assert "The queue could not be read: ConnectionError" in shown["text"]
    assert (shown["pending"], shown["scheduled"], shown["failed"]) == ("?", "?", "0")
