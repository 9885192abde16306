"""Every way a user can lose admin rights or disappear keeps the last active admin.

The paths are enumerated from the application itself: the admin blueprint's POST routes on a
user, the account blueprint's POST routes and the `flask users` commands. Each one must be
listed below as removing its target or not, so a new path cannot slip past the guard
unnoticed; each removing path is then run against the last active admin, and (on the web)
against an admin acting on themself while another admin remains.
"""

from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import select, update

from app.cli import users as users_group
from app.extensions import db
from app.models import User
from tests.helpers import PASSWORD, admin_post, create_user, login, post_form, user_id

pytestmark = pytest.mark.security

ROOT = "root@example.com"
LAST_ADMIN = "is the last active admin"

# Admin console: endpoint -> the form it posts, or None where the action cannot take anyone's
# admin rights away (promote, activate, a temporary password).
CONSOLE = {
    "admin.deactivate": {},
    "admin.demote": {},
    "admin.delete": {"confirm_email": ROOT},
    "admin.activate": None,
    "admin.promote": None,
    "admin.set_password": None,
}
# The account page: only deleting the account removes its owner.
ACCOUNT = {
    "account.delete": {"confirm_email": ROOT, "password": PASSWORD},
    "account.profile": None,
    "account.timezone": None,
    "account.mail": None,
    "account.password": None,
    "account.end_session": None,
}
# `flask users ...`: command -> its extra arguments, or None where it removes nobody.
CLI = {
    "demote": [],
    "deactivate": [],
    "delete": ["--yes"],
    "create": None,
    "promote": None,
    "activate": None,
    "set-password": None,
    "list": None,
}


def _post_routes(app, blueprint: str) -> set[str]:
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(f"{blueprint}.") and "POST" in rule.methods
    }


def test_every_path_is_listed(app):
    """A new console route, account route or command must be sorted into the tables above."""
    on_a_user = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("admin.") and "POST" in rule.methods
        if "user_id" in rule.arguments
    }
    assert on_a_user == _post_routes(app, "admin") == set(CONSOLE)
    assert _post_routes(app, "account") == set(ACCOUNT)
    assert set(users_group.commands) == set(CLI)


def _removing(table: dict) -> list:
    return [pytest.param(name, args, id=name) for name, args in table.items() if args is not None]


def _root_is_intact(app) -> None:
    with app.app_context():
        root = db.session.scalar(select(User).where(User.email == ROOT))
        assert root is not None and root.is_admin and root.is_active


def _url(app, endpoint: str, **values) -> str:
    with app.test_request_context():
        return url_for(endpoint, **values)


def _signed_in_root(app, *, second_admin: bool):
    create_user(app, email=ROOT, name="Root", admin=True)
    if second_admin:
        create_user(app, email="grace@example.com", admin=True)
    client = app.test_client()
    assert login(client, email=ROOT).status_code == 302
    return client


@pytest.mark.parametrize("second_admin", [False, True], ids=["last-admin", "two-admins"])
@pytest.mark.parametrize(("endpoint", "data"), _removing(CONSOLE))
def test_console_refuses_an_admin_removing_themself(app, endpoint, data, second_admin):
    client = _signed_in_root(app, second_admin=second_admin)
    response = admin_post(client, _url(app, endpoint, user_id=user_id(app, ROOT)), data)
    assert response.status_code == 409
    assert "You cannot" in response.get_data(as_text=True)
    _root_is_intact(app)
    assert client.get("/admin/users").status_code == 200


@pytest.mark.parametrize(("endpoint", "data"), _removing(ACCOUNT))
def test_account_refuses_the_last_active_admin(app, endpoint, data):
    client = _signed_in_root(app, second_admin=False)
    # A deactivated admin is no one in charge: root is still the last active one.
    create_user(app, email="retired@example.com", admin=True)
    with app.app_context():
        db.session.execute(
            update(User).where(User.email == "retired@example.com").values(is_active=False)
        )
        db.session.commit()
    response = post_form(client, _url(app, endpoint), data, token_from="/account")
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "You are the last active admin" in body and "Make another user an admin first." in body
    assert 'id="delete-heading"' in body  # the account page, re-rendered with the message
    _root_is_intact(app)
    assert client.get("/tasks").status_code == 200  # still signed in


@pytest.mark.parametrize(("endpoint", "data"), _removing(ACCOUNT))
def test_account_lets_an_admin_leave_when_another_remains(app, endpoint, data):
    client = _signed_in_root(app, second_admin=True)
    response = post_form(client, _url(app, endpoint), data, token_from="/account")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    with app.app_context():
        assert db.session.scalars(select(User.email).where(User.is_admin)).all() == [
            "grace@example.com"
        ]


@pytest.mark.parametrize(("command", "args"), _removing(CLI))
def test_command_line_refuses_the_last_active_admin(app, command, args):
    create_user(app, email=ROOT, admin=True)
    result = app.test_cli_runner().invoke(args=["users", command, ROOT, *args])
    assert result.exit_code != 0
    assert f"{ROOT} {LAST_ADMIN}" in result.output
    _root_is_intact(app)
