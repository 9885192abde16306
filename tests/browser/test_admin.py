"""The admin console in real Chromium: search as you type, keyboard, deactivate in place."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import ARTIFACTS, sign_in
from tests.helpers import add_users, create_user, get_user, user_id

pytestmark = pytest.mark.browser


@pytest.fixture
def admin_page(app, page):
    create_user(app, email="root@example.com", name="Root", admin=True)
    create_user(app, email="ada@example.com", name="Ada Lovelace")
    create_user(app, email="grace@example.com", name="Grace Hopper")
    add_users(app, 12, tasks_each=2)
    sign_in(page, "root@example.com")
    return page


def rows(page):
    return page.locator("#user-table tbody tr[data-keynav-row]")


def test_search_as_you_type_then_deactivate_in_place(app, admin_page):
    page = admin_page
    page.goto("/admin/users")
    expect(rows(page)).to_have_count(15)
    page.evaluate("window.notReloaded = true")

    page.get_by_label("Search by email or name").press_sequentially("hopp", delay=40)
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("grace@example.com")
    expect(page).to_have_url(re.compile(r"/admin/users\?q=hopp"))
    expect(page.get_by_role("status").filter(has_text="matching")).to_have_text(
        re.compile("1 user matching “hopp”")
    )
    assert page.evaluate("window.notReloaded") is True  # swapped, not reloaded

    page.get_by_role("link", name="grace@example.com").click()
    expect(page.get_by_role("heading", name="Grace Hopper")).to_be_visible()
    page.evaluate("window.notReloaded = true")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Deactivate").click()
    expect(page.locator("#user-panel .badge-danger")).to_have_text("deactivated")
    expect(page.locator("#flashes")).to_contain_text("grace@example.com was deactivated")
    expect(page.get_by_role("button", name="Reactivate")).to_be_visible()
    assert page.evaluate("window.notReloaded") is True
    assert not get_user(app, "grace@example.com").is_active
    page.screenshot(path=str(ARTIFACTS / "admin-user-1100.png"), full_page=True, caret="initial")

    # A refusal from the server lands in place too (here: the confirmation typed wrong).
    page.get_by_label("Type the user's email to confirm").fill("someone@example.com")
    page.get_by_role("button", name="Delete user and data").click()
    expect(page.locator("#user-panel")).to_contain_text("This is not the user's email.")
    assert get_user(app, "grace@example.com") is not None


def test_keyboard_moves_through_users_and_opens_one(app, admin_page):
    page = admin_page
    page.goto("/admin/users")
    page.keyboard.press("/")
    expect(page.get_by_label("Search by email or name")).to_be_focused()
    page.keyboard.type("member00")
    expect(rows(page)).to_have_count(10)
    page.get_by_role("heading", name="Users").click()  # leave the field
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("j")
    selected = page.locator('tr[aria-selected="true"]')
    expect(selected).to_have_count(1)
    expect(selected).to_contain_text("member001@example.com")
    expect(selected).to_be_focused()
    page.keyboard.press("Enter")
    uid = user_id(app, "member001@example.com")
    expect(page).to_have_url(re.compile(rf"/admin/users/{uid}$"))
    expect(page.get_by_role("heading", name="Member 001")).to_be_visible()


@pytest.mark.parametrize("width", [1100, 375])
def test_admin_pages_at_desktop_and_phone_width(app, admin_page, width):
    page = admin_page
    page.set_viewport_size({"width": width, "height": 900})
    uid = user_id(app, "ada@example.com")
    for name, path in (
        ("dashboard", "/admin"),
        ("users", "/admin/users"),
        ("user", f"/admin/users/{uid}"),
        ("audit", "/admin/audit"),
    ):
        page.goto(path)
        expect(page.locator("main h1")).to_be_visible()
        # Nothing wider than the window: no sideways scrolling on a phone.
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (name, width, overflow)
        page.screenshot(
            path=str(ARTIFACTS / f"admin-{name}-{width}.png"), full_page=True, caret="initial"
        )
