"""Reminders fired by real consumers: two `python -m app.jobs.worker` processes on one Redis
queue, each with its own scheduler (the consumers run with periodic=True), while the SMTP
server is down and then back. Every due reminder is mailed exactly once and notified once.

Real time, not the `clock` fixture (the workers are other processes): the reminders are
made due a minute ago, and the schedulers' next minute fires them. About 1.5 minutes: the
next minute, then the mail job's 30-second retry."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from datetime import time as clock_time

import pytest
from sqlalchemy import select, update

from app import reminders
from app.extensions import db
from app.jobs import huey
from app.models import Notification, Reminder, utcnow
from tests.helpers import add_task, create_user
from tests.live import ROOT, live_environment
from tests.mailbox import Mailbox

pytestmark = pytest.mark.security  # a fault test: consumers racing, SMTP down

TITLES = ("Pay rent", "Call the bank", "Water the plants")


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def test_two_workers_two_schedulers_smtp_down_then_back_mail_each_reminder_once(
    make_app, database_url, tmp_path
):
    server = Mailbox()  # its port, nothing listening yet: SMTP is down
    queue = f"tasklane-test-{uuid.uuid4().hex[:8]}"
    redis = "redis://127.0.0.1:6379/0"
    app = make_app(QUEUE_URL=redis, QUEUE_NAME=queue, **server.settings)
    create_user(app)
    tomorrow = date.today() + timedelta(days=2)
    for title in TITLES:
        task_id = add_task(app, title=title, due_date=tomorrow, due_time=clock_time(9, 0))
        with app.app_context():
            reminders.set_offsets(task_id, [0])
            db.session.commit()
    with app.app_context():  # made due a minute ago, unsent: the next scan fires them
        db.session.execute(update(Reminder).values(fire_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    environment = live_environment(
        database_url,
        QUEUE_URL=redis,
        QUEUE_NAME=queue,
        MAIL_HOST="127.0.0.1",
        MAIL_PORT=str(server.port),
        MAIL_SECURITY="none",
        LOG_LEVEL="INFO",
    )
    logs = [tmp_path / f"worker{n}.log" for n in (1, 2)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "app.jobs.worker"],
            cwd=ROOT,
            env=environment,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        for log in logs
    ]
    try:
        # Each mail job fails (nothing listens) and waits for its retry, 30 s on.
        _wait(lambda: huey.scheduled_count() >= len(TITLES), 120, "the failed mails' retries")
        assert server.messages == []
        server.start()
        server.wait_for(len(TITLES), timeout=120)
        # Long enough for a duplicate to arrive: another scan, another retry.
        time.sleep(5)
        assert all(worker.poll() is None for worker in workers), "a worker died"
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        server.stop()
        huey.storage.flush_all()
    subjects = sorted(message["Subject"] for message in server.messages)
    assert subjects == sorted(f"Reminder: {title}" for title in TITLES)
    with app.app_context():
        assert len(db.session.scalars(select(Notification.id)).all()) == len(TITLES)
        assert db.session.scalar(select(Reminder.id).where(Reminder.sent_at.is_(None))) is None
    for log in logs:  # both schedulers queued the scan: two schedulers really raced
        text = log.read_text()
        assert "Enqueueing periodic task app.reminders.scan" in text, text[-2000:]
