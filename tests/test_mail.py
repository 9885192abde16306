"""Outgoing mail: SMTP as MAIL_* configure it (a real aiosmtpd server), the .eml files and
logged links without MAIL_HOST, and links built from BASE_URL alone."""

from __future__ import annotations

import email
import email.policy
import logging

import pytest

from app import mail
from tests.helpers import create_user, post_form
from tests.mailbox import Mailbox, parts, reset_link

ADA = "ada@example.com"


def _ask_for_a_link(app):
    client = app.test_client()
    response = post_form(client, "/forgot-password", {"email": ADA}, token_from="/forgot-password")
    assert response.status_code == 200


def test_without_mail_host_messages_become_eml_files_and_their_links_are_logged(
    app, tmp_path, caplog
):
    create_user(app)
    with caplog.at_level(logging.INFO, logger="tasklane.mail"):
        _ask_for_a_link(app)
    [path] = (tmp_path / "mail").glob("*.eml")
    assert path.name.endswith(".eml") and path.name[:8].isdigit()
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text, html = parts(message)
    link = reset_link(message)
    assert message["To"] == ADA and message["Subject"] == "Reset your Tasklane password"
    assert "Hello Ada," in text and "Choose a new password</a>" in html
    [logged] = [r.getMessage() for r in caplog.records if r.name == "tasklane.mail"]
    assert str(path) in logged and link in logged


# aiosmtpd warns that AUTH without TLS is unsafe: the test server has no certificate.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_smtp_signs_in_when_a_user_is_configured(make_app):
    server = Mailbox().start(login=("mailer", "s3cret-relay"))
    try:
        app = make_app(**server.settings, MAIL_USER="mailer", MAIL_PASSWORD="s3cret-relay")
        create_user(app)
        _ask_for_a_link(app)
        [message] = server.messages
    finally:
        server.stop()
    assert server.logins == [("mailer", "s3cret-relay")]
    assert message["To"] == ADA
    assert server.envelopes == [("tasklane@tasklane.test", [ADA])]


def test_an_unknown_security_setting_stops_the_start(make_app):
    with pytest.raises(ValueError, match="MAIL_SECURITY must be one of none, starttls, tls"):
        make_app(MAIL_SECURITY="ssl")


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://tasks.example.org", "https://tasks.example.org/reset-password?token=t"),
        ("https://example.org/tasklane/", "https://example.org/tasklane/reset-password?token=t"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000/reset-password?token=t"),
    ],
)
def test_links_come_from_base_url_whatever_the_request_says(make_app, base_url, expected):
    app = make_app(BASE_URL=base_url, TRUSTED_PROXIES=1)
    headers = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    with app.test_request_context("/x", base_url="https://evil.example:444", headers=headers):
        assert mail.external_url("auth.reset_password", token="t") == expected
    with app.app_context():  # a worker has no request at all
        assert mail.external_url("auth.reset_password", token="t") == expected
