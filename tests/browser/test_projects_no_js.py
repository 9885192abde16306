"""Projects with JavaScript turned off: create one, add to it from its page and with `+name`,
move a task there with the bulk bar, archive and unarchive it, delete it after moving its
tasks, all through plain forms."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Project, Task
from tests.browser.helpers import server_answer
from tests.helpers import add_task, get_task

pytestmark = pytest.mark.browser


def _project_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Project.id).where(Project.name == name))


def _project_of(app, title: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Task.project_id).where(Task.title == title))


def test_projects_without_js(app, nojs):
    page = nojs
    inbox_task = add_task(app, title="From the inbox")
    page.goto("/projects")
    page.get_by_label("Name").fill("Garden")
    with server_answer(page, "POST", "/projects") as answer:
        page.get_by_role("button", name="Create project").click()
    assert answer.value.status == 303
    garden = _project_id(app, "Garden")
    expect(page).to_have_url(re.compile(rf"/projects/{garden}$"))

    # Quick add on its page adds there; +name from the Inbox too.
    page.get_by_label("New task").fill("Plant tulips")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".task-row", has_text="Plant tulips")).to_be_visible()
    assert _project_of(app, "Plant tulips") == garden
    page.goto("/tasks")
    page.get_by_label("New task").fill("Buy seeds +garden")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("Added “Buy seeds” to Garden.")).to_be_visible()
    assert _project_of(app, "Buy seeds") == garden

    # The bulk bar moves a task.
    page.get_by_role("checkbox", name="Select: From the inbox").check()
    page.get_by_label("Bulk action", exact=True).select_option("move")
    page.get_by_label("Project to move to").select_option(str(garden))
    with server_answer(page, "POST", "/tasks/bulk") as answer:
        page.get_by_role("button", name="Apply").click()
    assert answer.value.status == 303
    expect(page.get_by_text("Updated 1 task.")).to_be_visible()
    assert get_task(app, inbox_task).project_id == garden

    # Archive and unarchive from its settings.
    page.goto(f"/projects/{garden}/settings")
    page.get_by_role("button", name="Archive").click()
    expect(page.get_by_text("Project “Garden” archived")).to_be_visible()
    page.get_by_role("button", name="Unarchive Garden").click()
    expect(page.get_by_text("is back, with all its tasks")).to_be_visible()

    # Delete, moving its 3 tasks to the Inbox first.
    page.goto(f"/projects/{garden}/delete")
    expect(page.get_by_text("Its 3 tasks will be deleted with it")).to_be_visible()
    page.get_by_label("Move its tasks first to").select_option(label="Inbox")
    page.get_by_role("button", name="Delete project").click()
    expect(page.get_by_text("Project “Garden” deleted. Its 3 tasks moved first.")).to_be_visible()
    assert _project_id(app, "Garden") is None
    assert get_task(app, inbox_task).project_id != garden
