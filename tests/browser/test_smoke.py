"""A newcomer's first minutes, in real Chromium: register, see the tasks page, sign out, in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import ARTIFACTS, register
from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser


def test_register_sign_out_and_sign_in_again(page, live_server):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.get_by_role("link", name="Create an account").click()

    register(page, "newcomer@example.com", "Newcomer")
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    expect(page.get_by_text("Welcome to Tasklane!")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "tasks-first-visit.png"))

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_text("You have been signed out.")).to_be_visible()
    page.goto("/tasks")
    expect(page).to_have_url(re.compile(r"/login\?next="))

    page.get_by_label("Email").fill("newcomer@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/tasks$"))
    expect(page.get_by_role("link", name="Newcomer")).to_be_visible()


def test_wrong_password_shows_the_error_next_to_the_form(page, live_server):
    page.goto("/login")
    page.get_by_label("Email").fill("nobody@example.com")
    page.get_by_label("Password").fill("whatever-it-is")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile("Email or password is incorrect"))
    expect(page.get_by_label("Email")).to_have_value("nobody@example.com")
    expect(page.get_by_label("Password")).to_have_value("")


def test_htmx_is_loaded_and_the_csp_holds(page, live_server):
    violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
    page.goto("/login")
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("htmx.version").startswith("2.")
    assert violations == []
