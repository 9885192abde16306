"""Forgot password: the request answers alike for every address, the link arrives at a real
SMTP server built from BASE_URL, works once, for an hour, until the password changes, and
completing it ends every other session, signs in and is audited."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditEntry, LoginSession, User, UserToken, utcnow
from tests.helpers import (
    PASSWORD,
    admin_client,
    admin_post,
    change_password,
    count,
    create_user,
    csrf_token,
    login,
    post_form,
    user_id,
)
from tests.live import all_at_once
from tests.mailbox import parts, reset_link

pytestmark = pytest.mark.security

NEW_PASSWORD = "harbour-violet-compass-77"
ADA = "ada@example.com"


@pytest.fixture
def app(make_app, mailbox):
    return make_app(**mailbox.settings)


def forgot(client, email: str, **headers):
    return post_form(
        client, "/forgot-password", {"email": email}, token_from="/forgot-password",
        headers=headers or None,
    )  # fmt: skip


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def reset(client, token: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return post_form(
        client,
        "/reset-password",
        {"token": token, "password": password, "confirm": confirm or password},
        token_from="/forgot-password",
    )


def mailed_link(client, mailbox, email: str = ADA) -> str:
    assert forgot(client, email).status_code == 200
    return reset_link(mailbox.to(email)[-1])


def test_sign_in_page_links_to_the_form(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/forgot-password">Forgot your password?</a>' in page
    form = client.get("/forgot-password")
    assert form.status_code == 200
    assert "Send me a link" in form.get_data(as_text=True)


def _comparable(body: str, email: str) -> str:
    """The page without what differs between any two requests (the CSRF token) and the
    address typed, which the page repeats."""
    body = re.sub(r'(csrf-token" content=|"X-CSRFToken": )"[^"]+"', r"\1", body)
    return body.replace(email, "EMAIL")


def test_known_and_unknown_emails_get_the_same_answer_and_only_the_known_one_mail(
    app, client, user, mailbox
):
    known = forgot(client, ADA)
    unknown = forgot(app.test_client(), "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert _comparable(known.get_data(as_text=True), ADA) == _comparable(
        unknown.get_data(as_text=True), "nobody@example.com"
    )
    assert "Check your email" in known.get_data(as_text=True)
    assert [m["To"] for m in mailbox.messages] == [ADA]
    assert [rcpt for _, rcpt in mailbox.envelopes] == [[ADA]]
    assert count(app, UserToken) == 1


def test_the_message_has_both_parts_the_look_and_a_link_on_base_url(client, user, mailbox):
    link = mailed_link(client, mailbox)
    [message] = mailbox.messages
    text, html = parts(message)
    assert message["Subject"] == "Reset your Tasklane password"
    assert message["From"] == "Tasklane <tasklane@tasklane.test>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert link.startswith("http://tasklane.test/reset-password?token=")
    assert "Hello Ada," in text and "within the next hour" in text and "<" not in text
    assert "Hello Ada," in html and "Choose a new password</a>" in html
    assert "#4f46e5" in html  # the product's accent colour, inline


def test_the_token_is_stored_hashed(app, client, user, mailbox):
    token = token_of(mailed_link(client, mailbox))
    with app.app_context():
        [row] = db.session.scalars(select(UserToken)).all()
        stored = [str(v) for v in db.session.execute(select(UserToken.__table__)).one()]
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in " ".join(stored)
    assert row.expires_at - row.created_at == timedelta(hours=1)


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "evil.example"},
        {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
        {"Host": "evil.example:8443", "X-Forwarded-Host": "evil.example:8443"},
        {"Forwarded": "host=evil.example;proto=https"},
    ],
)  # fmt: skip
@pytest.mark.parametrize("proxies", [0, 1])
def test_a_forged_host_never_reaches_the_link(make_app, mailbox, headers, proxies):
    """Even behind a trusted proxy (whose X-Forwarded-Host the app then believes for the
    request), links come from BASE_URL alone."""
    app = make_app(TRUSTED_PROXIES=proxies, **mailbox.settings)
    create_user(app)
    client = app.test_client()
    # The form is fetched with the same headers, so the session cookie goes with the post.
    form = client.get("/forgot-password", headers=headers).get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', form).group(1)
    response = client.post(
        "/forgot-password", data={"email": ADA, "csrf_token": token}, headers=headers
    )
    assert response.status_code == 200
    [message] = mailbox.messages
    text, html = parts(message)
    assert "evil" not in text + html + str(message)
    assert reset_link(message).startswith("http://tasklane.test/")


def test_the_link_resets_the_password_ends_other_sessions_and_signs_in(app, client, user, mailbox):
    elsewhere = app.test_client()
    assert login(elsewhere).status_code == 302
    link = mailed_link(client, mailbox)
    page = client.get(urlsplit(link).path + "?" + urlsplit(link).query)
    assert page.status_code == 200
    assert "Choose a new password" in page.get_data(as_text=True)
    assert token_of(link) not in page.get_data(as_text=True).split("<form")[0]
    response = reset(client, token_of(link))
    assert response.status_code == 302 and response.headers["Location"] == "/tasks"
    landed = client.get("/tasks", follow_redirects=True).get_data(as_text=True)
    signed_in = "Your password was changed and you are signed in."
    assert f"{signed_in} 1 other session was signed out." in landed
    assert elsewhere.get("/tasks").status_code == 302  # the other browser: signed out
    with app.app_context():
        sessions = db.session.scalar(select(db.func.count()).select_from(LoginSession))
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert sessions == 1  # this browser's new one
    assert (entry.action, entry.target_email, entry.actor_email) == ("password_reset", ADA, ADA)
    assert "1 session(s) ended" in entry.detail
    assert login(app.test_client(), password=PASSWORD).status_code == 401
    assert login(app.test_client(), password=NEW_PASSWORD).status_code == 302
    assert count(app, UserToken) == 0


def _gone(response):
    body = response.get_data(as_text=True)
    assert response.status_code == 410, response.status_code
    assert "This link no longer works" in body
    assert 'href="/forgot-password">Ask for a new link</a>' in body


def test_a_link_works_once(app, client, user, mailbox):
    token = token_of(mailed_link(client, mailbox))
    assert reset(client, token).status_code == 302
    _gone(reset(app.test_client(), token, password="another-fresh-password-9"))
    _gone(client.get(f"/reset-password?token={token}"))
    assert login(app.test_client(), password=NEW_PASSWORD).status_code == 302


def test_two_uses_at_once_one_wins(app, client, user, mailbox):
    """The same link posted twice at the same moment (a double click, two tabs): one new
    password is set, the other request is told the link is gone."""
    token = token_of(mailed_link(client, mailbox))
    clients = [app.test_client() for _ in range(2)]
    forms = [
        {
            "token": token,
            "password": p,
            "confirm": p,
            "csrf_token": csrf_token(c, "/forgot-password"),
        }
        for c, p in zip(clients, (NEW_PASSWORD, "second-fresh-password-3"), strict=True)
    ]
    results = all_at_once(
        [
            lambda c=c, f=f: c.post("/reset-password", data=f)
            for c, f in zip(clients, forms, strict=True)
        ]
    )
    assert sorted(r.status_code for r in results) == [302, 410]
    winner = forms[[r.status_code for r in results].index(302)]["password"]
    assert login(app.test_client(), password=winner).status_code == 302
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("password_reset") == 1


def test_an_expired_link_fails(app, client, user, mailbox):
    token = token_of(mailed_link(client, mailbox))
    with app.app_context():
        db.session.execute(update(UserToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    _gone(client.get(f"/reset-password?token={token}"))
    _gone(reset(client, token))
    assert login(app.test_client(), password=PASSWORD).status_code == 302


def test_a_password_change_kills_the_link(app, client, user, mailbox):
    token = token_of(mailed_link(client, mailbox))
    assert login(client).status_code == 302
    assert change_password(client, PASSWORD, "some-other-password-5").status_code == 302
    _gone(app.test_client().get(f"/reset-password?token={token}"))
    _gone(reset(app.test_client(), token))


def test_a_password_an_admin_sets_kills_the_link(app, client, user, mailbox):
    token = token_of(mailed_link(client, mailbox))
    root = admin_client(app)
    target = user_id(app, ADA)
    temporary = {"password": "temporary-pass-42", "confirm": "temporary-pass-42"}
    response = admin_post(root, f"/admin/users/{target}/password", temporary)
    assert response.status_code in (302, 303)
    _gone(reset(app.test_client(), token))


def test_unknown_tokens_fail_and_a_missing_one_leads_to_the_form(client, user):
    _gone(client.get("/reset-password?token=not-a-token"))
    _gone(client.get("/reset-password?token=" + "x" * 5000))
    _gone(reset(client, "not-a-token"))
    response = client.get("/reset-password")
    assert response.status_code == 302 and response.headers["Location"] == "/forgot-password"


def test_a_refused_new_password_keeps_the_link(app, client, user, mailbox):
    token = token_of(mailed_link(client, mailbox))
    weak = reset(client, token, password="password")
    assert weak.status_code == 422
    assert "commonly used" in weak.get_data(as_text=True)
    differ = reset(client, token, confirm="something-else-entirely")
    assert differ.status_code == 422 and "The passwords differ." in differ.get_data(as_text=True)
    assert reset(client, token).status_code == 302


def test_a_deactivated_account_gets_no_link(app, client, user, mailbox):
    with app.app_context():
        db.session.execute(update(User).values(is_active=False))
        db.session.commit()
    assert forgot(client, ADA).status_code == 200
    assert mailbox.messages == []
    assert count(app, UserToken) == 0


def test_a_signed_in_user_is_sent_to_the_account_page(client, auth_client):
    response = client.get("/forgot-password")
    assert response.status_code == 302 and response.headers["Location"] == "/account"


def test_bad_input_is_a_422_with_a_message(client, mailbox):
    response = forgot(client, "not an address")
    assert response.status_code == 422
    assert "valid" in response.get_data(as_text=True).lower()
    assert forgot(client, "").status_code == 422
    assert mailbox.messages == []


def test_requests_are_rate_limited_per_address(client, user, mailbox):
    for i in range(5):
        assert forgot(client, f"someone{i}@example.com").status_code == 200
    response = forgot(client, ADA)
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert mailbox.messages == []


def test_requests_are_rate_limited_per_email_across_addresses(app, user, mailbox):
    for i in range(5):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"203.0.113.{i + 1}"
        assert forgot(client, ADA).status_code == 200
    late = app.test_client()
    late.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert forgot(late, ADA).status_code == 429
    assert len(mailbox.messages) == 5


def test_setting_passwords_through_links_is_rate_limited(client, user):
    for _ in range(5):
        _gone(reset(client, "guess"))
    assert reset(client, "guess").status_code == 429


def test_the_token_never_reaches_the_request_log(client, user, mailbox, caplog):
    token = token_of(mailed_link(client, mailbox))
    with caplog.at_level(logging.INFO, logger="tasklane.request"):
        client.get(f"/reset-password?token={token}")
        reset(client, token)
    lines = [r.getMessage() for r in caplog.records if r.name == "tasklane.request"]
    assert any(line.startswith("POST /reset-password 302") for line in lines), lines
    assert not any(token in line for line in lines)
