"""The controls each role sees (access.can_edit decides them all): a project's page, a row
answered on its own, a task's page and the rows answered to a change. The routes' own
refusals are tests/test_role_matrix.py's."""

from __future__ import annotations

import html

import pytest

from app.models import Role
from tests.helpers import HTMX, add_member, add_project, add_task, create_user, login, post

EVE, ADA = "eve@example.com", "ada@example.com"
ROLES = {"owner": Role.OWNER, "admin": Role.ADMIN, "editor": Role.EDITOR, "viewer": Role.VIEWER}


def _signed_in_with(app, client, who: str) -> tuple[int, int]:
    """Ada signed in, with the role `who` in a project "Shared" (Eve's, unless Ada owns it)
    holding one task: (project id, task id)."""
    create_user(app, email=ADA, name="Ada")
    create_user(app, email=EVE, name="Eve")
    owner = ADA if who == "owner" else EVE
    project_id = add_project(app, owner, name="Shared")
    task_id = add_task(app, owner, project_id=project_id, title="Inside")
    if who != "owner":
        add_member(app, project_id, ADA, ROLES[who])
    assert login(client, email=ADA).status_code == 302
    return project_id, task_id


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def _row_controls(row: str, task_id: int) -> dict[str, bool]:
    return {
        "select": f'name="ids" value="{task_id}"' in row,
        "done": f'formaction="/tasks/{task_id}/toggle"' in row,
        "edit": f"/tasks/{task_id}/edit" in row,
        "delete": f"/tasks/{task_id}/delete" in row,
    }


@pytest.mark.parametrize("who", list(ROLES))
def test_a_row_and_the_task_page_offer_changes_only_to_editors_and_above(app, client, who):
    _, task_id = _signed_in_with(app, client, who)
    can_edit = ROLES[who] >= Role.EDITOR
    # The row alone (what Escape in the editor swaps back in).
    row = _text(client.get(f"/tasks/{task_id}/row", headers=HTMX))
    assert "Inside" in row and "<html" not in row
    assert _row_controls(row, task_id) == dict.fromkeys(
        ("select", "done", "edit", "delete"), can_edit
    )
    page = _text(client.get(f"/tasks/{task_id}"))
    assert "Inside" in page
    assert (f'href="/tasks/{task_id}/edit"' in page) == can_edit


def test_the_rows_answered_to_an_editors_change_keep_their_controls(app, client):
    _, task_id = _signed_in_with(app, client, "editor")
    everything = dict.fromkeys(("select", "done", "edit", "delete"), True)
    ticked = _text(post(client, f"/tasks/{task_id}/toggle", {"done": "1"}, htmx=True))
    assert _row_controls(ticked, task_id) == everything
    editor = _text(client.get(f"/tasks/{task_id}/edit", headers=HTMX))
    version = editor.split('name="version" type="hidden" value="')[1].split('"')[0]
    saved = post(
        client,
        f"/tasks/{task_id}",
        {"title": "Renamed", "priority": "0", "version": version, "repeat": "", "interval": "1"},
        htmx=True,
    )
    row = _text(saved)
    assert "Renamed" in row
    assert _row_controls(row, task_id) == everything


@pytest.mark.parametrize("who", list(ROLES))
def test_a_projects_pages_show_each_role_only_the_controls_it_can_use(app, client, who):
    project_id, _ = _signed_in_with(app, client, who)
    can_edit, can_admin = ROLES[who] >= Role.EDITOR, ROLES[who] >= Role.ADMIN
    page = _text(client.get(f"/projects/{project_id}"))
    assert "Inside" in page
    assert ('id="quick-add"' in page) == can_edit
    assert ('id="bulk-form"' in page) == can_edit
    assert ("data-opens-editor" in page) == can_edit
    assert ('class="done-box"' in page) == can_edit
    assert (f"/projects/{project_id}/settings" in page) == can_admin
    listing = _text(client.get("/projects"))
    assert "Shared" in listing
    assert (f"/projects/{project_id}/settings" in listing) == can_admin
    if can_admin:
        settings = _text(client.get(f"/projects/{project_id}/settings"))
        assert (f"/projects/{project_id}/delete" in settings) == (who == "owner")
