"""Every GET route in real Chromium, anonymous, as a user and as an admin: no CSP violation,
no console error, no failed asset. Routes come from app.url_map, so a new page is covered."""

from __future__ import annotations

import pytest

from tests.browser.pages import VISITORS, every_page

pytestmark = [pytest.mark.browser, pytest.mark.security]

# Listens before any page script runs; Playwright injects it outside the page's CSP.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.mark.parametrize("visitor", VISITORS)
def test_every_page_loads_without_csp_violation_or_console_error(app, page, visitor):
    page.add_init_script(RECORD_VIOLATIONS)
    urls = every_page(app, page, visitor)
    failed = []
    # ERR_ABORTED is the browser dropping a favicon fetch when the next goto starts.
    page.on(
        "requestfailed",
        lambda r: r.failure != "net::ERR_ABORTED" and failed.append(f"{r.url} {r.failure}"),
    )
    for url in urls:
        response = page.goto(url)
        assert response is not None and response.status < 400, (url, response.status)
        page.wait_for_load_state("load")
        violations = page.evaluate("() => window.__cspViolations")
        assert violations == [], (url, violations)
        assert page.evaluate("() => typeof window.__xss") == "undefined", url
        assert not page.problems, (url, page.problems)
    assert failed == []
