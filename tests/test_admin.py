"""The first admin page: the user list is for admins only."""

from __future__ import annotations

from tests.conftest import create_user, login


def test_anonymous_is_sent_to_login(client):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fadmin%2Fusers"


def test_non_admin_gets_403(auth_client):
    response = auth_client.get("/admin/users")
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)


def test_admin_sees_every_user(app, client):
    create_user(app, email="root@example.com", name="Root", admin=True)
    create_user(app, email="ada@example.com", name="Ada")
    login(client, email="root@example.com")
    response = client.get("/admin/users")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "root@example.com" in body and "ada@example.com" in body
    assert body.count('<tr id="user-') == 2
    assert 'href="/admin/users"' in client.get("/tasks").get_data(as_text=True)


def test_admin_link_hidden_from_other_users(auth_client):
    assert 'href="/admin/users"' not in auth_client.get("/tasks").get_data(as_text=True)
