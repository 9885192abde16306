"""Deleting a user who shares projects, by themself or by an admin: each shared project they
own passes to its longest-standing admin, else its longest-standing member; one nobody else
is in goes with its tasks; their Inbox goes; what they added elsewhere stays, unattributed;
their assignments clear. Audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditEntry, Membership, Project, Role, Task, User, utcnow
from tests.helpers import (
    PASSWORD,
    account_post,
    add_member,
    add_project,
    add_task,
    admin_client,
    admin_post,
    count,
    create_user,
    login,
    user_id,
)

PEOPLE = ("ada", "bob", "cy", "dee")


def joined(app, project_id: int, name: str, days_ago: int) -> None:
    """Say when `name` joined, so "longest-standing" does not hang on insertion order."""
    with app.app_context():
        db.session.execute(
            update(Membership)
            .where(
                Membership.project_id == project_id,
                Membership.user_id == user_id(app, f"{name}@example.com"),
            )
            .values(created_at=utcnow() - timedelta(days=days_ago))
        )
        db.session.commit()


def member(app, project_id, name, role, days_ago):
    add_member(app, project_id, f"{name}@example.com", role)
    joined(app, project_id, name, days_ago)


def owner_of(app, project_id: int) -> str | None:
    with app.app_context():
        return db.session.scalar(
            select(User.display_name)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.project_id == project_id, Membership.role == Role.OWNER)
        )


def delete_ada_herself(app):
    client = app.test_client()
    login(client, email="ada@example.com")
    response = account_post(
        client, "/account/delete", {"confirm_email": "ada@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302


def delete_ada_by_an_admin(app):
    client = admin_client(app)
    ada = user_id(app, "ada@example.com")
    response = admin_post(
        client, f"/admin/users/{ada}/delete", {"confirm_email": "ada@example.com"}
    )
    assert response.status_code == 303


@pytest.mark.parametrize("delete", [delete_ada_herself, delete_ada_by_an_admin])
def test_a_deleted_owners_projects_pass_on_or_go(app, delete):
    for name in PEOPLE:
        create_user(app, email=f"{name}@example.com", name=name.capitalize())
    # Admins first, the longest-standing of them: Cy (an earlier editor, Dee, does not count).
    admins = add_project(app, "ada@example.com", "Admins first")
    member(app, admins, "dee", Role.EDITOR, days_ago=30)
    member(app, admins, "bob", Role.ADMIN, days_ago=5)
    member(app, admins, "cy", Role.ADMIN, days_ago=10)
    # No admin: the longest-standing member, whatever their role: Dee the viewer.
    members_only = add_project(app, "ada@example.com", "Members only")
    member(app, members_only, "cy", Role.EDITOR, days_ago=3)
    member(app, members_only, "dee", Role.VIEWER, days_ago=7)
    # Nobody else: it goes, with its tasks.
    alone = add_project(app, "ada@example.com", "Alone")
    gone_task = add_task(app, "ada@example.com", project_id=alone, title="Only mine")
    # Bob's project, where Ada added a task and was assigned one.
    bobs = add_project(app, "bob@example.com", "Bob's")
    add_member(app, bobs, "ada@example.com", Role.EDITOR)
    ada = user_id(app, "ada@example.com")
    added = add_task(app, "ada@example.com", project_id=bobs, title="Ada added this")
    assigned = add_task(app, "bob@example.com", project_id=bobs, assignee_id=ada)
    kept = add_task(app, "ada@example.com", project_id=admins, title="Stays with the project")
    add_task(app, "ada@example.com", title="In Ada's Inbox")

    delete(app)

    assert owner_of(app, admins) == "Cy"
    assert owner_of(app, members_only) == "Dee"
    assert owner_of(app, bobs) == "Bob"
    for project_id in (admins, members_only, bobs):
        assert (
            count(app, Membership, Membership.project_id == project_id, Membership.role == 4) == 1
        )
    with app.app_context():
        assert db.session.get(Project, alone) is None
        assert db.session.get(Task, gone_task) is None
        assert db.session.get(Task, added).created_by_id is None
        assert db.session.get(Task, assigned).assignee_id is None
        assert db.session.get(Task, kept).project_id == admins
        assert db.session.scalar(select(Project.id).where(Project.inbox_of_id == ada)) is None
        assert db.session.scalar(select(Membership).where(Membership.user_id == ada)) is None
        entries = db.session.execute(
            select(AuditEntry.action, AuditEntry.target_email, AuditEntry.detail).where(
                AuditEntry.action.in_(["project_handed_over", "project_deleted_with_owner"])
            )
        ).all()
    assert sorted((action, target) for action, target, _ in entries) == [
        ("project_deleted_with_owner", "ada@example.com"),
        ("project_handed_over", "cy@example.com"),
        ("project_handed_over", "dee@example.com"),
    ]
    assert all("owned by ada@example.com" in detail for *_, detail in entries)
    assert count(app, Task, Task.title == "In Ada's Inbox") == 0  # her Inbox went whole


def test_the_new_owner_manages_the_project(app):
    for name in ("ada", "bob"):
        create_user(app, email=f"{name}@example.com", name=name.capitalize())
    project_id = add_project(app, "ada@example.com", "Team")
    add_member(app, project_id, "bob@example.com", Role.VIEWER)
    delete_ada_herself(app)
    bob = app.test_client()
    login(bob, email="bob@example.com")
    page = bob.get(f"/projects/{project_id}/members").get_data(as_text=True)
    assert "Your role here: <strong>Owner</strong>" in page
    assert "Invite someone" in page


def test_a_project_passing_to_someone_with_its_name_is_renamed(app):
    """A deletion cannot be refused for a name: Bob, who owns a "Plans" and a "Plans (Ada)"
    already, gets Ada's "Plans" as "Plans (Ada) 2", and the audit says so."""
    for name in ("ada", "bob"):
        create_user(app, email=f"{name}@example.com", name=name.capitalize())
    plans = add_project(app, "ada@example.com", "Plans")
    add_member(app, plans, "bob@example.com", Role.ADMIN)
    add_project(app, "bob@example.com", "plans")
    add_project(app, "bob@example.com", "Plans (Ada)")
    delete_ada_herself(app)
    assert owner_of(app, plans) == "Bob"
    with app.app_context():
        project = db.session.get(Project, plans)
        assert (project.name, project.name_key) == ("Plans (Ada) 2", "plans (ada) 2")
        detail = db.session.scalar(
            select(AuditEntry.detail).where(AuditEntry.action == "project_handed_over")
        )
    assert "renamed “Plans (Ada) 2”" in detail


def test_a_renamed_project_keeps_within_the_name_length(app):
    for name in ("ada", "bob"):
        create_user(app, email=f"{name}@example.com", name=name.capitalize())
    long_name = "x" * 80
    project_id = add_project(app, "ada@example.com", long_name)
    add_member(app, project_id, "bob@example.com", Role.EDITOR)
    add_project(app, "bob@example.com", long_name)
    delete_ada_herself(app)
    with app.app_context():
        name = db.session.get(Project, project_id).name
    assert name == "x" * 78 + " 2"
