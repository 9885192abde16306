"""Projects: create, list, one project's task list, rename, recolour, archive, delete (with
its tasks, or after moving them), and moving tasks between projects. What a user sees
(status codes, text), and the rows in the database."""

from __future__ import annotations

import html
import re
import threading
import time

import pytest
from sqlalchemy import insert, select, text

from app.database import PROJECT_NAMES
from app.extensions import db
from app.models import Membership, Project, Role, Task
from tests.helpers import (
    HTMX,
    PASSWORD,
    add_member,
    add_project,
    add_task,
    count,
    create_user,
    csrf_token,
    get_task,
    inbox_of,
    login,
    post,
    post_form,
    user_id,
)
from tests.live import Client, all_at_once, gunicorn

EVE = "eve@example.com"


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _words(response) -> str:
    """The page's text without its tags, spaces collapsed: what a reader reads."""
    return " ".join(re.sub(r"<[^>]+>", " ", _text(response)).split())


def _form(client, path, data, *, htmx=False):
    """A form posted from the projects page, as a browser with (htmx) or without JS."""
    return post_form(client, path, data, token_from="/projects", headers=HTMX if htmx else None)


def _signed_in(app, email, name):
    create_user(app, email=email, name=name)
    client = app.test_client()
    assert login(client, email=email).status_code == 302
    return client


def _project_row(app, project_id) -> Project | None:
    with app.app_context():
        project = db.session.get(Project, project_id)
        if project is not None:
            db.session.expunge(project)
        return project


def _inbox(app, email="ada@example.com") -> int:
    with app.app_context():
        return inbox_of(email)[1]


# ---- create and list ----------------------------------------------------------------------


def test_create_trims_the_name_and_makes_the_user_its_owner(app, auth_client):
    response = _form(auth_client, "/projects", {"name": "  Home   reno ", "colour": "#A1B2C3"})
    assert response.status_code == 303
    with app.app_context():
        project = db.session.scalar(select(Project).where(Project.name_key == "home reno"))
        assert (project.name, project.colour, project.inbox_of_id) == ("Home reno", "#a1b2c3", None)
        [membership] = project.memberships
        assert membership.role == Role.OWNER
    assert response.headers["Location"].endswith(f"/projects/{project.id}")
    page = _text(auth_client.get(response.headers["Location"]))
    assert "Project “Home reno” created." in page and "<h1>" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "   ", "colour": "#112233"}, "A project needs a name."),
        ({"name": "x" * 81, "colour": "#112233"}, "A project name is at most 80 characters."),
        ({"name": "Work", "colour": "red"}, "Use a colour like #4f46e5."),
        ({"name": "Work\x00", "colour": "#112233"}, "control characters"),
    ],
)
def test_create_refuses_bad_input_with_422_and_a_message(app, auth_client, data, message):
    response = _form(auth_client, "/projects", data)
    assert response.status_code == 422
    assert message in _text(response)
    assert count(app, Project, Project.inbox_of_id.is_(None)) == 0


def test_a_name_is_unique_among_the_users_own_projects_only(app, auth_client):
    add_project(app, name="Work")
    response = _form(auth_client, "/projects", {"name": "WORK", "colour": "#112233"})
    assert response.status_code == 422
    assert "You already have a project with this name." in _text(response)
    # Someone else may have their own "Work".
    eve = _signed_in(app, EVE, "Eve")
    assert _form(eve, "/projects", {"name": "work", "colour": "#112233"}).status_code == 303
    assert count(app, Project, Project.name_key == "work") == 2


def test_the_list_shows_open_counts_and_archived_projects_apart(app, auth_client):
    work = add_project(app, name="Work")
    old = add_project(app, name="Old stuff")
    add_task(app, project_id=work, title="one")
    add_task(app, project_id=work, title="two")
    add_task(app, project_id=work, title="done", done=True)
    add_task(app, project_id=old, title="kept")
    assert _form(auth_client, f"/projects/{old}/archive", {}).status_code == 303
    page = _text(auth_client.get("/projects")).split("<h1>Projects</h1>")[1]
    live, archived = page.split("<h2>Archived</h2>")
    assert "Work" in live and "2 open" in live and "Old stuff" not in live
    assert "Old stuff" in archived and "1 open" in archived and "Unarchive" in archived


