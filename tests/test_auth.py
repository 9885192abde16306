"""Registration, sign-in, sign-out and what a copied cookie can still do afterwards."""

from __future__ import annotations

from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import LoginSession, User, utcnow
from tests.helpers import PASSWORD, create_user, login, logout, register


def users(app):
    with app.app_context():
        return db.session.scalars(select(User)).all()


def test_root_sends_visitors_to_login_and_users_to_tasks(client, user):
    assert client.get("/").headers["Location"] == "/login"
    login(client)
    assert client.get("/").headers["Location"] == "/tasks"


def test_register_creates_user_signs_in_and_normalises_email(app, client):
    response = register(client, email="  Grace@Example.COM ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/tasks"
    [user] = users(app)
    assert user.email == "grace@example.com"
    assert user.password_hash.startswith("$argon2id$")
    page = client.get("/tasks")
    assert page.status_code == 200
    assert "Grace" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-email"}, "email address"),
        ({"password": "short1", "confirm": "short1"}, "at least 8 characters"),
        ({"password": "x" * 257, "confirm": "x" * 257}, "at most 256 characters"),
        ({"password": "password123", "confirm": "password123"}, "commonly used"),
        ({"password": "Sunshine1", "confirm": "Sunshine1"}, "commonly used"),
        ({"confirm": "something-else-entirely"}, "The passwords differ."),
        ({"display_name": ""}, "This field is required."),
        ({"display_name": "Bad\x00Name"}, "control characters"),
    ],
)
def test_register_rejects_bad_input_and_keeps_what_was_typed(app, client, fields, message):
    response = register(client, **fields)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body
    assert users(app) == []
    email = fields.get("email", "grace@example.com")
    assert f'value="{email}"' in body
    # Passwords are never sent back.
    assert PASSWORD not in body


def test_register_refuses_an_email_in_use_whatever_its_case(app, client, user):
    response = register(client, email="ADA@example.com")
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)
    assert len(users(app)) == 1


def test_every_form_field_has_a_label(client):
    for path in ("/login", "/register"):
        body = client.get(path).get_data(as_text=True)
        inputs = __import__("re").findall(r"<input[^>]*>", body)
        # Hidden inputs (the CSRF token, the browser's time zone) are nobody's to fill in.
        shown = [tag for tag in inputs if 'type="hidden"' not in tag]
        ids = {i for tag in shown for i in __import__("re").findall(r'\bid="([^"]+)"', tag)}
        assert ids
        for field_id in ids:
            assert f'<label for="{field_id}"' in body, (path, field_id)


def test_login_success_records_last_login(app, client, user):
    response = login(client, email="ADA@EXAMPLE.com")
    assert response.status_code == 302
    assert response.headers["Location"] == "/tasks"
    [row] = users(app)
    assert row.last_login_at is not None


def _without_token(html: str) -> str:
    import re

    # Every copy of the token: the meta tag, hidden inputs and htmx's header attribute. It is
    # signed with a timestamp, so two pages a second apart carry different tokens.
    html = re.sub(r'(csrf-token" content|csrf_token" type="hidden" value)="[^"]+"', "", html)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", html)


def test_login_failure_is_identical_for_unknown_email_and_wrong_password(client, user):
    unknown = login(client, email="nobody@example.com", password=PASSWORD)
    wrong = login(client, email="ada@example.com", password="wrong-password-here")
    assert unknown.status_code == wrong.status_code == 401
    assert "Email or password is incorrect." in unknown.get_data(as_text=True)
    unknown_body = _without_token(unknown.get_data(as_text=True)).replace("nobody", "ada")
    assert unknown_body == _without_token(wrong.get_data(as_text=True))


def test_login_verifies_a_hash_even_for_an_unknown_email(app, client, monkeypatch):
    import app.passwords as passwords

    calls = []
    real = passwords.PasswordHasher.verify
    monkeypatch.setattr(
        passwords.PasswordHasher,
        "verify",
        lambda self, h, p: calls.append(h) or real(self, h, p),
    )
    login(client, email="nobody@example.com", password=PASSWORD)
    assert len(calls) == 1 and calls[0].startswith("$argon2id$")


