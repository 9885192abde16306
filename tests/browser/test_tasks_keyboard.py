"""The task list in real Chromium: quick add, keyboard, inline editing, undo, search, and
accessibility checked by axe-core. Every flow asserts the page did not reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.extensions import db
from app.models import Task
from tests.browser.axe import needs_axe, serious_violations
from tests.browser.helpers import ARTIFACTS, server_answer
from tests.browser.helpers import sign_in as signed_in
from tests.helpers import add_task, app_today, create_user, get_task

pytestmark = pytest.mark.browser


def sign_in(page, email="ada@example.com"):
    signed_in(page, email)
    # A marker that a full page load would wipe: checked at the end of each flow.
    page.evaluate("window.__noReload = true")


def assert_no_reload(page):
    assert page.evaluate("window.__noReload === true"), "the page reloaded"


def settled(page):
    """Wait until htmx has finished swapping and settling (new content is wired up then)."""
    # A function, not an expression string: polling a string would need eval, which the
    # page's CSP forbids.
    busy = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"
    page.wait_for_function(f"() => !document.querySelector('{busy}')")


def row(page, task_id):
    return page.locator(f"#task-{task_id}")


def row_id(locator) -> int:
    return int(locator.get_attribute("id").removeprefix("task-"))


@pytest.fixture
def ada(app):
    create_user(app)
    return app


def test_quick_add_keeps_focus_and_adds_without_reload(ada, page):
    sign_in(page)
    field = page.get_by_label("New task")
    field.fill("Water the plants tomorrow #home !2")
    field.press("Enter")
    new_row = page.locator(".task-row", has_text="Water the plants")
    expect(new_row).to_be_visible()
    expect(new_row.locator(".chip")).to_have_text("home")
    expect(new_row.locator("time")).to_have_text("Tomorrow")
    saved = get_task(ada, row_id(new_row))
    assert (saved.title, saved.priority, [t.name for t in saved.tags]) == (
        "Water the plants",
        2,
        ["home"],
    )
    assert (saved.due_date - app_today(ada)).days == 1
    expect(field).to_have_value("")
    expect(field).to_be_focused()
    field.fill("Second one")
    field.press("Enter")
    expect(page.locator(".task-row", has_text="Second one")).to_be_visible()
    assert_no_reload(page)


def test_a_task_just_added_can_be_ticked_off_from_the_keyboard(ada, page):
    # htmx settles attributes of the rows it swaps; none may trip the CSP (the page fixture
    # fails on a violation), even after a screenshot has left empty style attributes behind.
    sign_in(page)
    field = page.get_by_label("New task")
    for title in ("First new", "Second new"):
        field.fill(title)
        field.press("Enter")
        expect(page.locator(".task-row", has_text=title)).to_be_visible()
    settled(page)
    page.screenshot(path=str(ARTIFACTS / "tasks-just-added.png"))
    page.get_by_role("heading", name="Inbox").click()
    page.keyboard.press("j")
    new_row = page.locator(".task-row", has_text="Second new")
    task_id = row_id(new_row)
    with server_answer(page, "POST", rf"/tasks/{task_id}/toggle") as answer:
        page.keyboard.press("x")
    assert answer.value.status == 200
    # The server's row is done, and its box now reopens it.
    expect(row(page, task_id)).to_have_class(re.compile(r"\bis-done\b"))
    expect(row(page, task_id).get_by_role("button", name="Reopen: Second new")).to_be_visible()
    assert get_task(ada, task_id).done is True
    settled(page)
    assert_no_reload(page)


def test_quick_add_error_is_shown_in_place(ada, page):
    sign_in(page)
    field = page.get_by_label("New task")
    field.fill("#onlyatag")
    with server_answer(page, "POST", "/tasks") as answer:
        field.press("Enter")
    assert answer.value.status == 422
    expect(page.get_by_text("Add a title as well")).to_be_visible()
    expect(page.get_by_label("New task")).to_have_value("#onlyatag")
    expect(page.locator(".task-row")).to_have_count(0)
    with ada.app_context():
        assert db.session.scalar(select(func.count()).select_from(Task)) == 0  # nothing saved
    assert_no_reload(page)


def test_j_k_move_the_selection_and_e_edits_and_enter_saves(ada, page):
    first = add_task(ada, title="First", due_date=None)
    second = add_task(ada, title="Second")
    sign_in(page)
    page.keyboard.press("j")
    expect(row(page, first)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("j")
    expect(row(page, second)).to_have_attribute("aria-selected", "true")
    expect(row(page, first)).to_have_attribute("aria-selected", "false")
    page.keyboard.press("k")
    expect(row(page, first)).to_have_attribute("aria-selected", "true")
    expect(row(page, first)).to_be_focused()

    page.keyboard.press("e")
    title = row(page, first).get_by_label("Title")
    expect(title).to_be_focused()
    title.fill("First, renamed")
    with server_answer(page, "POST", rf"/tasks/{first}") as answer:
        title.press("Enter")
    assert answer.value.status == 200
    expect(row(page, first).locator(".task-title")).to_have_text("First, renamed")
    expect(row(page, first)).to_be_focused()
    expect(row(page, first)).to_have_attribute("aria-selected", "true")
    assert get_task(ada, first).title == "First, renamed"
    page.screenshot(path=str(ARTIFACTS / "tasks-after-edit.png"))
    assert_no_reload(page)


def test_escape_cancels_and_only_one_editor_is_open(ada, page):
    first = add_task(ada, title="Keep this")
    second = add_task(ada, title="Other")
    sign_in(page)
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    title = row(page, first).get_by_label("Title")
    title.fill("Typed but cancelled")
    # Opening another row's editor closes the first one unchanged (the server's row again).
    with server_answer(page, "GET", rf"/tasks/{first}/row") as cancelled:
        row(page, second).get_by_role("link", name=re.compile("Edit")).click()
    assert cancelled.value.status == 200
    expect(row(page, second).get_by_label("Title")).to_be_focused()
    expect(page.locator(".task-row.editing")).to_have_count(1)
    expect(row(page, first).locator(".task-title")).to_have_text("Keep this")
    with server_answer(page, "GET", rf"/tasks/{second}/row"):
        page.keyboard.press("Escape")
    expect(page.locator(".task-row.editing")).to_have_count(0)
    expect(row(page, second)).to_be_focused()
    assert get_task(ada, first).title == "Keep this" and get_task(ada, first).version == 1
    assert_no_reload(page)


def test_x_toggles_done(ada, page):
    task_id = add_task(ada, title="Tick me")
    sign_in(page)
    page.keyboard.press("j")
    for done in (True, False):
        with server_answer(page, "POST", rf"/tasks/{task_id}/toggle") as answer:
            page.keyboard.press("x")
        assert answer.value.status == 200
        # is-done comes only with the server's row; the box the browser flips by itself.
        is_done = re.compile(r"\bis-done\b")
        if done:
            expect(row(page, task_id)).to_have_class(is_done)
        else:
            expect(row(page, task_id)).not_to_have_class(is_done)
        assert get_task(ada, task_id).done is done
        settled(page)
    assert_no_reload(page)


def test_delete_then_undo_with_button_and_with_u(ada, page):
    task_id = add_task(ada, title="Delete me", tags=["keep"])
    sign_in(page)
    page.keyboard.press("j")
    with server_answer(page, "POST", rf"/tasks/{task_id}/delete"):
        page.keyboard.press("Delete")
    expect(page.locator(".task-row", has_text="Delete me")).to_have_count(0)
    assert get_task(ada, task_id).deleted_at is not None
    toast = page.locator(".toast", has_text="Deleted “Delete me”.")
    expect(toast).to_be_visible()
    with server_answer(page, "POST", "/tasks/restore"):
        toast.get_by_role("button", name="Undo").click()
    expect(row(page, task_id)).to_be_visible()
    expect(row(page, task_id).locator(".chip")).to_have_text("keep")
    expect(toast).to_have_count(0)
    restored = get_task(ada, task_id)
    assert restored.deleted_at is None and [t.name for t in restored.tags] == ["keep"]
    settled(page)

    page.keyboard.press("j")
    with server_answer(page, "POST", rf"/tasks/{task_id}/delete"):
        page.keyboard.press("#")
    expect(page.locator(".task-row", has_text="Delete me")).to_have_count(0)
    assert get_task(ada, task_id).deleted_at is not None
    settled(page)  # a person needs longer than htmx's 20 ms settle before the next key
    with server_answer(page, "POST", "/tasks/restore"):
        page.keyboard.press("u")
    expect(row(page, task_id)).to_be_visible()
    assert get_task(ada, task_id).deleted_at is None
    assert_no_reload(page)


def test_question_mark_opens_the_shortcut_help(ada, page):
    sign_in(page)
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Undo the last delete")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.keyboard.press("n")
    expect(page.get_by_label("New task")).to_be_focused()


def test_search_as_you_type_updates_list_and_url(ada, page):
    add_task(ada, title="Buy oat milk")
    add_task(ada, title="Call the plumber")
    sign_in(page)
    page.keyboard.press("/")
    search = page.get_by_label("Search")
    expect(search).to_be_focused()
    search.press_sequentially("plumb", delay=30)
    expect(page.locator(".task-row")).to_have_count(1)
    expect(page.locator(".task-row")).to_contain_text("Call the plumber")
    expect(page).to_have_url(re.compile(r"/tasks\?q=plumb"))
    assert_no_reload(page)
    page.go_back()
    expect(page.locator(".task-row")).to_have_count(2)


def test_an_unchanged_query_is_not_asked_for_again(ada, page):
    """Leaving the search box fires `change` on the filter form: the query its keystrokes
    already sent is not sent twice. A filter that does change is."""
    add_task(ada, title="Call the plumber")
    sign_in(page)
    sent = []
    page.on("request", lambda r: sent.append(r.url) if r.headers.get("hx-request") else None)
    search = page.get_by_label("Search")
    search.fill("plumb")
    expect(page).to_have_url(re.compile(r"q=plumb"))
    settled(page)
    search.press("Tab")
    page.wait_for_timeout(500)
    assert len(sent) == 1, sent
    page.get_by_label("Show").select_option("all")
    expect(page).to_have_url(re.compile(r"status=all"))
    assert len(sent) == 2, sent
    expect(page.locator(".task-row")).to_have_count(1)
    assert_no_reload(page)


def test_clicking_a_tag_chip_filters_by_it(ada, page):
    add_task(ada, title="Tagged task", tags=["Errands"])
    add_task(ada, title="Plain task")
    sign_in(page)
    page.locator(".task-row", has_text="Tagged task").get_by_role("link", name="Errands").click()
    expect(page).to_have_url(re.compile(r"tag=Errands"))
    expect(page.locator(".task-row")).to_have_count(1)
    expect(page.get_by_label("Tag", exact=True)).to_have_value("Errands")


def test_shift_j_selects_several_for_a_bulk_action(ada, page):
    a = add_task(ada, title="Bulk A")
    b = add_task(ada, title="Bulk B")
    c = add_task(ada, title="Bulk C")
    sign_in(page)
    page.keyboard.press("j")
    page.keyboard.press("Shift+J")
    expect(page.locator(".task-row [name=ids]:checked")).to_have_count(2)
    expect(page.locator("[data-bulk-count]")).to_have_text("2 selected:")
    page.get_by_label("Bulk action", exact=True).select_option("done")
    with server_answer(page, "POST", "/tasks/bulk") as answer:
        page.get_by_role("button", name="Apply").click()
    assert answer.value.status == 200
    expect(page.get_by_text("Updated 2 tasks.")).to_be_visible()
    assert get_task(ada, a).done and get_task(ada, b).done
    assert not get_task(ada, c).done
    assert_no_reload(page)


def _axe(page, context_name):
    result = serious_violations(page)
    assert result == [], f"{context_name}: {result}"


@needs_axe
def test_axe_finds_no_serious_violations(ada, browser, live_server):
    task_id = add_task(ada, title="Accessible task", tags=["a11y"], priority=2)
    for scheme in ("light", "dark"):
        context = browser.new_context(base_url=live_server, color_scheme=scheme)
        page = context.new_page()
        sign_in(page)
        _axe(page, f"/tasks ({scheme})")
        page.screenshot(path=str(ARTIFACTS / f"tasks-{scheme}.png"), full_page=True)
        page.keyboard.press("j")
        page.keyboard.press("e")
        expect(row(page, task_id).get_by_label("Title")).to_be_focused()
        _axe(page, "editor")
        page.keyboard.press("Escape")
        page.keyboard.press("?")
        _axe(page, "help dialog")
        page.keyboard.press("Escape")
        page.goto("/tags")
        _axe(page, "/tags")
        context.close()


def test_narrow_screen_is_usable(ada, browser, live_server):
    long_title = "A task with a fairly long title that has to wrap on a phone"
    add_task(ada, title=long_title, tags=["x"], priority=3)
    context = browser.new_context(base_url=live_server, viewport={"width": 375, "height": 740})
    page = context.new_page()
    sign_in(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(ARTIFACTS / "tasks-375.png"), full_page=True)
    context.close()


def test_g_then_a_letter_goes_to_a_page(ada, page):
    sign_in(page)
    page.keyboard.press("g")
    page.keyboard.press("g")
    expect(page).to_have_url(re.compile(r"/tags$"))
    page.wait_for_load_state()
    page.keyboard.press("g")
    page.keyboard.press("a")
    expect(page).to_have_url(re.compile(r"/account$"))
    page.wait_for_load_state()
    for key, path in (("t", "today"), ("u", "upcoming"), ("m", "assigned"), ("l", "all")):
        page.wait_for_load_state()
        page.keyboard.press("g")
        page.keyboard.press(key)
        expect(page).to_have_url(re.compile(rf"/tasks/{path}$"))
        expect(page.locator("h1")).to_be_visible()


def test_shift_click_selects_a_range(ada, page):
    for i in range(4):
        add_task(ada, title=f"Range {i}")
    sign_in(page)
    page.get_by_role("checkbox", name="Select: Range 0").click()
    page.get_by_role("checkbox", name="Select: Range 2").click(modifiers=["Shift"])
    expect(page.locator(".task-row [name=ids]:checked")).to_have_count(3)
    expect(page.get_by_role("checkbox", name="Select: Range 3")).not_to_be_checked()


def _heard(page) -> set[tuple[str, str, str]]:
    """(role, name, description) of every named node in Chromium's own accessibility tree: what
    a screen reader is given, beyond what Playwright's selectors compute."""
    cdp = page.context.new_cdp_session(page)
    nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    cdp.detach()
    return {
        (n["role"]["value"], n["name"]["value"], n.get("description", {}).get("value", ""))
        for n in nodes
        if not n.get("ignored") and n.get("name", {}).get("value")
    }


