"""Outgoing mail: `send()` queues a message, the `deliver` job renders and delivers it.

Every message has a plain-text and an HTML part (templates/mail/<name>.txt and .html, on a
shared layout). Links in it are built by `external_url()` from BASE_URL, never from the
request's Host header. Delivery goes through SMTP as MAIL_* configure it, or, with no
MAIL_HOST, into instance/mail/ as .eml files with their links in the log.
"""

from __future__ import annotations

from app.mail.compose import compose, external_url
from app.mail.sending import deliver, send
from app.mail.transport import check_settings

__all__ = ["check_settings", "compose", "deliver", "external_url", "send"]
