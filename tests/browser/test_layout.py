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


def test_edit_and_delete_share_a_line_and_stay_inside_the_row_at_every_width(app, page):
    """A row's Edit and Delete wrap together (Delete never alone on a line of its own) and
    neither pokes out of the row, from desktop width down to a small phone."""
    from tests.browser.helpers import sign_in
    from tests.helpers import add_task, create_user

    create_user(app)
    titles = ["Short", "A much longer task title that wraps the row on a phone, and then some"]
    for title in titles:
        add_task(app, title=title, priority=3, tags=("home", "errands"))
    sign_in(page)
    for width in (1280, 700, 375, 320):
        page.set_viewport_size({"width": width, "height": 900})
        for title in titles:
            row = page.locator(".task-row", has_text=title)
            box = row.bounding_box()
            edit = row.get_by_role("link", name=f"Edit: {title}").bounding_box()
            delete = row.get_by_role("button", name=f"Delete: {title}").bounding_box()
            where = f"{title[:10]!r} at {width} px"
            assert abs(edit["y"] - delete["y"]) < 2, where
            assert delete["x"] >= edit["x"] + edit["width"], where
            assert delete["x"] + delete["width"] <= box["x"] + box["width"], where


def test_a_project_or_tag_row_gives_its_name_the_room(app, page):
    """The project and tag lists share the task list's row class, but not its cells: a row
    is its name, its counts and its buttons. Columns sized for a task's two boxes once put
    each name into a 1.6rem column, one word a line."""
    from tests.browser.helpers import sign_in
    from tests.helpers import add_project, add_task, create_user

    create_user(app)
    add_project(app, name="Garden and allotment")
    add_task(app, title="Dig", tags=("errands",))
    sign_in(page)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        for url, name in (("/projects", "Garden and allotment"), ("/tags", "errands")):
            page.goto(url)
            row = page.locator(".task-row", has_text=name)
            link = row.get_by_role("link", name=name, exact=True)
            where = f"{url} at {width} px"
            # Its cell is at least a third of the row; at desktop width the name is one line.
            if width > 1000:
                assert link.bounding_box()["height"] < 40, where
            cell = row.locator(":scope > [role=gridcell]").first.bounding_box()
            assert cell["width"] > row.bounding_box()["width"] / 3, where


# At phone width a table's header row is hidden and each row a stack of its cells (app.css):
# a cell then says which column it is by its data-label, or a bare "Editor" or a date is left
# without its meaning. The first cell names the row; a column whose header is for screen
# readers only (its buttons) names itself.
UNLABELLED = """
() => [...document.querySelectorAll("main table")]
  .filter((table) => table.tHead && getComputedStyle(table.tHead).display === "none")
  .flatMap((table) => {
    const heads = [...table.tHead.rows[0].cells].map((th) =>
      th.querySelector(".visually-hidden") ? "" : th.textContent.trim());
    return [...table.tBodies].flatMap((body) => [...body.rows]).flatMap((row) =>
      [...row.cells].slice(1).map((td, i) => ({table: table.id, head: heads[i + 1] || "",
        before: getComputedStyle(td, "::before").content})))
      .filter((cell) => cell.head && !cell.before.includes(cell.head));
  })
"""


@pytest.mark.parametrize("visitor", VISITORS[1:])
def test_every_table_cell_keeps_its_column_name_at_phone_width(app, page, visitor):
    urls = every_page(app, page, visitor)
    page.set_viewport_size({"width": 375, "height": 900})
    unlabelled, tables = [], 0
    for url in urls:
        page.goto(url)
        tables += page.locator("main table").count()
        for cell in page.evaluate(UNLABELLED):
            unlabelled.append(f"{url}: table#{cell['table']} column {cell['head']!r}")
    assert tables, "no page had a table to check"
    assert not unlabelled, "\n".join(sorted(set(unlabelled)))
