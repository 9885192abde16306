"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1): what the app sends arrives
here, and tests read it as a mail client would, both parts and the links in them."""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.live import free_port


class Mailbox:
    """Every message the server received, parsed; `settings` points an app at it."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._arrived = threading.Condition()
        self._controller: Controller | None = None
        self.logins: list[tuple[str, str]] = []

    @property
    def settings(self) -> dict:
        return {"MAIL_HOST": "127.0.0.1", "MAIL_PORT": self.port, "MAIL_SECURITY": "none"}

    def start(self, login: tuple[str, str] | None = None) -> Mailbox:
        """Serve; with `login`, only a client that signs in with it may send (AUTH over
        plain SMTP, which aiosmtpd allows only when told to: the test has no certificate)."""
        options = {}
        if login is not None:
            options = {
                "authenticator": self._authenticator(login),
                "auth_required": True,
                "auth_require_tls": False,
            }
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def _authenticator(self, expected: tuple[str, str]):
        def check(server, session, envelope, mechanism, auth_data):
            given = (auth_data.login.decode(), auth_data.password.decode())
            self.logins.append(given)
            return AuthResult(success=given == expected)

        return check

    # aiosmtpd's handler hook: called once per message accepted.
    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 30) -> list[EmailMessage]:
        """Block until `count` messages have arrived (a consumer in another process sends
        them); fails after `timeout` seconds rather than hanging."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.messages)} message(s) arrived, expected {count}"
                self._arrived.wait(left)
        return self.messages

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def parts(message: EmailMessage) -> tuple[str, str]:
    """(plain text, HTML) of a message, decoded."""
    return (
        message.get_body(("plain",)).get_content(),
        message.get_body(("html",)).get_content(),
    )


def token_link(message: EmailMessage, path: str) -> str:
    """The link to `path` with a token in the text part (the HTML part must carry the same
    one)."""
    text, html = parts(message)
    [link] = set(re.findall(rf"https?://\S+{re.escape(path)}\?token=[\w-]+", text))
    assert link in html.replace("&amp;", "&"), "the HTML part has another link"
    return link


def reset_link(message: EmailMessage) -> str:
    return token_link(message, "/reset-password")


def read_eml(folder) -> list[EmailMessage]:
    """The messages written to `folder` without MAIL_HOST, oldest first."""
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]
