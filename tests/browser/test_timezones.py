"""Registration proposes the browser's time zone, in real Chromium set to a zone far from the
server's (UTC): with JavaScript the account takes Auckland's, without it the server's."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import register

pytestmark = pytest.mark.browser


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
        page.goto("/register")
        register(page, "kiri@example.com", "Kiri")
        page.goto("/account")
        menu = page.get_by_label("Time zone")
        expect(menu.locator("option:checked")).to_have_text(shown)
    finally:
        context.close()
