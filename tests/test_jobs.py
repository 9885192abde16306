"""The job queue: a mail job retried with backoff while SMTP is down and delivered once when
it is back, a last failure written where admins see it, and the consumers that run jobs for
real (`python -m app.jobs.worker`, the one gunicorn starts beside itself, Redis).

Retries are driven as the consumer drives them, through Huey's own schedule, with the clock
given rather than waited for: read_schedule(at) hands out what is due at `at`."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs import huey
from app.mail.sending import RETRIES
from app.models import JobFailure, UserToken
from tests.helpers import admin_client, count, create_user, huey_time, post_form, run_due
from tests.live import ROOT, Client, free_port, gunicorn, live_environment
from tests.mailbox import Mailbox, reset_link

ADA = "ada@example.com"


@pytest.fixture
def queue_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'queue.sqlite3'}"


def _ask_for_a_link(app) -> None:
    response = post_form(
        app.test_client(), "/forgot-password", {"email": ADA}, token_from="/forgot-password"
    )
    assert response.status_code == 200


def test_smtp_down_the_mail_is_retried_with_backoff_and_delivered_once(make_app, queue_url):
    mailbox = Mailbox()  # its port, with nothing listening yet
    app = make_app(QUEUE_URL=queue_url, **mailbox.settings)
    create_user(app)
    _ask_for_a_link(app)
    assert huey.pending_count() == 1  # queued by the request, not run in it
    assert run_due() == 2  # the link job, then the mail job it queued, which failed
    assert (huey.pending_count(), huey.scheduled_count()) == (0, 1)
    mailbox.start()
    try:
        assert run_due() == 0  # the retry waits its 30 s
        assert run_due(huey_time(seconds=31)) == 1
        assert run_due(huey_time(days=1)) == 0
    finally:
        mailbox.stop()
    [message] = mailbox.messages
    assert message["To"] == ADA and reset_link(message)
    assert huey.scheduled_count() == 0
    assert count(app, JobFailure) == 0


def test_the_queue_never_holds_a_working_link(make_app, queue_url, tmp_path):
    """While the reset mail waits for SMTP, the queue (its file here; Redis holds the same
    payload) carries the token's seed, not the token: a copy of it opens no account."""
    mailbox = Mailbox()
    app = make_app(QUEUE_URL=queue_url, **mailbox.settings)
    create_user(app)
    _ask_for_a_link(app)
    assert run_due() == 2  # the link job, then the mail job, which waits for SMTP
    assert huey.scheduled_count() == 1
    queued = b"".join(path.read_bytes() for path in tmp_path.glob("queue.sqlite3*"))
    assert ADA.encode() in queued  # the waiting message is in what was read
    mailbox.start()
    try:
        assert run_due(huey_time(seconds=31)) == 1
    finally:
        mailbox.stop()
    [message] = mailbox.messages
    link = reset_link(message)
    token = link.split("token=", 1)[1]
    assert len(token) == 43 and token.encode() not in queued
    page = app.test_client().get(link.removeprefix("http://tasklane.test"))
    assert page.status_code == 200 and "Choose a new password" in page.get_data(as_text=True)


def test_a_mail_that_fails_every_try_is_recorded_for_admins(make_app, queue_url):
    app = make_app(QUEUE_URL=queue_url, MAIL_HOST="127.0.0.1", MAIL_PORT=free_port())
    create_user(app)
    _ask_for_a_link(app)
    tries, days = 0, 0
    while huey.pending_count() or huey.scheduled_count():
        days += 1
        assert days < 30, "the job is still being retried"
        tries += run_due(huey_time(days=days))
    assert tries == 1 + RETRIES + 1  # the link job, then every try of the mail job
    with app.app_context():
        [failure] = db.session.scalars(select(JobFailure)).all()
    assert failure.job == "app.mail.sending.deliver"
    assert failure.summary == f"mail to {ADA}: Reset your Tasklane password"
    assert failure.error.startswith("ConnectionRefusedError")
    assert failure.attempts == RETRIES + 1
    assert "token" not in failure.summary + failure.error
    assert count(app, UserToken) == 1
    page = admin_client(app).get("/admin").get_data(as_text=True)
    assert "Failed background jobs" in page
    assert f"mail to {ADA}: Reset your Tasklane password" in page


