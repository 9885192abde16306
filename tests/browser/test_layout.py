"""Every GET page at desktop and phone width: the page's tables and lists fill their column.

A rule meant for one component that also matches another can squeeze a table into a corner
without any error (two `.filters` rules once put the admin user list into one grid cell of
the task filters, 530 of 1,180 px wide): only measuring the rendered page shows it.
"""

from __future__ import annotations

import pytest

from tests.browser.pages import VISITORS, every_page

pytestmark = [pytest.mark.browser, pytest.mark.one_database]

WIDTHS = (1280, 375)
# Each visible table or list in the page's main region, with the content width of its column:
# the nearest card, or <main> itself (a wrapper between them is no column of its own).
MEASURE = """
() => [...document.querySelectorAll("main table, main .task-list, main .stats")]
  .filter((el) => el.getClientRects().length > 0)
  .map((el) => {
    const column = el.parentElement.closest(".card, main");
    const style = getComputedStyle(column);
    const content = column.clientWidth - parseFloat(style.paddingLeft)
      - parseFloat(style.paddingRight);
    const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
      + [...el.classList].map((c) => "." + c).join("");
    return {name, width: el.getBoundingClientRect().width, content};
  })
"""


@pytest.mark.parametrize("visitor", VISITORS)
def test_tables_and_lists_fill_their_column_at_desktop_and_phone_width(app, page, visitor):
    urls = every_page(app, page, visitor)
    squeezed, measured = [], set()
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for url in urls:
            page.goto(url)
            for box in page.evaluate(MEASURE):
                measured.add(url)
                if box["width"] < 0.95 * box["content"]:
                    where = f"{url} at {width} px: {box['name']}"
                    squeezed.append(f"{where} is {box['width']:.0f} of {box['content']:.0f} px")
    assert not squeezed, "\n".join(squeezed)
    expected = {"anonymous": set(), "ada@example.com": {"/tasks", "/tags", "/account"}}
    assert expected.get(visitor, {"/admin/users", "/admin/audit", "/admin"}) <= measured
