"""Delivering a composed message: SMTP (smtplib) as MAIL_* configure it, or, without
MAIL_HOST, a .eml file in instance/mail/ with the message's links in the log."""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app

log = logging.getLogger("tasklane.mail")

SECURITY = ("none", "starttls", "tls")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}


def check_settings(config: Mapping) -> None:
    if config["MAIL_SECURITY"] not in SECURITY:
        raise ValueError(f"MAIL_SECURITY must be one of {', '.join(SECURITY)}")
    if config["PRODUCTION"] and not config["MAIL_HOST"]:
        # Fine on a developer's machine; in production, whoever reads the log can reset.
        log.warning(
            "no MAIL_HOST: messages go to %s and their links to this log", config["MAIL_FILE_DIR"]
        )


def transmit(message: EmailMessage) -> None:
    if current_app.config["MAIL_HOST"]:
        _smtp(message, current_app.config)
    else:
        _file(message, current_app.config)


def _smtp(message: EmailMessage, config: Mapping) -> None:
    security = config["MAIL_SECURITY"]
    port = config["MAIL_PORT"] or DEFAULT_PORTS[security]
    # Our own name in EHLO: smtplib would otherwise ask DNS for this machine's.
    helo = urlsplit(config["BASE_URL"]).hostname or "localhost"
    options = {"timeout": config["MAIL_TIMEOUT"], "local_hostname": helo}
    if security == "tls":
        client = smtplib.SMTP_SSL(
            config["MAIL_HOST"], port, context=ssl.create_default_context(), **options
        )
    else:
        client = smtplib.SMTP(config["MAIL_HOST"], port, **options)
    with client:
        if security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if config["MAIL_USER"]:
            client.login(config["MAIL_USER"], config["MAIL_PASSWORD"])
        client.send_message(message)
    log.info("mail to %s sent: %s", message["To"], message["Subject"])


def _file(message: EmailMessage, config: Mapping) -> None:
    """No SMTP configured: keep the message where a developer can open it, and log its links
    so that, on a fresh clone, a password can be reset from the terminal."""
    folder = Path(config["MAIL_FILE_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    path = folder / f"{stamp}-{os.urandom(4).hex()}.eml"
    path.write_bytes(message.as_bytes())
    text = message.get_body(("plain",)).get_content()
    base = config["BASE_URL"].rstrip("/")
    links = [link for link in re.findall(re.escape(base) + r"\S*", text) if link != base + "/"]
    log.info(
        "mail to %s written to %s (no MAIL_HOST): %s %s",
        message["To"],
        path,
        message["Subject"],
        " ".join(links),
    )