def _worker_environment(database_url: str, queue_url: str, mailbox: Mailbox) -> dict:
    return live_environment(
        database_url,
        QUEUE_URL=queue_url,
        MAIL_HOST="127.0.0.1",
        MAIL_PORT=str(mailbox.port),
        MAIL_SECURITY="none",
        LOG_LEVEL="INFO",
    )


def test_the_worker_process_delivers_what_the_web_app_queued(
    make_app, database_url, queue_url, mailbox, tmp_path
):
    app = make_app(QUEUE_URL=queue_url, **mailbox.settings)
    create_user(app)
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "app.jobs.worker"],
        cwd=ROOT,
        env=_worker_environment(database_url, queue_url, mailbox),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _ask_for_a_link(app)
        [message] = mailbox.wait_for(1, timeout=60)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
    assert message["To"] == ADA
    assert "job worker consuming SqliteStorage" in (tmp_path / "worker.log").read_text()
    token = reset_link(message).split("token=")[1]
    response = post_form(
        app.test_client(),
        "/reset-password",
        {"token": token, "password": "a-brand-new-secret-9", "confirm": "a-brand-new-secret-9"},
        token_from="/forgot-password",
    )
    assert response.status_code == 302


def _consumers_of(queue_url: str) -> list[int]:
    """Processes running `app.jobs.worker` on this test's queue."""
    found = []
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if not proc.name.isdigit() or b"app.jobs.worker" not in (proc / "cmdline").read_bytes():
                continue
            if queue_url.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
    return found


def test_gunicorn_runs_the_consumer_of_a_sqlite_queue_and_stops_it(
    make_app, database_url, queue_url, mailbox
):
    """What `make run` does with no QUEUE_URL: jobs queued by the web workers are run by
    the consumer gunicorn started, with nothing else running."""
    create_user(make_app())
    settings = {"QUEUE_URL": queue_url, "MAIL_HOST": "127.0.0.1", "MAIL_PORT": str(mailbox.port)}
    with gunicorn(database_url, workers=1, threads=2, MAIL_SECURITY="none", **settings) as base:
        client = Client(base)
        form = {"email": ADA}
        assert client.post("/forgot-password", form, token_from="/forgot-password").status == 200
        [message] = mailbox.wait_for(1, timeout=60)
        assert _consumers_of(queue_url), "no consumer process for the queue"
    assert message["To"] == ADA
    assert _consumers_of(queue_url) == [], "the consumer outlived the server"


def test_a_redis_queue_carries_the_jobs(make_app, mailbox):
    name = f"tasklane-test-{uuid.uuid4().hex[:8]}"
    app = make_app(QUEUE_URL="redis://127.0.0.1:6379/0", QUEUE_NAME=name, **mailbox.settings)
    create_user(app)
    try:
        _ask_for_a_link(app)
        assert huey.storage.__class__.__name__ == "RedisStorage"
        assert huey.pending_count() == 1
        assert run_due() == 2
    finally:
        huey.storage.flush_all()
    [message] = mailbox.messages
    assert message["To"] == ADA


def test_the_worker_refuses_an_immediate_queue(database_url, queue_url, mailbox):
    env = _worker_environment(database_url, "immediate", mailbox)
    result = subprocess.run(
        [sys.executable, "-m", "app.jobs.worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "QUEUE_URL=immediate runs every job where it is queued" in result.stderr


def test_an_unknown_queue_url_stops_the_start(make_app):
    with pytest.raises(ValueError, match="QUEUE_URL: use redis://"):
        make_app(QUEUE_URL="amqp://127.0.0.1")