# ---- one project's list -------------------------------------------------------------------


def _titles(client, url, **kwargs) -> list[str]:
    page = client.get(url, **kwargs).get_data(as_text=True)
    return [html.unescape(t) for t in re.findall(r'class="task-title"[^>]*>([^<]*)<', page)]


def test_a_projects_page_lists_its_tasks_with_the_lists_filters_and_pages(app, auth_client):
    work = add_project(app, name="Work")
    for n in range(5):
        add_task(app, project_id=work, title=f"Work {n}")
    add_task(app, title="In the inbox")
    assert sorted(_titles(auth_client, f"/projects/{work}")) == [f"Work {n}" for n in range(5)]
    assert _titles(auth_client, "/tasks") == ["In the inbox"]
    assert _titles(auth_client, f"/projects/{work}?q=work+3") == ["Work 3"]
    # Keyset "Load more" stays on the project's URL.
    page = auth_client.get(f"/projects/{work}?sort=created&limit=2").get_data(as_text=True)
    more = re.search(rf'hx-get="(/projects/{work}\?[^"]*after=[^"]+)"', page).group(1)
    more = html.unescape(more)
    fragment = auth_client.get(more, headers=HTMX).get_data(as_text=True)
    assert "<html" not in fragment and "Work 2" in fragment and "Work 0" not in fragment
    # The filters' htmx fragment is the list region only.
    fragment = auth_client.get(f"/projects/{work}?q=work", headers=HTMX).get_data(as_text=True)
    assert "<html" not in fragment and 'id="task-results"' in fragment


def test_the_inbox_has_no_project_page_of_its_own(app, auth_client):
    response = auth_client.get(f"/projects/{_inbox(app)}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/tasks")


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_quick_add_on_a_projects_page_adds_to_that_project(app, auth_client, htmx):
    work = add_project(app, name="Work")
    headers = {"Referer": f"http://localhost/projects/{work}", **(HTMX if htmx else {})}
    response = auth_client.post(
        "/tasks",
        data={
            "title": "Plan the week",
            "project_id": str(work),
            "csrf_token": csrf_token(auth_client, f"/projects/{work}"),
        },
        headers=headers,
    )
    with app.app_context():
        task = db.session.scalar(select(Task).where(Task.title == "Plan the week"))
        assert task.project_id == work
    if htmx:
        assert response.status_code == 200 and f'id="task-{task.id}"' in _text(response)
    else:
        assert response.status_code == 303
        assert response.headers["Location"].endswith(f"/projects/{work}")


def test_quick_add_with_a_bad_title_rerenders_the_projects_page_without_js(app, auth_client):
    work = add_project(app, name="Work")
    data = {"title": "#only-a-tag", "project_id": str(work)}
    response = post_form(auth_client, "/tasks", data, token_from="/tasks")
    assert response.status_code == 422
    page = _text(response)
    assert "Add a title as well" in page and f'action="/projects/{work}"' in page


# ---- settings: rename, recolour, archive --------------------------------------------------


def test_rename_and_recolour(app, auth_client):
    work = add_project(app, name="Work")
    add_project(app, name="Home")
    assert "Settings of “Work”" in _text(auth_client.get(f"/projects/{work}/settings"))
    response = _form(auth_client, f"/projects/{work}", {"name": "Job", "colour": "#00FF00"})
    assert response.status_code == 303
    project = _project_row(app, work)
    assert (project.name, project.name_key, project.colour) == ("Job", "job", "#00ff00")
    taken = _form(auth_client, f"/projects/{work}", {"name": "home", "colour": "#00ff00"})
    assert taken.status_code == 422 and "already have a project" in _text(taken)
    # Its own name in another case is not "taken".
    same = _form(auth_client, f"/projects/{work}", {"name": "JOB", "colour": "#00ff00"})
    assert same.status_code == 303 and _project_row(app, work).name == "JOB"


