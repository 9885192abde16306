"""Undo after the role changed: an editor deletes a task, an admin makes them a viewer, and
their Undo (the toast's button, with or without JavaScript) is refused with a message saying
what their role allows, never a server error, and the task stays deleted."""

from __future__ import annotations

import html

import pytest

from app.access import REFUSALS
from app.models import Role
from tests.helpers import (
    HTMX,
    add_member,
    add_project,
    add_task,
    create_user,
    csrf_token,
    get_task,
    login,
    post,
    user_id,
)

CY = "cy@example.com"


@pytest.fixture
def team(app):
    """Ada's project "Team" with Cy as an editor, and a task in it: (project id, task id)."""
    create_user(app, email="ada@example.com", name="Ada")
    create_user(app, email=CY, name="Cy")
    project_id = add_project(app, "ada@example.com", "Team")
    add_member(app, project_id, CY, Role.EDITOR)
    return project_id, add_task(app, project_id=project_id, title="Shared task")


def _signed_in(app, email):
    client = app.test_client()
    assert login(client, email=email).status_code == 302
    return client


def _demote_cy(app, project_id: int) -> None:
    """Ada makes Cy a viewer, through the members page's form."""
    ada = _signed_in(app, "ada@example.com")
    path = f"/projects/{project_id}/members/{user_id(app, CY)}/role"
    assert post(ada, path, {"role": str(int(Role.VIEWER))}).status_code == 303


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


REFUSAL = REFUSALS[Role.EDITOR]


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain form"])
def test_undo_after_being_made_a_viewer_is_refused_and_the_task_stays_deleted(app, team, htmx):
    project_id, task_id = team
    cy = _signed_in(app, CY)
    deleted = post(cy, f"/tasks/{task_id}/delete", htmx=htmx)
    assert deleted.status_code == (200 if htmx else 303)
    if htmx:
        assert "Deleted “Shared task”." in _text(deleted)
    _demote_cy(app, project_id)

    undo = post(cy, "/tasks/restore", {"ids": str(task_id)}, htmx=htmx)
    assert undo.status_code == 403
    body = _text(undo)
    assert REFUSAL in body
    assert ("<html" in body) is not htmx  # a fragment for htmx, the error page without
    assert get_task(app, task_id).deleted_at is not None
    assert "Shared task" not in _text(cy.get(f"/projects/{project_id}"))


def test_the_page_after_a_plain_delete_shows_without_undo_once_the_role_is_gone(app, team):
    """Without JavaScript the toast comes with the next page: made a viewer in between, Cy
    gets the project's page (not a refusal of the whole list), with no Undo they may not use."""
    project_id, task_id = team
    add_task(app, project_id=project_id, title="Still here")
    cy = _signed_in(app, CY)
    token = csrf_token(cy, f"/projects/{project_id}")
    deleted = cy.post(
        f"/tasks/{task_id}/delete",
        data={"csrf_token": token},
        headers={"Referer": f"http://localhost/projects/{project_id}"},
    )
    assert deleted.status_code == 303
    assert deleted.headers["Location"] == f"/projects/{project_id}"
    _demote_cy(app, project_id)

    page = cy.get(deleted.headers["Location"])
    assert page.status_code == 200
    body = _text(page)
    assert "Still here" in body and "Shared task" not in body
    assert 'action="/tasks/restore"' not in body and "Deleted “Shared task”." not in body
    assert get_task(app, task_id).deleted_at is not None
    # The project's page as a viewer sees it: nothing to change.
    assert 'id="quick-add"' not in body
    assert cy.get(f"/projects/{project_id}", headers=HTMX).status_code == 200
