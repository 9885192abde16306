"""Sharing actions sent many times at once (tabs, double clicks, two admins) under a real
gunicorn, on both databases: every request is answered without a 500, and the rows come out
as one request alone would leave them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Invitation, Membership, Role
from tests.helpers import PASSWORD, add_member, add_project, create_user, user_id
from tests.live import Client, all_at_once, gunicorn

pytestmark = pytest.mark.security
CLIENTS = 6


def _at_once(base, email, path, forms) -> list[int]:
    """POST `path` with each of `forms` from its own thread, all signed in as `email` (one
    browser's cookies, as tabs share them) and released together by a barrier."""
    first = Client(base)
    assert first.login(email, PASSWORD).status == 302
    token = first.csrf("/tasks")
    cookies = dict(first.cookies)

    def post(form):
        client = Client(base)
        client.cookies = dict(cookies)
        return lambda: client.request("POST", path, {**form, "csrf_token": token}).status

    return all_at_once([post(form) for form in forms])


def _rows(app, project_id):
    with app.app_context():
        members = dict(
            db.session.execute(
                select(Membership.user_id, Membership.role).where(
                    Membership.project_id == project_id
                )
            ).all()
        )
        invitations = db.session.execute(select(Invitation.email, Invitation.role)).all()
        return members, invitations


def test_accepting_one_invitation_from_many_tabs_at_once(app, database_url):
    create_user(app, email="ada@example.com", name="Ada")
    create_user(app, email="eve@example.com", name="Eve")
    project_id = add_project(app, "ada@example.com", "Team")
    with app.app_context():
        invitation = Invitation(project_id=project_id, email="eve@example.com", role=2)
        db.session.add(invitation)
        db.session.commit()
        path = f"/invitations/{invitation.id}/accept"
    with gunicorn(database_url) as base:
        statuses = _at_once(base, "eve@example.com", path, [{}] * CLIENTS)
    assert sorted(statuses) == [303] + [404] * (CLIENTS - 1), statuses
    members, invitations = _rows(app, project_id)
    assert members[user_id(app, "eve@example.com")] == Role.EDITOR
    assert invitations == []


def test_handing_over_to_two_admins_at_once_leaves_one_owner(app, database_url):
    for name in ("ada", "bob", "cy"):
        create_user(app, email=f"{name}@example.com", name=name.capitalize())
    project_id = add_project(app, "ada@example.com", "Team")
    add_member(app, project_id, "bob@example.com", Role.ADMIN)
    add_member(app, project_id, "cy@example.com", Role.ADMIN)
    admins = [user_id(app, "bob@example.com"), user_id(app, "cy@example.com")]
    forms = [{"new_owner": str(admins[n % 2])} for n in range(CLIENTS)]
    with gunicorn(database_url) as base:
        statuses = _at_once(base, "ada@example.com", f"/projects/{project_id}/transfer", forms)
    # One wins; the others find Ada an owner no longer (403 when the lookup already sees her
    # as an admin, 409 when the hand-over itself finds no owner to step down).
    assert statuses.count(303) == 1, statuses
    assert set(statuses) <= {303, 403, 409}, statuses
    members, _ = _rows(app, project_id)
    assert sorted(members.values()) == [Role.ADMIN, Role.ADMIN, Role.OWNER]
    assert members[user_id(app, "ada@example.com")] == Role.ADMIN


def test_inviting_one_address_from_many_tabs_at_once(app, database_url):
    create_user(app, email="ada@example.com", name="Ada")
    project_id = add_project(app, "ada@example.com", "Team")
    forms = [{"email": "new@example.com", "role": "1"}] * CLIENTS
    with gunicorn(database_url) as base:
        statuses = _at_once(base, "ada@example.com", f"/projects/{project_id}/invitations", forms)
    assert statuses == [303] * CLIENTS, statuses
    _, invitations = _rows(app, project_id)
    assert invitations == [("new@example.com", Role.VIEWER)]
