"""With JavaScript turned off, every basic flow still works through plain forms and links.

Each form post is followed to the page the server redirects to, and the database is read
only once that page (which shows the change) has loaded."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Tag
from tests.browser.helpers import server_answer
from tests.helpers import add_task, get_task

pytestmark = pytest.mark.browser


def test_add_toggle_edit_delete_undo_without_js(app, nojs):
    page = nojs
    page.get_by_label("New task").fill("Plain forms work #nojs !3")
    with server_answer(page, "POST", "/tasks") as answer:
        page.get_by_role("button", name="Add", exact=True).click()
    assert answer.value.status == 303
    expect(page.get_by_text("Added “Plain forms work”.")).to_be_visible()
    row = page.locator(".task-row", has_text="Plain forms work")
    expect(row.locator(".chip")).to_have_text("nojs")
    task_id = int(row.get_attribute("id").split("-")[1])
    added = get_task(app, task_id)
    assert (added.title, added.priority, [t.name for t in added.tags]) == (
        "Plain forms work",
        1,  # !1 is the highest priority, !3 the lowest
        ["nojs"],
    )

    with server_answer(page, "POST", rf"/tasks/{task_id}/toggle") as answer:
        row.get_by_role("button", name="Mark done: Plain forms work").click()
    assert answer.value.status == 303
    # Back on the list of open tasks, which no longer shows it.
    expect(page.locator(f"#task-{task_id}")).to_have_count(0)
    assert get_task(app, task_id).done is True
    page.goto("/tasks?status=done")
    expect(page.locator(f"#task-{task_id}")).to_have_class(re.compile(r"\bis-done\b"))

    page.goto("/tasks?status=all")
    row = page.locator(f"#task-{task_id}")
    row.get_by_role("link", name=re.compile("Edit")).click()
    expect(page).to_have_url(re.compile(rf"/tasks/{task_id}/edit$"))
    page.get_by_label("Title").fill("Renamed without JS")
    with server_answer(page, "POST", rf"/tasks/{task_id}") as answer:
        page.get_by_role("button", name="Save").click()
    assert answer.value.status == 303
    expect(page.get_by_text("Saved “Renamed without JS”.")).to_be_visible()
    assert get_task(app, task_id).title == "Renamed without JS"

    page.goto("/tasks?status=all")
    with server_answer(page, "POST", rf"/tasks/{task_id}/delete") as answer:
        page.locator(f"#task-{task_id}").get_by_role("button", name=re.compile("Delete")).click()
    assert answer.value.status == 303
    expect(page.locator(f"#task-{task_id}")).to_have_count(0)
    expect(page.get_by_text("Deleted “Renamed without JS”.")).to_be_visible()
    assert get_task(app, task_id).deleted_at is not None
    with server_answer(page, "POST", "/tasks/restore") as answer:
        page.get_by_role("button", name="Undo").click()
    assert answer.value.status == 303
    expect(page.locator(f"#task-{task_id}")).to_be_visible()
    assert get_task(app, task_id).deleted_at is None


def test_filter_and_bulk_without_js(app, nojs):
    a = add_task(app, title="Tagged A", tags=["Work"])
    b = add_task(app, title="Tagged B", tags=["Work"])
    add_task(app, title="Untagged")
    page = nojs
    page.reload()
    page.get_by_label("Tag", exact=True).select_option("Work")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"tag=Work"))
    expect(page.locator(".task-row")).to_have_count(2)

    page.get_by_role("checkbox", name="Select: Tagged A").check()
    page.get_by_role("checkbox", name="Select: Tagged B").check()
    page.get_by_label("Bulk action", exact=True).select_option("priority")
    page.get_by_label("Priority for bulk action").select_option("3")
    with server_answer(page, "POST", "/tasks/bulk") as answer:
        page.get_by_role("button", name="Apply").click()
    assert answer.value.status == 303
    expect(page.get_by_text("Updated 2 tasks.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"tag=Work"))  # back to the same view
    assert get_task(app, a).priority == get_task(app, b).priority == 3


def test_help_and_tags_pages_without_js(app, nojs):
    page = nojs
    page.get_by_role("link", name="All shortcuts").click()
    expect(page.get_by_role("heading", name="Keyboard shortcuts")).to_be_visible()
    page.goto("/tags")
    page.get_by_label("Name").fill("Errands")
    page.get_by_role("button", name="Create tag").click()
    expect(page.get_by_text("Tag “Errands” created.")).to_be_visible()
    page.get_by_role("link", name=re.compile("Edit")).click()
    page.get_by_label("Name").fill("Chores")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Tag “Chores” saved.")).to_be_visible()
    with app.app_context():
        assert db.session.scalars(select(Tag.name)).all() == ["Chores"]
