"""Registration proposes the browser's time zone, in real Chromium set to a zone far from the
server's (UTC): with JavaScript the account takes Auckland's, without it the server's."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser


def _register(page) -> None:
    page.goto("/register")
    page.get_by_label("Email").fill("kiri@example.com")
    page.get_by_label("Display name").fill("Kiri")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/tasks$"))


@pytest.mark.parametrize(
    ("javascript", "shown"),
    [(True, "Pacific/Auckland"), (False, "Same as the server (UTC)")],
    ids=["javascript", "no-javascript"],
)
def test_registration_takes_the_browsers_zone_and_the_account_page_shows_it(
    browser, live_server, javascript, shown
):
    context = browser.new_context(
        base_url=live_server, timezone_id="Pacific/Auckland", java_script_enabled=javascript
    )
    try:
        page = context.new_page()
        _register(page)
        page.goto("/account")
        menu = page.get_by_label("Time zone")
        expect(menu.locator("option:checked")).to_have_text(shown)
    finally:
        context.close()
