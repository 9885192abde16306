"""Outgoing mail: `send()` queues a message, the `deliver` job renders and delivers it.

Who may be mailed what is decided in app/mail/sending.py: `send_to_user` for anything to
an account's owner (verified addresses only), `send` for recovery, verification and
invitations. Every message has a plain-text and an HTML part (templates/mail/<name>.txt
and .html, on a shared layout). Links in it are built by `external_url()` from BASE_URL,
never from the request's Host header. Delivery goes through SMTP as MAIL_* configure it,
or, with no MAIL_HOST, into instance/mail/ as .eml files with their links in the log.
"""

from __future__ import annotations

from app.mail.compose import compose, external_url, token_from_seed, token_link
from app.mail.sending import deliver, send, send_to_user
from app.mail.transport import check_settings

__all__ = [
    "check_settings",
    "compose",
    "deliver",
    "external_url",
    "send",
    "send_to_user",
    "token_from_seed",
    "token_link",
]
