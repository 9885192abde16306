"""The admin area: who may enter, and the user list (search, filters, sorting, pages, queries)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import event

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.models import Task, User, utcnow
from tests.helpers import (
    HTMX,
    add_users,
    admin_client,
    create_user,
    csrf_token,
    get_user,
    inbox_of,
    user_id,
)


def row_emails(body: str) -> list[str]:
    return re.findall(r'<td data-label="Email"><a href="[^"]+">([^<]+)</a>', body)


# ---- Access: one gate for every admin route ------------------------------------------------


def _admin_routes() -> list[tuple[str, str]]:
    app = create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    routes = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith("admin."):
                path = url_for(rule.endpoint, **dict.fromkeys(rule.arguments, 1))
                routes += [(m, path) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


ADMIN_ROUTES = _admin_routes()


def test_the_route_list_covers_the_admin_area():
    paths = {path for _, path in ADMIN_ROUTES}
    assert {"/admin", "/admin/users", "/admin/users/1", "/admin/audit"} <= paths
    assert ("POST", "/admin/users/1/delete") in ADMIN_ROUTES
    assert len(ADMIN_ROUTES) >= 10


@pytest.mark.security
@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_anonymous_is_sent_to_login(app, client, method, path):
    # A valid CSRF token, so that it is the admin gate that answers and not CSRF protection.
    response = client.open(path, method=method, data={"csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 302, (method, path)
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.security
@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_signed_in_non_admin_gets_403(app, auth_client, method, path):
    create_user(app, email="root@example.com", admin=True)
    token = csrf_token(auth_client, "/account")
    response = auth_client.open(path, method=method, data={"csrf_token": token})
    assert response.status_code == 403, (method, path)
    assert "Not allowed" in response.get_data(as_text=True)
    assert get_user(app, "root@example.com").is_admin  # nothing happened to user 1 or 2


def test_admin_link_shown_to_admins_only(app, auth_client):
    assert 'href="/admin"' not in auth_client.get("/tasks").get_data(as_text=True)
    root = admin_client(app)
    assert 'href="/admin"' in root.get("/tasks").get_data(as_text=True)


# ---- The user list -------------------------------------------------------------------------


def test_list_shows_every_user_with_task_counts_and_flags(app):
    client = admin_client(app)
    create_user(app, email="ada@example.com", name="Ada Lovelace")
    add_users(app, 1, tasks_each=3)
    response = client.get("/admin/users")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert row_emails(body) == ["ada@example.com", "member000@example.com", "root@example.com"]
    assert "Ada Lovelace" in body
    assert re.search(
        r'data-label="Tasks open / total" class="numeric">2 / 3<', body
    )  # one of 3 is done
    assert body.count('<span class="badge">admin</span>') == 1
    # The keyboard contract of static/js/app.js.
    assert "<tbody data-keynav>" in body and "data-keynav-search" in body
    ada = user_id(app, "ada@example.com")
    assert (
        f'<tr id="user-{ada}" data-keynav-row tabindex="-1" '
        f'data-keynav-href="/admin/users/{ada}">' in body
    )


def test_search_matches_email_or_name_case_insensitively(app):
    client = admin_client(app)
    create_user(app, email="ada@example.com", name="Ada Lovelace")
    create_user(app, email="grace@example.com", name="Grace Hopper")
    assert row_emails(client.get("/admin/users?q=HOPPER").get_data(as_text=True)) == [
        "grace@example.com"
    ]
    assert row_emails(client.get("/admin/users?q=ada@").get_data(as_text=True)) == [
        "ada@example.com"
    ]
    # LIKE wildcards in the search are literal characters.
    none = client.get("/admin/users?q=%25").get_data(as_text=True)
    assert row_emails(none) == [] and "No users match." in none


def test_search_as_you_type_answers_a_fragment(app):
    client = admin_client(app)
    create_user(app, email="ada@example.com")
    response = client.get("/admin/users?q=ada", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body and row_emails(body) == ["ada@example.com"]
    assert "1 user matching “ada”" in body
    assert "HX-Request" in response.headers["Vary"]
    page = client.get("/admin/users").get_data(as_text=True)
    assert 'hx-trigger="input changed delay:300ms, search"' in page
    assert 'hx-push-url="true"' in page


def test_role_and_status_filters(app):
    client = admin_client(app)
    create_user(app, email="ada@example.com")
    create_user(app, email="grace@example.com", admin=True)
    with app.app_context():
        db.session.get(User, user_id(app, "ada@example.com")).is_active = False
        db.session.commit()
    admins = client.get("/admin/users?role=admin").get_data(as_text=True)
    assert row_emails(admins) == ["grace@example.com", "root@example.com"]
    users = client.get("/admin/users?role=user").get_data(as_text=True)
    assert row_emails(users) == ["ada@example.com"]
    off = client.get("/admin/users?status=deactivated").get_data(as_text=True)
    assert row_emails(off) == ["ada@example.com"] and "badge-danger" in off
    on = client.get("/admin/users?status=active&role=admin&q=grace").get_data(as_text=True)
    assert row_emails(on) == ["grace@example.com"]


def test_sorting(app):
    client = admin_client(app)
    create_user(app, email="zed@example.com")  # newest, never signed in, no tasks
    add_users(app, 2, tasks_each=0)  # created before everyone above
    with app.app_context():
        busy = db.session.get(User, user_id(app, "member001@example.com"))
        _, inbox = inbox_of(busy.email)
        db.session.add_all(
            [Task(project_id=inbox, created_by_id=busy.id, title=f"t{i}") for i in range(4)]
        )
        busy.last_login_at = utcnow() + timedelta(hours=1)
        db.session.commit()

    def order(sort):
        return row_emails(client.get(f"/admin/users?sort={sort}").get_data(as_text=True))

    assert order("email") == sorted(order("email"))
    assert order("-created")[0] == "zed@example.com"
    assert order("-last_login")[:2] == ["member001@example.com", "root@example.com"]
    assert order("-tasks")[0] == "member001@example.com"
    body = client.get("/admin/users?sort=-tasks&q=member").get_data(as_text=True)
    assert 'aria-sort="descending"' in body
    # Sort links keep the search and go back to page 1.
    assert 'href="/admin/users?q=member&amp;sort=-created"' in body


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("sort=password", "Not a valid choice"),
        ("status=gone", "Not a valid choice"),
        ("page=0", "Number must be between 1 and 1000000"),
        ("page=two", "Not a valid integer value"),
        ("q=" + "x" * 101, "Field cannot be longer than 100 characters"),
        ("q=a%00b", "control characters"),
    ],
)
def test_bad_filters_answer_422_with_the_reason(app, query, message):
    client = admin_client(app)
    response = client.get(f"/admin/users?{query}")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body and row_emails(body) == []


def test_fifty_users_a_page(app):
    client = admin_client(app)
    add_users(app, 60, tasks_each=0)
    first = client.get("/admin/users").get_data(as_text=True)
    assert len(row_emails(first)) == 50
    assert "Page 1 of 2 · 61 users" in first
    assert 'href="/admin/users?page=2"' in first
    second = client.get("/admin/users?page=2").get_data(as_text=True)
    assert len(row_emails(second)) == 11
    assert row_emails(second)[-1] == "root@example.com"
    beyond = client.get("/admin/users?page=9")
    assert beyond.status_code == 200 and row_emails(beyond.get_data(as_text=True)) == []


def _statements_for(app, client, path: str) -> list[str]:
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return statements


@pytest.mark.parametrize("sort", ["email", "-tasks"])
def test_query_count_does_not_grow_with_users(app, make_app, sort):
    client = admin_client(app)
    add_users(app, 4, tasks_each=3)
    few = _statements_for(app, client, f"/admin/users?sort={sort}")
    add_users(app, 55, tasks_each=3, prefix="more")
    many = _statements_for(app, client, f"/admin/users?sort={sort}")
    assert len(few) == len(many), many
    assert len(many) <= 5  # session + user, count, page of users with their counters (+ BEGIN)
    # The counts shown are the users' counters: no statement reads the tasks table.
    assert not [s for s in many if re.search(r"\b(FROM|JOIN) tasks\b", s)], many
    body = client.get(f"/admin/users?sort={sort}").get_data(as_text=True)
    assert len(row_emails(body)) == 50 and "2 / 3" in body
