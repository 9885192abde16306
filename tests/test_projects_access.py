"""Who may do what to a project: every projects route with a project id, for each role and
for non-members (an instance admin among them), from app.url_map, so a new route cannot slip
through without an entry; and the controls each role sees."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Project, Role, Task
from tests.helpers import (
    add_member,
    add_project,
    add_task,
    create_user,
    csrf_token,
    login,
)

EVE, ADA = "eve@example.com", "ada@example.com"
ROLES = ["owner", "admin", "editor", "viewer", "non-member", "instance admin"]
MEMBER_ROLE = {"admin": Role.ADMIN, "editor": Role.EDITOR, "viewer": Role.VIEWER}

# What each route answers each role: the status, for every method the route takes. Members
# whose role is too low get 403; everyone else who is not a member gets 404.
ALLOWED = {
    "projects.show": Role.VIEWER,
    "projects.activity_log": Role.VIEWER,
    "projects.settings": Role.ADMIN,
    "projects.update": Role.ADMIN,
    "projects.archive": Role.ADMIN,
    "projects.unarchive": Role.ADMIN,
    "projects.confirm_delete": Role.OWNER,
    "projects.delete": Role.OWNER,
}
# A new name per request: each rename must be one its owner has not used yet.
DATA = {"projects.update": lambda method: {"name": f"Renamed {method}", "colour": "#123456"}}


def _project_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("projects.") and "project_id" in rule.arguments:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def _role_of(who: str) -> Role | None:
    return Role.OWNER if who == "owner" else MEMBER_ROLE.get(who)


def _expected(endpoint: str, method: str, role: Role | None) -> int:
    if role is None:
        return 404
    if role < ALLOWED[endpoint]:
        return 403
    return 200 if method == "GET" else 303


def _snapshot(app, project_id):
    with app.app_context():
        project = db.session.get(Project, project_id)
        if project is None:
            return None
        tasks = db.session.scalars(select(Task.id).where(Task.project_id == project_id)).all()
        return (project.name, project.colour, project.archived_at, tuple(tasks))


@pytest.mark.security
@pytest.mark.parametrize("who", ROLES)
def test_every_project_route_answers_each_role_as_the_access_rules_say(app, client, who):
    routes = list(_project_routes(app))
    assert {rule.endpoint for rule, _ in routes} == set(ALLOWED), "a new route: add it above"
    create_user(app, email=ADA, name="Ada", admin=who == "instance admin")
    create_user(app, email=EVE, name="Eve")
    assert login(client, email=ADA).status_code == 302
    token = csrf_token(client, "/tasks")
    role = _role_of(who)
    for rule, method in routes:
        owner = ADA if who == "owner" else EVE
        project_id = add_project(app, owner, name=f"P {rule.endpoint} {method}")
        add_task(app, owner, project_id=project_id, title="Inside")
        if who in MEMBER_ROLE:
            add_member(app, project_id, ADA, MEMBER_ROLE[who])
        before = _snapshot(app, project_id)
        path = rule.build({"project_id": project_id})[1]
        data = {**DATA.get(rule.endpoint, lambda _: {})(method), "csrf_token": token}
        response = client.open(path, method=method, data=data if method != "GET" else None)
        expected = _expected(rule.endpoint, method, role)
        assert response.status_code == expected, (who, method, path, response.status_code)
        if expected in (403, 404):
            assert _snapshot(app, project_id) == before, (who, method, path)
        if expected == 403:
            assert "Only the project's" in html.unescape(response.get_data(as_text=True))


def _page(client, path) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("who", ["owner", "admin", "editor", "viewer"])
def test_each_role_sees_only_the_controls_it_can_use(app, client, who):
    create_user(app, email=ADA, name="Ada")
    create_user(app, email=EVE, name="Eve")
    owner = ADA if who == "owner" else EVE
    project_id = add_project(app, owner, name="Shared")
    add_task(app, owner, project_id=project_id, title="Inside")
    if who != "owner":
        add_member(app, project_id, ADA, MEMBER_ROLE[who])
    assert login(client, email=ADA).status_code == 302
    page = _page(client, f"/projects/{project_id}")
    can_edit, can_admin = _role_of(who) >= Role.EDITOR, _role_of(who) >= Role.ADMIN
    assert ('id="quick-add"' in page) == can_edit
    assert ('id="bulk-form"' in page) == can_edit
    assert ("data-opens-editor" in page) == can_edit
    assert ('class="done-box"' in page) == can_edit
    assert (f"/projects/{project_id}/settings" in page) == can_admin
    listing = _page(client, "/projects")
    assert (f"/projects/{project_id}/settings" in listing) == can_admin
    if can_admin:
        settings = _page(client, f"/projects/{project_id}/settings")
        assert (f"/projects/{project_id}/delete" in settings) == (who == "owner")


def test_a_viewer_cannot_add_to_a_project_by_forging_quick_add(app, client):
    create_user(app, email=ADA, name="Ada")
    create_user(app, email=EVE, name="Eve")
    project_id = add_project(app, EVE, name="Shared")
    hidden = add_project(app, EVE, name="Hidden")
    add_member(app, project_id, ADA, Role.VIEWER)
    assert login(client, email=ADA).status_code == 302
    token = csrf_token(client, "/tasks")
    for target, status in ((project_id, 403), (hidden, 404)):
        data = {"title": "Sneaky", "project_id": str(target), "csrf_token": token}
        assert client.post("/tasks", data=data).status_code == status
    with app.app_context():
        assert db.session.scalar(select(Task.id).where(Task.title == "Sneaky")) is None
