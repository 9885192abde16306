"""The account page: name, password, sessions and deleting the account."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, LoginSession, Tag, Task, User, task_tags
from app.passwords import verify_password
from tests.helpers import (
    PASSWORD,
    account_post,
    add_task,
    change_password,
    count,
    create_user,
    login,
)

NEW_PASSWORD = "quiet-meadow-lantern-77"


def test_account_page_needs_login(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_change_display_name(app, auth_client):
    response = account_post(auth_client, "/account/profile", {"display_name": "  Countess  "})
    assert response.status_code == 302
    assert "Countess" in auth_client.get("/account").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User.display_name)) == "Countess"


def test_empty_display_name_is_refused(app, auth_client):
    response = account_post(auth_client, "/account/profile", {"display_name": ""})
    assert response.status_code == 422
    assert "This field is required." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User.display_name)) == "Ada"


def test_password_change_needs_the_current_password(app, auth_client):
    response = change_password(auth_client, "not-my-password", NEW_PASSWORD)
    assert response.status_code == 422
    assert "current password is not correct" in response.get_data(as_text=True)
    with app.app_context():
        assert verify_password(db.session.scalar(select(User.password_hash)), PASSWORD)


def test_password_change_rejects_a_weak_new_password(auth_client):
    response = change_password(auth_client, PASSWORD, "qwertyuiop")
    assert response.status_code == 422
    assert "commonly used" in response.get_data(as_text=True)


@pytest.mark.security
def test_password_change_ends_every_other_session(app, auth_client):
    other = app.test_client()
    login(other)
    assert other.get("/tasks").status_code == 200

    response = change_password(auth_client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert auth_client.get("/tasks").status_code == 200  # this browser stays signed in
    assert other.get("/tasks").status_code == 302  # the other one is out
    assert count(app, LoginSession) == 1
    assert login(app.test_client(), password=PASSWORD).status_code == 401
    assert login(app.test_client(), password=NEW_PASSWORD).status_code == 302


def test_password_change_says_and_records_how_many_other_sessions_ended(app, auth_client):
    for _ in range(2):
        login(app.test_client())
    response = account_post(
        auth_client,
        "/account/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.headers["Location"] == "/account"
    page = auth_client.get("/account").get_data(as_text=True)
    assert "Password changed. 2 other sessions were signed out." in page
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert (entry.action, entry.detail) == ("password_changed", "2 other session(s) ended")
        assert entry.actor_email == entry.target_email == "ada@example.com"


def test_sessions_are_listed_and_can_be_ended(app, auth_client):
    other = app.test_client()
    login(other)
    page = auth_client.get("/account").get_data(as_text=True)
    assert page.count("/end") == 2
    assert "this browser" in page
    with app.app_context():
        other_id = max(db.session.scalars(select(LoginSession.id)))
    response = account_post(auth_client, f"/account/sessions/{other_id}/end", {})
    assert response.status_code == 302
    assert other.get("/tasks").status_code == 302
    assert auth_client.get("/tasks").status_code == 200


@pytest.mark.security
def test_cannot_end_another_users_session(app, auth_client):
    create_user(app, email="eve@example.com", name="Eve")
    eve = app.test_client()
    login(eve, email="eve@example.com")
    with app.app_context():
        eve_session = db.session.scalar(
            select(LoginSession.id).join(User).where(User.email == "eve@example.com")
        )
    response = account_post(auth_client, f"/account/sessions/{eve_session}/end", {})
    assert response.status_code == 404
    assert eve.get("/tasks").status_code == 200


def test_delete_account_needs_password_and_email(app, auth_client):
    add_task(app, title="Write the report", tags=["Work"])
    wrong_password = account_post(
        auth_client,
        "/account/delete",
        {"confirm_email": "ada@example.com", "password": "nope-nope"},
    )
    wrong_email = account_post(
        auth_client, "/account/delete", {"confirm_email": "eve@example.com", "password": PASSWORD}
    )
    assert wrong_password.status_code == wrong_email.status_code == 422
    assert count(app, User) == 1 and count(app, Task) == 1


def test_delete_account_removes_user_and_all_their_data(app, auth_client):
    create_user(app, email="bob@example.com", name="Bob")
    add_task(app, title="Write the report", tags=["Work"])
    response = account_post(
        auth_client, "/account/delete", {"confirm_email": "ADA@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert auth_client.get("/tasks").status_code == 302
    with app.app_context():
        assert db.session.scalars(select(User.email)).all() == ["bob@example.com"]
    for model in (Task, Tag, task_tags, LoginSession):
        assert count(app, model) == 0
