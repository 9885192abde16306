"""Every GET page passes axe-core's serious and critical rules (colour contrast among them),
anonymous, as a user and as an admin, in the light and the dark colour scheme. Routes come
from app.url_map, so a new page is checked without being listed."""

from __future__ import annotations

import pytest

from tests.browser.axe import needs_axe, serious_violations
from tests.browser.pages import VISITORS, every_page

pytestmark = [pytest.mark.browser, pytest.mark.one_database, needs_axe]


@pytest.mark.parametrize("visitor", VISITORS)
def test_every_page_passes_axe_in_light_and_dark(app, page, visitor):
    urls = every_page(app, page, visitor)
    found, checked = [], 0
    for url in urls:
        response = page.goto(url)
        if not response.headers["content-type"].startswith("text/html"):
            continue  # /healthz and /favicon.ico are no pages
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            found += [f"{url} ({scheme}) {v}" for v in serious_violations(page)]
            checked += 1
    assert not found, "\n".join(found)
    assert checked >= 2 * (3 if visitor == "anonymous" else 10)
