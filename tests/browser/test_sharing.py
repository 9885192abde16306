"""Two people in two browser contexts share a project, with JavaScript on and off: Ada
invites Bob as an editor, Bob finds the invitation after signing in and accepts it, Ada makes
him a viewer, and Bob then sees no controls he cannot use; a request he forges anyway is
refused with 403."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.browser.helpers import server_answer, sign_in
from tests.helpers import add_member, add_project, create_user

pytestmark = pytest.mark.browser


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def two_people(request, browser, live_server, app):
    create_user(app, email="ada@example.com", name="Ada")
    create_user(app, email="bob@example.com", name="Bob")
    pages = []
    for email in ("ada@example.com", "bob@example.com"):
        context = browser.new_context(base_url=live_server, java_script_enabled=request.param)
        page = context.new_page()
        sign_in(page, email)
        pages.append(page)
    yield pages
    for page in pages:
        page.context.close()


def test_sharing_a_project_between_two_people(app, two_people):
    ada, bob = two_people
    project_id = add_project(app, "ada@example.com", "Garden")
    members = f"/projects/{project_id}/members"

    ada.goto(members)
    ada.get_by_label("Email").fill("bob@example.com")
    ada.get_by_label("Role").select_option(label="Editor")
    with server_answer(ada, "POST", rf"/projects/{project_id}/invitations") as answer:
        ada.get_by_role("button", name="Invite").click()
    assert answer.value.status == 303
    expect(ada.get_by_text("bob@example.com is invited as editor.")).to_be_visible()
    expect(ada.locator("#invitations")).to_contain_text("bob@example.com")

    # Bob signs in again and is told; he accepts.
    bob.goto("/tasks")
    sign_in_again(bob)
    bob.get_by_role("link", name="see it").click()
    expect(bob.locator("#invitations")).to_contain_text("Garden")
    with server_answer(bob, "POST", r"/invitations/\d+/accept") as answer:
        bob.get_by_role("button", name="Accept").click()
    assert answer.value.status == 303
    expect(bob).to_have_url(re.compile(rf"{members}$"))
    expect(bob.get_by_text("You joined “Garden”.")).to_be_visible()
    expect(bob.locator("#members")).to_contain_text("Editor")

    # Ada makes him a viewer.
    ada.goto(members)
    ada.get_by_label("Role of Bob").select_option(label=Role.VIEWER.label)
    with server_answer(ada, "POST", rf"/projects/{project_id}/members/\d+/role") as answer:
        ada.get_by_role("button", name="Change role").click()
    assert answer.value.status == 303
    expect(ada.get_by_text("Bob is now viewer.")).to_be_visible()

    # Bob sees no controls he cannot use, and a forged change is refused.
    bob.goto(members)
    expect(bob.get_by_role("button", name="Change role")).to_have_count(0)
    expect(bob.get_by_role("button", name="Invite")).to_have_count(0)
    expect(bob.get_by_role("button", name="Leave “Garden”")).to_be_visible()
    token = bob.locator('meta[name="csrf-token"]').get_attribute("content")
    forged = bob.request.post(
        f"{members.removesuffix('/members')}/invitations",
        form={"email": "mallory@example.com", "role": "3", "csrf_token": token},
    )
    assert forged.status == 403
    assert "Only the project&#39;s admins can do that." in forged.text()


def sign_in_again(page):
    """Sign out and in through the real forms (invitations are noted at sign-in)."""
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    sign_in(page, "bob@example.com")


def test_a_member_adds_a_task_assigned_to_the_other(app, two_people):
    """Bob, an editor of Ada's "Garden", types `+garden @ada` into his Inbox's quick add; Ada
    sees the task on the project's list, assigned to her."""
    ada, bob = two_people
    project_id = add_project(app, "ada@example.com", "Garden")
    add_member(app, project_id, "bob@example.com", Role.EDITOR)
    bob.goto("/tasks")
    field = bob.get_by_label("New task")
    field.fill("Water the roses +garden @ada")
    with server_answer(bob, "POST", r"/tasks$"):
        field.press("Enter")
    expect(bob.locator("#flashes")).to_contain_text("Added “Water the roses” to Garden.")
    ada.goto(f"/projects/{project_id}")
    row = ada.locator(".task-row", has_text="Water the roses")
    expect(row.locator(".assignee")).to_have_attribute("title", "Assigned to Ada")
    expect(row.locator(".assignee-initials")).to_have_text("A")
