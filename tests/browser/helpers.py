"""Plain helpers the browser tests share (the browser, server and page fixtures are in
conftest.py): signing in through the real form, and waiting for the server's answer."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from urllib.parse import urlsplit

from tests.helpers import PASSWORD

# Screenshots: the README's, and one for each failed test.
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def sign_in(page, email="ada@example.com"):
    """Sign in through the real form and wait until the task list's scripts have run."""
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/tasks$"))
    page.wait_for_load_state()  # htmx and app.js are deferred scripts


def register(page, email: str, name: str):
    """Create an account through the real form (from the page it is on) and wait for the
    task list it lands on."""
    from playwright.sync_api import expect

    page.get_by_label("Email").fill(email)
    page.get_by_label("Display name").fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/tasks$"))


@contextlib.contextmanager
def server_answer(page, method: str, path: str):
    """Wait after the block for the server's answer to the `method` request the block made
    to a path matching `path` (a regular expression, anchored at both ends); `.value` is the
    response.

    What a test checks after a click or a key must be what the server did: the browser
    changes some things itself at once (it ticks a box before the request is even sent), and
    a database read straight after a click can run before the server has answered.
    """
    pattern = re.compile(path)

    def matches(response) -> bool:
        request = response.request
        return request.method == method and bool(pattern.fullmatch(urlsplit(request.url).path))

    with page.expect_response(matches) as answer:
        yield answer
