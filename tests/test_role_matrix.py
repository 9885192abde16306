"""The role matrix: every route of app.url_map, with every method, asked by a project's owner,
an admin, an editor, a viewer, someone outside the project, an admin of the instance (outside
the project too: no backdoor) and someone not signed in, against the outcome the table below
expects. A route with no line in the table fails the suite, so a new route cannot slip
through without someone saying who may use it.

Each request is made in a world of its own (a fresh database), so what one person's allowed
request changes (a task deleted, a member removed, the project handed over) cannot decide
what the next person sees. Refused requests must also leave the project untouched; a member
refused for their role reads what their role allows; an allowed request to a project's route
does its work (the status of a page, or of the redirect after a change).
"""

from __future__ import annotations

from typing import NamedTuple

import pytest
from sqlalchemy import select

from app import create_app
from app.access import REFUSALS
from app.config import TestConfig
from app.extensions import db
from app.models import (
    Invitation,
    LoginSession,
    Membership,
    Notification,
    Project,
    Role,
    Tag,
    Task,
    User,
    utcnow,
)
from app.projects.services import add_inboxes
from tests.helpers import add_member, add_project, create_user, csrf_token, login

pytestmark = pytest.mark.security

PEOPLE = ("owner", "admin", "editor", "viewer", "non-member", "instance-admin", "anonymous")
ROLE_OF = {"owner": Role.OWNER, "admin": Role.ADMIN, "editor": Role.EDITOR, "viewer": Role.VIEWER}


class Rule(NamedTuple):
    """Who may use a route: `need`, a role in the project the URL (or the body) names, or
    `kind`, for routes that are not about one project."""

    kind: str
    need: Role | None = None

    def expected(self, person: str) -> str:
        """ "ok" (allowed: the route does its work, or says what to fix), "403", "404", or
        "login" (sent to sign in)."""
        if person == "anonymous":
            return "ok" if self.kind == "public" else "login"
        if self.kind == "project":
            role = ROLE_OF.get(person)
            if role is None:
                return "404"
            return "ok" if role >= self.need else "403"
        return {
            "public": "ok",
            "signed-in": "ok",  # not project-scoped: the same for every signed-in person
            "instance-admin": "ok" if person == "instance-admin" else "403",
            "addressee": "ok" if person == "non-member" else "404",  # the invitee alone
            "personal": "ok" if person == "owner" else "404",  # the owner's own tag/session
        }[self.kind]


def need(role: Role) -> Rule:
    return Rule("project", role)


PUBLIC = Rule("public")
SIGNED_IN = Rule("signed-in")
INSTANCE_ADMIN = Rule("instance-admin")
ADDRESSEE = Rule("addressee")
PERSONAL = Rule("personal")

