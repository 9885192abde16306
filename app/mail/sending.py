"""Queueing a message, and the job that delivers it."""

from __future__ import annotations

from app.jobs import job
from app.mail.compose import compose
from app.mail.transport import transmit

# An SMTP server that is down or refusing is tried again after 30 s, 1, 2, 4 ... minutes:
# eight retries span about two hours. After the last, job_failures says so.
RETRIES = 8
RETRY_DELAY = 30
BACKOFF = 2


def send(to: str, template: str, subject: str, **context) -> None:
    """Queue the message `template` makes for `to`. `context` holds plain values (strings,
    numbers), as the queue carries them; links come from app.mail.external_url()."""
    deliver(to, template, subject, context)


def _summary(to: str, template: str, subject: str, context: dict) -> str:
    return f"mail to {to}: {subject}"


@job(retries=RETRIES, retry_delay=RETRY_DELAY, backoff=BACKOFF, summary=_summary)
def deliver(to: str, template: str, subject: str, context: dict) -> None:
    """Render and deliver one message; raising makes Huey try again later."""
    transmit(compose(to, template, subject, context))