def test_archive_takes_a_project_out_of_the_way_and_unarchive_brings_it_back_whole(
    app, auth_client
):
    work = add_project(app, name="Work")
    ids = [add_task(app, project_id=work, title=f"W{n}", tags=["t"]) for n in range(3)]
    assert _form(auth_client, f"/projects/{work}/archive", {}).status_code == 303
    assert _project_row(app, work).archived_at is not None
    nav = _text(auth_client.get("/tasks")).split('aria-label="Projects"')[1].split("</nav>")[0]
    assert "Work" not in nav
    # Quick add no longer reaches it.
    post(auth_client, "/tasks", {"title": "x +work"})
    with app.app_context():
        assert (
            db.session.scalar(select(Task.project_id).where(Task.title == "x +work"))
            == (inbox_of()[1])
        )
    # Its page still opens, saying it is archived.
    assert "Archived" in _text(auth_client.get(f"/projects/{work}"))
    assert _form(auth_client, f"/projects/{work}/unarchive", {}).status_code == 303
    assert _project_row(app, work).archived_at is None
    assert all(get_task(app, i).project_id == work for i in ids)
    assert sorted(_titles(auth_client, f"/projects/{work}")) == ["W0", "W1", "W2"]


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/projects/{id}", {"name": "Mine", "colour": "#112233"}),
        ("/projects/{id}/archive", {}),
        ("/projects/{id}/unarchive", {}),
        ("/projects/{id}/delete", {}),
    ],
)
def test_the_inbox_cannot_be_renamed_archived_or_deleted(app, auth_client, path, data):
    inbox = _inbox(app)
    add_task(app, title="Stays")
    response = _form(auth_client, path.format(id=inbox), data)
    assert response.status_code == 409
    assert "Your Inbox cannot be renamed, archived or deleted." in _text(response)
    project = _project_row(app, inbox)
    assert (project.name, project.archived_at) == ("Inbox", None)
    assert count(app, Task) == 1
    assert auth_client.get(f"/projects/{inbox}/delete").status_code == 409


# ---- delete -------------------------------------------------------------------------------


def test_delete_says_how_many_tasks_go_and_takes_them_with_it(app, auth_client):
    work = add_project(app, name="Work")
    for n in range(3):
        add_task(app, project_id=work, title=f"W{n}", tags=["t"])
    add_task(app, title="Inbox task")
    page = _words(auth_client.get(f"/projects/{work}/delete"))
    assert "Its 3 tasks will be deleted with it" in page
    response = _form(auth_client, f"/projects/{work}/delete", {"move_to": "0"})
    assert response.status_code == 303
    assert _project_row(app, work) is None
    assert count(app, Membership, Membership.project_id == work) == 0
    assert count(app, Task) == 1  # the Inbox's


def test_delete_can_move_the_tasks_to_another_project_first(app, auth_client):
    work, home = add_project(app, name="Work"), add_project(app, name="Home")
    ids = [add_task(app, project_id=work, title=f"W{n}") for n in range(2)]
    response = _form(auth_client, f"/projects/{work}/delete", {"move_to": str(home)})
    assert response.status_code == 303
    assert "Its 2 tasks moved first." in _text(auth_client.get("/projects"))
    assert _project_row(app, work) is None
    assert [get_task(app, i).project_id for i in ids] == [home, home]


def test_delete_cannot_move_tasks_to_a_project_the_user_cannot_add_to(app, auth_client):
    create_user(app, email=EVE, name="Eve")
    work = add_project(app, name="Work")
    theirs = add_project(app, EVE, name="Eve's")
    add_member(app, theirs, "ada@example.com", Role.VIEWER)
    task = add_task(app, project_id=work)
    for target in (theirs, add_project(app, EVE, name="Not shared")):
        response = _form(auth_client, f"/projects/{work}/delete", {"move_to": str(target)})
        assert response.status_code == 422 and "Not a valid choice" in _text(response)
    assert get_task(app, task).project_id == work


