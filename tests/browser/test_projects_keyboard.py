"""Projects in real Chromium: `m` moves the selected tasks through a picker you type into
(`a` assigns them to a member the same way), `g p` and `g i` go to the project list and the
Inbox, quick add's `+name` from the keyboard, and the project list is a menu at phone width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.browser.helpers import server_answer, sign_in
from tests.helpers import add_member, add_project, add_task, create_user, get_task

pytestmark = pytest.mark.browser


@pytest.fixture
def ada(app):
    create_user(app)
    return app


def settled(page):
    busy = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"
    page.wait_for_function(f"() => !document.querySelector('{busy}')")


def test_m_moves_the_selected_tasks_to_the_project_typed(ada, page):
    work = add_project(ada, name="Work")
    add_project(ada, name="Home")
    first, second = add_task(ada, title="First"), add_task(ada, title="Second")
    keep = add_task(ada, title="Keep")
    sign_in(page)
    page.keyboard.press("j")
    page.keyboard.press("J")  # First and Second selected
    page.keyboard.press("m")
    picker = page.get_by_label("Project", exact=True)
    expect(picker).to_be_focused()
    picker.fill("wor")
    with server_answer(page, "POST", r"/tasks/bulk"):
        picker.press("Enter")
    settled(page)
    expect(page.locator(".task-row", has_text="First")).to_have_count(0)
    expect(page.locator(".task-row", has_text="Keep")).to_have_count(1)
    assert [get_task(ada, i).project_id for i in (first, second)] == [work, work]
    assert get_task(ada, keep).project_id != work


def test_the_picker_says_when_the_name_matches_no_project_or_several(ada, page):
    add_project(ada, name="Work")
    add_project(ada, name="Workshop")
    add_task(ada, title="Only")
    sign_in(page)
    page.keyboard.press("j")
    page.keyboard.press("m")
    picker = page.get_by_label("Project", exact=True)
    picker.fill("nothing")
    picker.press("Enter")
    expect(page.locator("[data-move-error]")).to_have_text(re.compile("No project"))
    picker.fill("wor")
    picker.press("Enter")
    expect(page.locator("[data-move-error]")).to_have_text(re.compile("Several projects"))
    picker.press("Escape")
    expect(page.locator("#move-dialog")).not_to_be_visible()


def test_g_p_and_g_i_go_to_the_project_list_and_the_inbox(ada, page):
    sign_in(page)
    page.keyboard.press("g")
    page.keyboard.press("p")
    expect(page).to_have_url(re.compile(r"/projects$"))
    page.keyboard.press("g")
    page.keyboard.press("i")
    expect(page).to_have_url(re.compile(r"/tasks$"))


def test_the_help_lists_the_project_keys(ada, page):
    sign_in(page)
    page.keyboard.press("?")
    help_dialog = page.locator("#help-dialog")
    for text in ("Go to your Inbox", "Go to the project list", "Move the selected tasks"):
        expect(help_dialog).to_contain_text(text)


def test_quick_add_plus_name_adds_to_the_project_and_says_so(ada, page):
    work = add_project(ada, name="Work")
    sign_in(page)
    field = page.get_by_label("New task")
    field.fill("Report +work")
    with server_answer(page, "POST", r"/tasks"):
        field.press("Enter")
    expect(page.locator("#flashes")).to_contain_text("Added “Report” to Work.")
    expect(page.locator(".task-row", has_text="Report")).to_have_count(0)
    page.goto(f"/projects/{work}")
    expect(page.locator(".task-row", has_text="Report")).to_have_count(1)


def test_the_open_counts_follow_changes_without_a_reload(ada, page):
    """Quick add, `+name`, ticking off and moving change the counts beside the list as they
    happen (the list fetches itself again on `tasks-changed`), and the current entry stays
    marked."""
    add_project(ada, name="Work")
    sign_in(page)
    nav = page.get_by_role("navigation", name="Projects")
    inbox, work = (nav.get_by_role("link", name=re.compile(name)) for name in ("Inbox", "Work"))
    expect(inbox).to_contain_text("0")
    field = page.get_by_label("New task")
    for title in ("Here", "There +work"):
        field.fill(title)
        with server_answer(page, "POST", r"/tasks"):
            field.press("Enter")
        settled(page)
    expect(inbox).to_contain_text("1")
    expect(work).to_contain_text("1")
    expect(inbox).to_have_attribute("aria-current", "page")
    with server_answer(page, "POST", r"/tasks/[0-9]+/toggle"):
        page.get_by_role("button", name="Mark done: Here").click()
    settled(page)
    expect(inbox).to_contain_text("0")


def test_the_project_list_is_a_menu_at_phone_width(ada, page):
    add_project(ada, name="Work")
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page)
    menu = page.locator(".project-menu")
    link = menu.get_by_role("link", name=re.compile("Work"))
    expect(link).not_to_be_visible()
    menu.locator("summary").click()
    expect(link).to_be_visible()


def test_a_assigns_the_selected_tasks_to_the_member_typed(ada, page):
    team = add_project(ada, name="Team")
    create_user(ada, email="bob@example.com", name="Bob Builder")
    add_member(ada, team, "bob@example.com", Role.EDITOR)
    task = add_task(ada, project_id=team, title="Fence")
    sign_in(page)
    page.goto(f"/projects/{team}")
    page.keyboard.press("j")
    page.keyboard.press("a")
    picker = page.get_by_label("Person", exact=True)
    expect(picker).to_be_focused()
    picker.fill("zed")
    picker.press("Enter")
    error = page.locator("[data-assign-error]")
    expect(error).to_have_text("Nobody in this project has that name.")
    picker.fill("bui")
    with server_answer(page, "POST", r"/tasks/bulk"):
        picker.press("Enter")
    settled(page)
    row = page.locator(".task-row", has_text="Fence")
    expect(row.locator(".assignee")).to_have_attribute("title", "Assigned to Bob Builder")
    assert get_task(ada, task).assignee_id is not None
    page.keyboard.press("?")
    expect(page.locator("#help-dialog")).to_contain_text("Assign the selected tasks")