def test_deactivated_user_cannot_log_in(app, client, user):
    with app.app_context():
        db.session.execute(update(User).values(is_active=False))
        db.session.commit()
    assert login(client).status_code == 401


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/account", "/account"),
        ("/tasks?status=done", "/tasks?status=done"),
        ("https://evil.example/", "/tasks"),
        ("//evil.example/", "/tasks"),
        ("/\\evil.example/", "/tasks"),
        ("javascript:alert(1)", "/tasks"),
        ("http:/evil.example", "/tasks"),
        ("/\r\nSet-Cookie:x=y", "/tasks"),
    ],
)
def test_next_only_redirects_within_the_site(client, user, target, expected):
    from urllib.parse import quote

    response = login(client, next_url=quote(target, safe=""))
    assert response.status_code == 302
    assert response.headers["Location"] == expected


@pytest.mark.security
def test_login_replaces_the_session_no_fixation(client, user):
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "attacker"
    login(client)
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"]


def _session_cookie(client):
    return client.get_cookie("tasklane_session").value


@pytest.mark.security
def test_logout_ends_that_session_even_for_a_copied_cookie(app, client, user):
    login(client)
    stolen = _session_cookie(client)
    response = logout(client)
    assert response.status_code == 302
    assert client.get("/tasks").status_code == 302

    attacker = app.test_client()
    attacker.set_cookie("tasklane_session", stolen)
    response = attacker.get("/tasks")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    with app.app_context():
        assert db.session.scalars(select(LoginSession)).all() == []


def test_logout_requires_post(auth_client):
    assert auth_client.get("/logout").status_code == 405


@pytest.mark.security
def test_remember_me_cookie_restores_the_login_and_dies_with_logout(app, client, user):
    response = login(client, remember=True)
    header = next(h for h in response.headers.getlist("Set-Cookie") if "tasklane_remember" in h)
    assert "HttpOnly" in header and "SameSite=Lax" in header
    remember = client.get_cookie("tasklane_remember").value
    expires = parsedate_to_datetime(header.split("Expires=")[1].split(";")[0])
    assert timedelta(days=29) < expires - utcnow() <= timedelta(days=30)

    # A browser restarted: the session cookie is gone, the remember cookie brings the user back.
    fresh = app.test_client()
    fresh.set_cookie("tasklane_remember", remember)
    assert fresh.get("/tasks").status_code == 200

    logout(client)
    later = app.test_client()
    later.set_cookie("tasklane_remember", remember)
    assert later.get("/tasks").status_code == 302


def test_session_cookie_is_httponly_and_lax(client, user):
    response = login(client)
    header = next(h for h in response.headers.getlist("Set-Cookie") if "tasklane_session" in h)
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header


def test_production_cookies_are_secure(make_app):
    app = make_app(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    create_user(app)
    response = login(app.test_client(), remember=True)
    cookies = [h for h in response.headers.getlist("Set-Cookie") if "tasklane_" in h]
    assert cookies and all("Secure" in h for h in cookies)


def _age_sessions(app, **fields):
    with app.app_context():
        db.session.execute(update(LoginSession).values(**fields))
        db.session.commit()


def test_idle_session_expires(app, auth_client):
    idle = app.config["SESSION_IDLE_TIMEOUT"]
    _age_sessions(app, last_seen_at=utcnow() - idle - timedelta(minutes=1))
    assert auth_client.get("/tasks").status_code == 302
    with app.app_context():
        assert db.session.scalars(select(LoginSession)).all() == []


def test_session_expires_at_its_absolute_lifetime(app, auth_client):
    _age_sessions(app, expires_at=utcnow() - timedelta(seconds=1))
    assert auth_client.get("/tasks").status_code == 302


def test_active_session_records_when_it_was_last_seen(app, auth_client):
    old = utcnow() - timedelta(minutes=30)
    _age_sessions(app, last_seen_at=old)
    assert auth_client.get("/tasks").status_code == 200
    with app.app_context():
        [record] = db.session.scalars(select(LoginSession)).all()
        assert record.last_seen_at > old + timedelta(minutes=29)


@pytest.mark.security
def test_deactivation_ends_a_live_session(app, auth_client):
    assert auth_client.get("/tasks").status_code == 200
    with app.app_context():
        db.session.execute(update(User).values(is_active=False))
        db.session.commit()
    assert auth_client.get("/tasks").status_code == 302


def test_outdated_argon2_parameters_are_upgraded_at_login(make_app):
    weak = make_app(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=1024)
    create_user(weak)
    stronger = make_app(ARGON2_TIME_COST=2, ARGON2_MEMORY_COST=2048)
    assert login(stronger.test_client()).status_code == 302
    with stronger.app_context():
        [user] = db.session.scalars(select(User)).all()
        assert "m=2048,t=2" in user.password_hash
    # And the new hash still verifies.
    assert login(stronger.test_client()).status_code == 302