# ---- moving tasks -------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_bulk_move_to_project(app, auth_client, htmx):
    work = add_project(app, name="Work")
    ids = [add_task(app, title=f"T{n}") for n in range(3)]
    data = {"action": "move", "project": str(work), "ids": [str(i) for i in ids[:2]]}
    response = post(auth_client, "/tasks/bulk", data, htmx=htmx)
    assert response.status_code == (200 if htmx else 303)
    if htmx:  # the Inbox's list, without the moved tasks
        assert "Updated 2 tasks." in _text(response)
        assert _titles(auth_client, "/tasks") == ["T2"]
    assert [get_task(app, i).project_id for i in ids] == [work, work, _inbox(app)]
    assert get_task(app, ids[0]).version == 2
    refused = post(auth_client, "/tasks/bulk", {"action": "move", "ids": [str(ids[2])]})
    assert refused.status_code == 422 and "Choose the project" in _text(refused)


def test_moving_needs_editor_on_both_projects(app, auth_client):
    create_user(app, email=EVE, name="Eve")
    viewing, editing = add_project(app, EVE, name="Viewing"), add_project(app, EVE, name="Ed")
    hidden = add_project(app, EVE, name="Hidden")
    add_member(app, viewing, "ada@example.com", Role.VIEWER)
    add_member(app, editing, "ada@example.com", Role.EDITOR)
    mine = add_task(app, title="Mine")
    seen = add_task(app, EVE, project_id=viewing, title="Seen")

    def move(task_id, target):
        data = {"action": "move", "project": str(target), "ids": [str(task_id)]}
        return post(auth_client, "/tasks/bulk", data).status_code

    assert move(mine, viewing) == 403  # may not add there
    assert move(mine, hidden) == 404  # not a member: no such project
    assert move(seen, editing) == 403  # may not take it from there
    assert get_task(app, mine).project_id == _inbox(app)
    assert get_task(app, seen).project_id == viewing
    assert move(mine, editing) == 303
    assert get_task(app, mine).project_id == editing


def _editor_data(app, task_id, **changes):
    task = get_task(app, task_id)
    return {"title": task.title, "priority": "0", "version": str(task.version), **changes}


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_the_editor_moves_a_task_to_another_project(app, auth_client, htmx):
    work = add_project(app, name="Work")
    task = add_task(app, title="Move me")
    editor = _text(auth_client.get(f"/tasks/{task}/edit"))
    assert '<select id="project_id" name="project_id"' in editor and ">Work</option>" in editor
    response = post(
        auth_client, f"/tasks/{task}", _editor_data(app, task, project_id=str(work)), htmx=htmx
    )
    assert response.status_code == (200 if htmx else 303)
    if htmx:  # the row leaves the Inbox's list; the message says where it went
        body = _text(response)
        assert f'id="task-{task}"' not in body and "moved it to Work" in body
    assert get_task(app, task).project_id == work


def test_the_editor_refuses_a_project_the_user_cannot_add_to(app, auth_client):
    create_user(app, email=EVE, name="Eve")
    viewing = add_project(app, EVE, name="Viewing")
    add_member(app, viewing, "ada@example.com", Role.VIEWER)
    task = add_task(app, title="Stay")
    assert ">Viewing</option>" not in _text(auth_client.get(f"/tasks/{task}/edit"))
    for target in (viewing, add_project(app, EVE, name="Hidden")):
        response = post(auth_client, f"/tasks/{task}", _editor_data(app, task, project_id=target))
        assert response.status_code == 422
    assert get_task(app, task).project_id == _inbox(app)


def test_a_moved_task_loses_an_assignee_who_is_not_a_member_there(app, auth_client):
    create_user(app, email=EVE, name="Eve")
    shared, work = add_project(app, name="Shared"), add_project(app, name="Work")
    add_member(app, shared, EVE, Role.EDITOR)
    with app.app_context():
        eve = inbox_of(EVE)[0]
    task = add_task(app, project_id=shared, title="Eve's job", assignee_id=eve)
    post(auth_client, "/tasks/bulk", {"action": "move", "project": str(work), "ids": [str(task)]})
    assert get_task(app, task).assignee_id is None


def test_an_admin_renames_within_the_owners_names(app, client):
    create_user(app, email="ada@example.com", name="Ada")
    create_user(app, email=EVE, name="Eve")
    shared = add_project(app, EVE, name="Shared")
    add_project(app, EVE, name="Eve's other")
    add_project(app, name="Ada's own")
    add_member(app, shared, "ada@example.com", Role.ADMIN)
    assert login(client).status_code == 302
    taken = _form(client, f"/projects/{shared}", {"name": "EVE'S OTHER", "colour": "#123456"})
    assert taken.status_code == 422
    assert "Its owner already has a project with this name." in _text(taken)
    renamed = _form(client, f"/projects/{shared}", {"name": "Ada's own", "colour": "#123456"})
    assert renamed.status_code == 303 and _project_row(app, shared).name == "Ada's own"


