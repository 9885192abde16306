"""Real Chromium (Debian's, through Playwright) against the app served on a free port.

Browser tests skip with a reason when no Chromium is installed, unless REQUIRE_BROWSER=1
(set by .ci/run), where a missing browser is a failure instead.
"""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from tests.browser.helpers import ARTIFACTS, sign_in
from tests.helpers import create_user

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium_path() -> str | None:
    candidates = [os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


@pytest.fixture(scope="session")
def browser():
    path = _chromium_path()
    if path is None:
        reason = "no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(reason + "; REQUIRE_BROWSER=1 forbids skipping")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The test's app, served by a threaded WSGI server on 127.0.0.1 and a free port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


# Chromium logs every non-2xx response as a console error. These statuses are answers the
# app gives on purpose (a wrong password, a form to fix, a conflict, a used reset link, a
# rate limit); a 404 or 5xx for a page or an asset is still a problem.
EXPECTED_STATUSES = ("401", "409", "410", "422", "429")


def _is_problem(message) -> bool:
    if message.type != "error":
        return False
    text = message.text
    if text.startswith("Failed to load resource"):
        return not any(f"status of {code}" in text for code in EXPECTED_STATUSES)
    # htmx logs the same answers once more when it swaps them in (responseHandling "error").
    if text.startswith("Response Status Error Code "):
        return not any(
            text.startswith(f"Response Status Error Code {code} ") for code in EXPECTED_STATUSES
        )
    return True


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(base_url=live_server, viewport={"width": 1100, "height": 800})
    ARTIFACTS.mkdir(exist_ok=True)
    page = context.new_page()
    problems = []
    page.on("console", lambda m: _is_problem(m) and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.problems = problems
    yield page
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-failure.png"))
    context.close()
    assert not problems, problems


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def nojs(browser, live_server, app):
    """A page with JavaScript turned off, signed in as Ada."""
    create_user(app)
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    sign_in(page)
    yield page
    context.close()