def test_a_rows_controls_name_their_task_in_the_accessibility_tree(ada, page):
    """A row holds its title once; each control's name says which task it acts on, by a word
    the page holds once and the title (aria-labelledby), also in a row htmx swapped in."""
    task_id = add_task(ada, title="Call the plumber")
    sign_in(page)
    expected = {
        ("checkbox", "Select: Call the plumber", ""),
        ("button", "Mark done: Call the plumber", ""),
        ("link", "Edit: Call the plumber", ""),
        ("button", "Delete: Call the plumber", ""),
    }
    assert expected <= _heard(page)
    with server_answer(page, "POST", rf"/tasks/{task_id}/toggle"):
        row(page, task_id).get_by_role("button", name="Mark done: Call the plumber").click()
    expect(row(page, task_id)).to_have_class(re.compile(r"\bis-done\b"))
    settled(page)
    swapped = _heard(page)
    assert ("button", "Reopen: Call the plumber", "") in swapped
    assert ("link", "Edit: Call the plumber", "") in swapped
    assert_no_reload(page)


def test_typing_the_same_query_twice_sends_one_request(ada, page):
    """The query typed again, whole or by a key and its undoing, is not sent again (htmx's
    `changed` on the search box; app.js drops a query the list already shows)."""
    add_task(ada, title="Call the plumber")
    sign_in(page)
    sent = []
    page.on("request", lambda r: sent.append(r.url) if r.headers.get("hx-request") else None)
    # Every list request htmx prepares, sent or not, so the test waits for events, not time.
    page.evaluate(
        "window.__asked = 0;document.addEventListener('htmx:configRequest', () => window.__asked++)"
    )
    search = page.get_by_label("Search")
    search.fill("plumb")
    expect(page).to_have_url(re.compile(r"q=plumb"))
    settled(page)
    search.fill("plumb")
    search.press("x")
    search.press("Backspace")
    page.wait_for_function("() => window.__asked >= 2")
    assert len(sent) == 1, sent
    search.press("e")
    expect(page).to_have_url(re.compile(r"q=plumbe"))
    assert len(sent) == 2, sent
    assert page.evaluate("window.__asked") == 3
    assert_no_reload(page)
