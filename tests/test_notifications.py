"""In-app notifications: assignments notify the assignee, the header's count (with the page,
and as htmx's polled fragment), the page, and marking one or all as read (POST + CSRF)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Membership, Notification, Role
from tests.helpers import HTMX, add_project, create_user, login, post

BOB = "bob@example.com"


def _team(app):
    """Ada's project with Bob as an editor; Bob's client, signed in."""
    bob_id = create_user(app, BOB, name="Bob")
    project_id = add_project(app, name="Team")
    with app.app_context():
        db.session.add(Membership(project_id=project_id, user_id=bob_id, role=int(Role.EDITOR)))
        db.session.commit()
    bob = app.test_client()
    login(bob, email=BOB)
    return project_id, bob_id, bob


def test_assigning_notifies_the_assignee_and_the_header_counts_it(app, auth_client):
    project_id, bob_id, bob = _team(app)
    response = post(auth_client, "/tasks", {"title": "Review @bob", "project_id": project_id})
    assert response.status_code == 303
    post(auth_client, "/tasks", {"title": "Mine @ada", "project_id": project_id})  # no self-notice
    with app.app_context():
        rows = db.session.execute(select(Notification.user_id, Notification.kind)).all()
    assert [tuple(r) for r in rows] == [(bob_id, "assignment")]
    page = bob.get("/tasks").get_data(as_text=True)  # JS off: rendered with the page
    assert 'aria-label="1 unread"' in page and 'hx-trigger="every 45s, notifications-read' in page
    fragment = bob.get("/notifications/count", headers=HTMX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and ">1</span>" in body
    assert "“Review”" in bob.get("/notifications").get_data(as_text=True)
    ada_page = auth_client.get("/notifications").get_data(as_text=True)
    assert "No notifications yet" in ada_page and "unread" not in ada_page.split("<main")[0]


def test_mark_one_and_all_as_read(app, auth_client):
    project_id, _, bob = _team(app)
    for title in ("One @bob", "Two @bob", "Three @bob"):
        post(auth_client, "/tasks", {"title": title, "project_id": project_id})
    with app.app_context():
        first = db.session.scalar(select(Notification.id).order_by(Notification.id))
    # Without the token: refused, nothing read.
    refused = bob.post(f"/notifications/{first}/read")
    assert refused.status_code == 400
    response = post(bob, f"/notifications/{first}/read", htmx=True)
    assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
    # The header's badge refetches itself on this event (its count was read before the marking).
    assert response.headers["HX-Trigger"] == "notifications-read"
    assert ">2</span>" in bob.get("/notifications/count", headers=HTMX).get_data(as_text=True)
    assert 'aria-label="2 unread"' in bob.get("/tasks").get_data(as_text=True)
    # Someone else's notification is not there for Ada.
    assert post(auth_client, f"/notifications/{first + 1}/read").status_code == 404
    response = post(bob, "/notifications/read")
    assert response.status_code == 303
    assert "unread" not in bob.get("/tasks").get_data(as_text=True).split("<main")[0]
    with app.app_context():
        unread = db.session.scalar(select(Notification.id).where(Notification.read_at.is_(None)))
    assert unread is None


def test_the_count_url_without_htmx_goes_to_the_page(auth_client):
    response = auth_client.get("/notifications/count")
    assert response.status_code == 302 and response.headers["Location"].endswith("/notifications")


def test_the_header_says_99_plus(app, auth_client, user):
    with app.app_context():
        db.session.add_all(
            [Notification(user_id=user, kind="assignment", text=f"n{i}") for i in range(120)]
        )
        db.session.commit()
    page = auth_client.get("/tasks").get_data(as_text=True)
    assert ">99+</span>" in page and 'aria-label="more than 99 unread"' in page


def test_an_invitation_notifies_a_verified_account_and_nobody_else(app, auth_client):
    create_user(app, "cy@example.com", name="Cy")
    create_user(app, "dee@example.com", name="Dee", verified=False)
    project_id = add_project(app, name="Garden")
    for email in ("cy@example.com", "dee@example.com", "nobody@example.com"):
        response = post(
            auth_client, f"/projects/{project_id}/invitations", {"email": email, "role": "2"}
        )
        assert response.status_code == 303, email
    with app.app_context():
        rows = db.session.execute(
            select(Notification.kind, Notification.project_id, Notification.text)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("invitation", project_id, "Ada invited you to “Garden” as editor.")
    ]
    cy = app.test_client()
    login(cy, email="cy@example.com")
    page = cy.get("/notifications").get_data(as_text=True)
    assert 'href="/invitations"' in page and "Ada invited you to “Garden” as editor." in page