# One line per endpoint (all its URL rules and methods). Project-scoped routes name the role
# they need; the others say how they behave for everyone.
EXPECTED: dict[str, Rule] = {
    # not project-scoped
    "static": PUBLIC,
    "main.index": PUBLIC,
    "health.healthz": PUBLIC,
    "health.readyz": PUBLIC,
    "main.favicon": PUBLIC,
    "auth.login": PUBLIC,
    "auth.register": PUBLIC,
    "auth.forgot_password": PUBLIC,
    "auth.reset_password": PUBLIC,  # the token in the link decides, not who asks
    "auth.logout": SIGNED_IN,
    "account.page": SIGNED_IN,
    "account.profile": SIGNED_IN,
    "account.timezone": SIGNED_IN,
    "account.mail": SIGNED_IN,
    "account.password": SIGNED_IN,
    "account.delete": SIGNED_IN,
    "account.end_session": PERSONAL,
    "addresses.change_email": SIGNED_IN,
    "addresses.resend_verification": SIGNED_IN,
    # The token in the link decides (without one: back to the account page).
    "addresses.verify": PUBLIC,
    "addresses.confirm_change": PUBLIC,
    # The signed token in the link decides (without one: 400 for everybody).
    "unsubscribe.confirm": PUBLIC,
    "unsubscribe.apply": PUBLIC,
    "notifications.index": SIGNED_IN,
    "notifications.count": SIGNED_IN,
    "notifications.read_all": SIGNED_IN,
    "notifications.read": PERSONAL,  # the owner's own notification
    "tags.index": SIGNED_IN,
    "tags.create": SIGNED_IN,
    "tags.edit": PERSONAL,
    "tags.row": PERSONAL,
    "tags.update": PERSONAL,
    "tags.delete": PERSONAL,
    "tasks.index": SIGNED_IN,  # the signed-in person's Inbox
    # The views across projects: each lists only the projects the person is a member of.
    "tasks.today": SIGNED_IN,
    "tasks.upcoming": SIGNED_IN,
    "tasks.assigned": SIGNED_IN,
    "tasks.all": SIGNED_IN,
    "tasks.create": SIGNED_IN,
    "tasks.help_page": SIGNED_IN,
    "admin.dashboard": INSTANCE_ADMIN,
    "admin.users": INSTANCE_ADMIN,
    "admin.audit_log": INSTANCE_ADMIN,
    "admin.user_detail": INSTANCE_ADMIN,
    "admin.activate": INSTANCE_ADMIN,
    "admin.deactivate": INSTANCE_ADMIN,
    "admin.promote": INSTANCE_ADMIN,
    "admin.demote": INSTANCE_ADMIN,
    "admin.set_password": INSTANCE_ADMIN,
    "admin.delete": INSTANCE_ADMIN,
    "sharing.invitations": SIGNED_IN,
    "projects.index": SIGNED_IN,
    "projects.nav_list": SIGNED_IN,
    "projects.create": SIGNED_IN,
    "sharing.accept": ADDRESSEE,
    "sharing.decline": ADDRESSEE,
    # tasks in the project
    "tasks.detail": need(Role.VIEWER),
    "tasks.row": need(Role.VIEWER),
    "tasks.edit": need(Role.EDITOR),
    "tasks.update": need(Role.EDITOR),
    "tasks.toggle": need(Role.EDITOR),
    "tasks.delete": need(Role.EDITOR),
    "tasks.bulk": need(Role.EDITOR),  # ids in the body
    "tasks.restore": need(Role.EDITOR),  # ids in the body
    # the project itself
    "projects.show": need(Role.VIEWER),
    "projects.activity_log": need(Role.VIEWER),
    "projects.settings": need(Role.ADMIN),
    "projects.update": need(Role.ADMIN),
    "projects.archive": need(Role.ADMIN),
    "projects.unarchive": need(Role.ADMIN),
    "projects.confirm_delete": need(Role.OWNER),
    "projects.delete": need(Role.OWNER),
    # the project's members
    "sharing.members": need(Role.VIEWER),
    "sharing.leave": need(Role.VIEWER),
    "sharing.invite": need(Role.ADMIN),
    "sharing.cancel_invitation": need(Role.ADMIN),
    "sharing.change_role": need(Role.ADMIN),
    "sharing.remove_member": need(Role.ADMIN),
    "sharing.transfer": need(Role.OWNER),
}

# What a request sends, where an empty form would be refused before access is decided
# (bulk and restore name their tasks in the body) or would not show the route working.
BODIES = {
    "tasks.bulk": lambda w: {"ids": str(w["task_id"]), "action": "done"},
    "tasks.restore": lambda w: {"ids": str(w["deleted_task_id"])},
    "tasks.toggle": lambda w: {"done": "1"},
    "sharing.change_role": lambda w: {"role": "2"},
    "sharing.invite": lambda w: {"email": "someone@example.com", "role": "1"},
    "sharing.transfer": lambda w: {"new_owner": str(w["admin_id"])},
    "tasks.update": lambda w: {"title": "Renamed", "priority": "0", "version": "1"},
    "projects.update": lambda w: {"name": "Renamed", "colour": "#123456"},
}

# What an allowed request to a project's route answers: a page (200), or for a change the
# redirect back (303, a plain form post); these answer otherwise.
ANSWERS = {
    ("tasks.row", "GET"): 302,  # a lone row is an htmx fragment: without htmx, the list
}
# ... and what a person with the role the route needs may still be refused, and why.
REFUSED_BY_THE_ROUTE = {
    ("sharing.leave", "owner"): 409,  # the owner hands the project over before leaving
}

