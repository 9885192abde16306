"""Forgot password in real Chromium: the message arrives at a real SMTP server, its link
sets a new password and signs in, another browser's session ends, and the link then fails
with a clear page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import sign_in
from tests.helpers import PASSWORD, create_user
from tests.mailbox import reset_link

pytestmark = pytest.mark.browser

NEW_PASSWORD = "meadow-lantern-quartz-31"


@pytest.fixture
def app(make_app, mailbox):
    return make_app(**mailbox.settings)


def test_forgot_password_to_signed_in_with_the_other_session_ended(
    app, browser, page, live_server, mailbox
):
    app.config["BASE_URL"] = live_server  # links lead to this test's server
    create_user(app)
    elsewhere = browser.new_context(base_url=live_server)
    other = elsewhere.new_page()
    sign_in(other)

    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page).to_have_url(re.compile(r"/forgot-password$"))
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    [message] = mailbox.messages
    link = reset_link(message)
    assert link.startswith(live_server + "/reset-password?token=")
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("Repeat password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()

    expect(page).to_have_url(re.compile(r"/tasks$"))
    expect(page.get_by_text("Your password was changed and you are signed in.")).to_be_visible()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()

    other.goto("/tasks")
    expect(other).to_have_url(re.compile(r"/login\?next="))
    other.get_by_label("Email").fill("ada@example.com")
    other.get_by_label("Password").fill(PASSWORD)
    other.get_by_role("button", name="Sign in").click()
    expect(other.get_by_text("Email or password is incorrect.")).to_be_visible()
    elsewhere.close()

    page.goto(link)  # used once already
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()
    page.get_by_role("link", name="Ask for a new link").click()
    expect(page).to_have_url(re.compile(r"/account$"))  # signed in: nothing to ask for