def test_bulk_actions_on_a_projects_page_answer_with_that_projects_list(app, auth_client):
    work = add_project(app, name="Work")
    ids = [add_task(app, project_id=work, title=f"W{n}") for n in range(2)]
    add_task(app, title="Inbox task")
    headers = {
        "X-CSRFToken": csrf_token(auth_client, f"/projects/{work}"),
        "HX-Current-URL": f"http://localhost/projects/{work}?status=all",
        **HTMX,
    }
    data = {"action": "done", "ids": [str(ids[0])]}
    body = _text(auth_client.post("/tasks/bulk", data=data, headers=headers))
    assert "Updated 1 task." in body
    assert "W0" in body and "W1" in body and "Inbox task" not in body  # status=all kept
    # Deleting, then undoing, from the project's page: its list again.
    deleted = _text(auth_client.post(f"/tasks/{ids[1]}/delete", headers=headers))
    assert "W1" in deleted
    restored = auth_client.post("/tasks/restore", data={"ids": str(ids[1])}, headers=headers)
    assert "Restored 1 task." in _text(restored) and "Inbox task" not in _text(restored)
    assert get_task(app, ids[1]).deleted_at is None


# ---- two tabs creating the same name at once -------------------------------------------------


def test_many_tabs_creating_one_name_at_once_make_one_project(app, database_url):
    """Eight POSTs of "Work" for Ada, released together against gunicorn: one creates it,
    the others are told the name is taken; one row."""
    create_user(app)
    with gunicorn(database_url, workers=2, threads=4) as base:
        client = Client(base)
        assert client.login("ada@example.com", PASSWORD).status == 302
        token = client.csrf("/projects")
        cookies = dict(client.cookies)

        def create():
            tab = Client(base)
            tab.cookies = dict(cookies)
            form = {"name": "Work", "colour": "#112233", "csrf_token": token}
            return tab.request("POST", "/projects", form).status

        statuses = all_at_once([create] * 8)
    assert sorted(statuses) == [303] + [422] * 7, statuses
    assert count(app, Project, Project.name_key == "work") == 1


def test_a_create_waits_for_another_transaction_checking_the_same_users_names(
    app, auth_client, database_url
):
    """Deterministic half of the test above, on PostgreSQL (SQLite's writes already go one at
    a time): while another transaction holds Ada's project-name lock and creates "Work", her
    own "Work" waits, then finds the name taken."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises every write transaction")
    with app.app_context():
        ada = user_id(app)
        holder = db.engine.connect()
    answered = []
    try:
        with holder.begin():
            holder.execute(
                text("SELECT pg_advisory_xact_lock(:ns, :key)"),
                {"ns": PROJECT_NAMES, "key": ada},
            )
            request = threading.Thread(
                target=lambda: answered.append(
                    _form(auth_client, "/projects", {"name": "Work", "colour": "#112233"})
                )
            )
            request.start()
            _wait_for_a_lock_waiter(holder)
            assert not answered, "the create did not wait for the lock"
            project = holder.execute(
                insert(Project).returning(Project.id),
                {"name": "Work", "name_key": "work", "colour": "#336699"},
            ).scalar_one()
            holder.execute(
                insert(Membership), {"project_id": project, "user_id": ada, "role": Role.OWNER}
            )
        request.join(30)
    finally:
        holder.close()
    assert answered and answered[0].status_code == 422
    assert "You already have a project with this name." in _text(answered[0])
    assert count(app, Project, Project.name_key == "work") == 1


def _wait_for_a_lock_waiter(conn, seconds: float = 30) -> None:
    """Until some backend waits for an advisory lock (pg_locks: not granted)."""
    deadline = time.monotonic() + seconds
    waiting = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    while not conn.execute(waiting).scalar():
        assert time.monotonic() < deadline, "nobody waited for the lock"
        time.sleep(0.05)