EMAILS = {
    "owner": "ada@example.com",
    "admin": "bob@example.com",
    "editor": "cy@example.com",
    "viewer": "dee@example.com",
    "non-member": "eve@example.com",
    "instance-admin": "ian@example.com",
}


def _routes():
    app = create_app(TestConfig)
    return sorted(
        (rule.endpoint, rule.rule, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


ROUTES = _routes()


def test_every_route_has_an_expected_outcome():
    endpoints = {endpoint for endpoint, _, _ in ROUTES}
    missing = sorted(endpoints - EXPECTED.keys())
    assert not missing, f"routes with no line in EXPECTED (say who may use them): {missing}"
    assert not sorted(EXPECTED.keys() - endpoints), "lines in EXPECTED for routes that are gone"


def _world(app, n: int) -> dict:
    """Ada's project "Team" (Bob admin, Cy editor, Dee viewer, Tom a viewer to act on), a
    task and a deleted task in it, an invitation from it to Eve (outside; Ian, an admin of the
    instance, is outside too), and Ada's own tag
    and a login session of hers: the ids the URLs take, and who is who. World `n` has people
    of its own (their emails numbered), so worlds side by side in one database do not meet.
    Made directly, in one transaction; every password is the first owner's."""
    emails = {person: _email(person, n) for person in (*EMAILS, "target")}
    if n == 0:
        create_user(app, email=emails["owner"], name="Owner")
    with app.app_context():
        password_hash = db.session.scalar(select(User.password_hash).order_by(User.id).limit(1))
        # Verified addresses: invitations are for whoever has verified theirs.
        people = {
            person: User(
                email=email,
                display_name=person.capitalize(),
                password_hash=password_hash,
                is_admin=person == "instance-admin",
                email_verified_at=utcnow(),
            )
            for person, email in emails.items()
            if n or person != "owner"
        }
        db.session.add_all(people.values())
        db.session.flush()
        add_inboxes([user.id for user in people.values()])
        ada = people.get("owner") or db.session.scalar(
            select(User).where(User.email == emails["owner"])
        )
        project = Project(name="Team")
        db.session.add(project)
        db.session.flush()
        roles = {**ROLE_OF, "target": Role.VIEWER}
        db.session.add_all(
            [Membership(project_id=project.id, user_id=ada.id, role=int(Role.OWNER))]
            + [
                Membership(project_id=project.id, user_id=user.id, role=int(roles[person]))
                for person, user in people.items()
                if person in roles and person != "owner"
            ]
        )
        tag = Tag(owner_id=ada.id, name="x")
        task = Task(project_id=project.id, created_by_id=ada.id, title="Shared", tags=[tag])
        deleted = Task(
            project_id=project.id, created_by_id=ada.id, title="Gone", deleted_at=utcnow()
        )
        invitation = Invitation(project_id=project.id, email=emails["non-member"], role=1)
        own_session = LoginSession(
            user_id=ada.id, token_hash=f"{n:064d}", expires_at=utcnow().replace(year=2999)
        )
        db.session.add_all([task, deleted, invitation, own_session])
        db.session.flush()
        notification = Notification(user_id=ada.id, kind="assignment", task_id=task.id, text="x")
        db.session.add(notification)
        db.session.commit()
        return {
            "project_id": project.id,
            "task_id": task.id,
            "deleted_task_id": deleted.id,
            "invitation_id": invitation.id,
            "session_id": own_session.id,
            "notification_id": notification.id,
            "tag_id": tag.id,
            "user_id": people["target"].id,
            "admin_id": people["admin"].id,
            "filename": "css/app.css",
            "kind": "digest",
            "emails": emails,
        }


def _email(person: str, n: int) -> str:
    name, domain = (EMAILS.get(person) or "tom@example.com").split("@")
    return f"{name}{n or ''}@{domain}"


def _project_rows(app, project_id: int):
    """What a refused request must leave as it was."""
    with app.app_context():
        return [
            sorted(map(tuple, db.session.execute(stmt)))
            for stmt in (
                select(Project.__table__).where(Project.id == project_id),
                select(Membership.__table__).where(Membership.project_id == project_id),
                select(Invitation.__table__).where(Invitation.project_id == project_id),
                select(Task.__table__).where(Task.project_id == project_id),
            )
        ]


def _outcome(response) -> str:
    location = response.headers.get("Location", "")
    if response.status_code in (301, 302, 303) and location.startswith("/login?next="):
        return "login"
    if response.status_code in (403, 404) or response.status_code >= 500:
        return str(response.status_code)
    return "ok"


@pytest.fixture
def app(make_app):
    # Up to a dozen sign-ins a test, all from one address.
    return make_app(AUTH_RATE_LIMIT="10000/minute")


def _ask(app, world: dict, endpoint: str, rule: str, method: str, person: str):
    """`person` of `world` sends the request: (what came of it, the response)."""
    client = app.test_client()
    if person != "anonymous":
        assert login(client, email=world["emails"][person]).status_code == 302
    token = csrf_token(client, "/tasks" if person != "anonymous" else "/login")
    [url_rule] = [r for r in app.url_map.iter_rules() if (r.rule, r.endpoint) == (rule, endpoint)]
    url = url_rule.build({arg: world[arg] for arg in url_rule.arguments})[1]
    body = BODIES.get(endpoint, lambda _: {})(world)
    response = client.open(url, method=method, data=body, headers={"X-CSRFToken": token})
    return _outcome(response), response


@pytest.mark.parametrize(
    ("endpoint", "rule", "method"), ROUTES, ids=[f"{m} {r}" for _, r, m in ROUTES]
)
def test_role_matrix(app, endpoint, rule, method):
    """Each person against the table. Refused requests (and every GET) share one world and
    must leave its project as it was; each allowed request that may change something gets a
    world of its own, so that one person's deletion or hand-over cannot decide what the next
    one sees."""
    expectation = EXPECTED[endpoint]
    shared = _world(app, 0)
    before = _project_rows(app, shared["project_id"])
    wrong = []
    for n, person in enumerate(PEOPLE, start=1):
        expected = expectation.expected(person)
        alone = method != "GET" and expected == "ok"
        world = _world(app, n) if alone else shared
        outcome, response = _ask(app, world, endpoint, rule, method, person)
        if outcome != expected:
            wrong.append((person, expected, outcome, response.status_code))
        elif expected == "403" and expectation.need is not None:  # says what the role allows
            refusal = REFUSALS[expectation.need].replace("'", "&#39;")
            assert refusal in response.get_data(as_text=True), person
        elif expected == "ok" and expectation.kind == "project":  # and the route did its work
            answer = REFUSED_BY_THE_ROUTE.get((endpoint, person)) or ANSWERS.get(
                (endpoint, method), 200 if method == "GET" else 303
            )
            if response.status_code != answer:
                wrong.append((person, answer, outcome, response.status_code))
    assert not wrong, f"{method} {rule}: (person, expected, got, status) {wrong}"
    assert _project_rows(app, shared["project_id"]) == before, "a refused request changed it"


def test_quick_add_into_a_project_named_in_its_body_is_refused_as_its_routes_are(app):
    """Quick add (tasks.create, for everyone signed in) adds to the project its hidden field
    names: a viewer of it gets 403, someone outside it 404, and no task is made."""
    create_user(app, email="ada@example.com", name="Ada")
    create_user(app, email="eve@example.com", name="Eve")
    shared = add_project(app, "eve@example.com", name="Shared")
    hidden = add_project(app, "eve@example.com", name="Hidden")
    add_member(app, shared, "ada@example.com", Role.VIEWER)
    client = app.test_client()
    assert login(client, email="ada@example.com").status_code == 302
    token = csrf_token(client, "/tasks")
    for target, status in ((shared, 403), (hidden, 404)):
        data = {"title": "Sneaky", "project_id": str(target), "csrf_token": token}
        assert client.post("/tasks", data=data).status_code == status
    with app.app_context():
        assert db.session.scalar(select(Task.id).where(Task.title == "Sneaky")) is None
