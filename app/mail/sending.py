"""Queueing a message, and the job that delivers it; which addresses may receive what.

The rule, in one place: mail goes to a user's address only once it is verified
(`send_to_user`), except the messages that recover an account or prove an address, which
`send` addresses as such: a reset link, a verification link, the confirmation of a new
address (and its "already in use" note), and project invitations, which are addressed to an
email, not to an account (the invitee may have none, and the mail must not differ when
they do).
"""

from __future__ import annotations

import logging

from app.jobs import job
from app.mail.compose import compose
from app.mail.transport import transmit

# An SMTP server that is down or refusing is tried again after 30 s, 1, 2, 4 ... minutes:
# eight retries span about two hours. After the last, job_failures says so.
RETRIES = 8
RETRY_DELAY = 30
BACKOFF = 2


log = logging.getLogger("tasklane.mail")


def send(to: str, template: str, subject: str, **context) -> None:
    """Queue the message `template` makes for the address `to`, verified or not: only for
    the messages the module docstring lists. `context` holds plain values (strings,
    numbers), as the queue carries them; links come from app.mail.external_url()."""
    deliver(to, template, subject, context)


def send_to_user(user, template: str, subject: str, **context) -> bool:
    """Queue a message to `user` (a User or login_sessions.SignedIn) at their address if it
    is verified; whether it was queued. Every message to an account's owner but the ones
    `send` is for goes through here."""
    if not user.email_verified:
        log.info("not mailing %s (address not verified): %s", user.email, subject)
        return False
    send(user.email, template, subject, **context)
    return True


def _summary(to: str, template: str, subject: str, context: dict) -> str:
    return f"mail to {to}: {subject}"


@job(retries=RETRIES, retry_delay=RETRY_DELAY, backoff=BACKOFF, summary=_summary)
def deliver(to: str, template: str, subject: str, context: dict) -> None:
    """Render and deliver one message; raising makes Huey try again later."""
    transmit(compose(to, template, subject, context))
