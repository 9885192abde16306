"""The task list: every action in both modes (htmx fragment and plain form), with the rules
on ownership, versions, validation and query counts."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    LoginSession,
    Membership,
    Notification,
    Project,
    Tag,
    Task,
    task_tags,
    utcnow,
)
from app.tasks.forms import BULK_ACTIONS
from tests.helpers import (
    HTMX,
    add_project,
    add_task,
    app_today,
    count,
    count_queries,
    create_user,
    csrf_token,
    edit_data,
    get_task,
    inbox_of,
    login,
    post,
    user_id,
)
from tests.security_figures import add


def text(response) -> str:
    return response.get_data(as_text=True)


# ---- listing ----------------------------------------------------------------------------


def test_list_shows_only_my_tasks_with_their_details(app, auth_client):
    create_user(app, email="eve@example.com", name="Eve")
    today = app_today(app)
    mine = add_task(
        app, title="Pay rent", due_date=today - timedelta(days=1), priority=3, tags=["Home"]
    )
    done = add_task(app, title="Old thing", done=True)
    add_task(app, "eve@example.com", title="Eve's secret")
    body = text(auth_client.get("/tasks?status=all"))
    assert f'id="task-{mine}"' in body and f'id="task-{done}"' in body
    assert "Eve&#39;s secret" not in body and "Eve's secret" not in body
    row = re.search(rf'<div role="row" id="task-{mine}".*?\n</div>', body, re.S).group(0)
    assert f'<time class="due-overdue" datetime="{(today - timedelta(days=1)).isoformat()}"' in row
    assert "High priority" in row and ">Home</a>" in row
    done_row = re.search(rf'<div role="row" id="task-{done}".*?\n</div>', body, re.S).group(0)
    # The done box is ticked (its row is done) and reopens; an open task's box marks it done.
    assert 'class="task-row is-done"' in done_row and "is-done" not in row
    done_box = re.compile(r'<button class="done-box"[^>]* value="(\d)" aria-labelledby="(l-\w+) ')
    assert done_box.search(done_row).groups() == ("0", "l-reopen")
    assert done_box.search(row).groups() == ("1", "l-mark")


def test_open_tasks_by_default_and_status_filter(app, auth_client):
    add_task(app, title="Open one")
    add_task(app, title="Finished one", done=True)
    assert "Finished one" not in text(auth_client.get("/tasks"))
    done_view = text(auth_client.get("/tasks?status=done"))
    assert "Finished one" in done_view and "Open one" not in done_view


def test_list_fragment_for_htmx_is_just_the_results(app, auth_client):
    """Search and filters swap the rows and "load more" only: not the filter bar, the bulk bar,
    quick add or any form's token (each keystroke's answer carries nothing that stays)."""
    add_task(app, title="x marks the spot")
    response = auth_client.get("/tasks?q=x", headers=HTMX)
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body
    assert 'id="task-results"' in body and 'id="load-more"' in body
    assert "x marks the spot" in body
    page = text(auth_client.get("/tasks"))
    stays = ('id="filters"', 'id="bulk-form"', 'id="row-actions"', 'id="quick-add"', 'id="l-mark"')
    for part in stays:
        assert part not in body and part in page
    assert "csrf_token" not in body
    assert "HX-Request" in response.headers["Vary"]
    # The search box asks only when its text changed (htmx's `changed`), after a pause.
    search = re.search(r'<input type="search" id="search"[^>]*>', page).group(0)
    assert 'hx-trigger="input changed delay:250ms, search"' in search


@pytest.mark.parametrize(
    "query",
    [
        "sort=bogus",
        "status=maybe",
        "due=someday",
        "priority=urgent",
        "limit=0",
        "limit=x",
        "after=%%%",
        "after=WzEsMl0",
        "q=" + "x" * 201,
    ],
)
def test_bad_list_parameters_answer_400_with_a_message(auth_client, query):
    response = auth_client.get("/tasks?" + query)
    assert response.status_code == 400
    assert "Bad request" in text(response)


# ---- quick add --------------------------------------------------------------------------


def test_quick_add_without_js_parses_and_redirects(app, auth_client):
    response = post(auth_client, "/tasks", {"title": "Call Ada tomorrow #work !1"})
    assert response.status_code == 303
    [task_id] = _ids(app)
    task = get_task(app, task_id)
    assert task.title == "Call Ada"
    assert task.priority == 3
    assert task.due_date == app_today(app) + timedelta(days=1)
    assert [t.name for t in task.tags] == ["work"]
    assert "Call Ada" in text(auth_client.get("/tasks"))


def test_quick_add_makes_a_repeating_task_that_spawns_its_next_one(app, auth_client):
    response = post(auth_client, "/tasks", {"title": "Call mum every week #family"}, htmx=True)
    assert response.status_code == 200
    [task_id] = _ids(app)
    task = get_task(app, task_id)
    today = app_today(app)
    assert (task.title, task.recurrence, task.due_date) == ("Call mum", "FREQ=WEEKLY", today)
    assert "<dd>Every week</dd>" in text(auth_client.get(f"/tasks/{task_id}"))
    assert post(auth_client, f"/tasks/{task_id}/toggle", {"done": "1"}).status_code == 303
    following = [get_task(app, i) for i in _ids(app) if i != task_id]
    assert [(t.title, t.due_date, t.recurrence) for t in following] == [
        ("Call mum", today + timedelta(days=7), "FREQ=WEEKLY")
    ]


def test_quick_add_with_htmx_returns_the_new_row(app, auth_client):
    response = post(auth_client, "/tasks", {"title": "Buy milk #Home"}, htmx=True)
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body
    [task_id] = _ids(app)
    assert f'id="task-{task_id}"' in body and "Buy milk" in body


def test_quick_add_reuses_an_existing_tag_whatever_its_case(app, auth_client):
    add_task(app, title="first", tags=["Work"])
    post(auth_client, "/tasks", {"title": "second #work"})
    assert count(app, Tag) == 1


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("", "Type a task first."),
        ("#work !1 tomorrow", "Add a title"),
        ("x" * 201, "at most 200"),
        ("bad\x00title", "control characters"),
    ],
)
def test_quick_add_rejects_bad_input_in_place(app, auth_client, title, message):
    response = post(auth_client, "/tasks", {"title": title}, htmx=True)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#quick-add"
    assert message in text(response)
    assert count(app) == 0
    plain = post(auth_client, "/tasks", {"title": title})
    assert plain.status_code == 422 and "<html" in text(plain)


def _ids(app):
    with app.app_context():
        return list(db.session.scalars(select(Task.id).order_by(Task.id)))


# ---- editing ----------------------------------------------------------------------------


def test_editor_fragment_and_page(app, auth_client):
    task_id = add_task(app, title="Write report", notes="draft", tags=["Work"])
    fragment = auth_client.get(f"/tasks/{task_id}/edit", headers=HTMX)
    body = text(fragment)
    assert fragment.status_code == 200 and "<html" not in body
    assert 'value="Write report"' in body and "autofocus" in body
    assert 'name="version" type="hidden" value="1"' in body
    page = auth_client.get(f"/tasks/{task_id}/edit")
    assert "<html" in text(page) and 'value="Write report"' in text(page)


def test_save_with_htmx_returns_the_row_and_bumps_the_version(app, auth_client):
    task_id = add_task(app, title="Write report")
    task = get_task(app, task_id)
    response = post(
        auth_client,
        f"/tasks/{task_id}",
        edit_data(
            task,
            title="Write the report",
            priority="2",
            due_date="2030-01-15",
            tags="Work, urgent",
            repeat="weekly",
            weekdays="MO",
            notes="**bold**",
        ),
        htmx=True,
    )
    assert response.status_code == 200
    assert "<html" not in text(response) and "Write the report" in text(response)
    saved = get_task(app, task_id)
    assert (saved.title, saved.priority, saved.due_date) == (
        "Write the report",
        2,
        date(2030, 1, 15),
    )
    assert sorted(t.name for t in saved.tags) == ["Work", "urgent"]
    assert saved.recurrence and "FREQ=WEEKLY" in saved.recurrence
    assert saved.version == 2


def test_save_without_js_redirects(app, auth_client):
    task_id = add_task(app, title="Old")
    response = post(
        auth_client, f"/tasks/{task_id}", edit_data(get_task(app, task_id), title="New")
    )
    assert response.status_code == 303
    assert get_task(app, task_id).title == "New"


def test_patch_is_accepted_too(app, auth_client):
    task_id = add_task(app, title="Old")
    data = edit_data(get_task(app, task_id), title="Patched")
    assert (
        post(auth_client, f"/tasks/{task_id}", data, htmx=True, method="PATCH").status_code == 200
    )
    assert get_task(app, task_id).title == "Patched"


def test_stale_save_answers_409_and_keeps_both_versions(app, auth_client):
    task_id = add_task(app, title="Original", notes="theirs")
    seen = get_task(app, task_id)
    # Someone else saves first.
    assert (
        post(
            auth_client, f"/tasks/{task_id}", edit_data(seen, title="Their title"), htmx=True
        ).status_code
        == 200
    )
    response = post(auth_client, f"/tasks/{task_id}", edit_data(seen, title="My title"), htmx=True)
    body = text(response)
    assert response.status_code == 409
    assert "Someone saved this task" in body
    assert 'value="My title"' in body  # what I typed
    assert "<dd>Their title</dd>" in body  # what is saved now
    assert 'name="version" type="hidden" value="2"' in body
    assert get_task(app, task_id).title == "Their title"
    # Saving again knowingly overwrites.
    again = post(
        auth_client, f"/tasks/{task_id}", edit_data(seen, title="My title", version="2"), htmx=True
    )
    assert again.status_code == 200 and get_task(app, task_id).title == "My title"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": ""}, "A task needs a title."),
        ({"title": "x" * 201}, "200 characters"),
        ({"due_date": "2026-02-30"}, "Not a valid date value."),
        ({"priority": "9"}, "Not a valid choice."),
        ({"repeat": "hourly"}, "Not a valid choice."),
        ({"interval": "0", "repeat": "daily"}, "between 1 and 365"),
        ({"notes": "x" * 10_001}, "10000 characters"),
        ({"version": ""}, "reload the page"),
        ({"tags": "a" * 51}, "longer than 50"),
    ],
)
def test_invalid_edits_answer_422_in_place_and_change_nothing(app, auth_client, changes, message):
    task_id = add_task(app, title="Keep me")
    response = post(
        auth_client, f"/tasks/{task_id}", edit_data(get_task(app, task_id), **changes), htmx=True
    )
    assert response.status_code == 422
    assert message in text(response)
    assert "<html" not in text(response)
    saved = get_task(app, task_id)
    assert saved.title == "Keep me" and saved.version == 1


def test_cancel_returns_the_unchanged_row(app, auth_client):
    task_id = add_task(app, title="Unchanged")
    response = auth_client.get(f"/tasks/{task_id}/row", headers=HTMX)
    assert response.status_code == 200 and f'id="task-{task_id}"' in text(response)
    assert "data-opens-editor" in text(response)


# ---- done, recurrence ---------------------------------------------------------------------


def test_toggle_done_is_idempotent(app, auth_client):
    task_id = add_task(app, title="Toggle me")
    first = post(auth_client, f"/tasks/{task_id}/toggle", {"done": "1"}, htmx=True)
    assert first.status_code == 200 and 'class="task-row is-done"' in text(first)
    task = get_task(app, task_id)
    assert task.done and task.done_at is not None and task.version == 2
    post(auth_client, f"/tasks/{task_id}/toggle", {"done": "1"}, htmx=True)
    assert get_task(app, task_id).version == 2  # no change the second time
    plain = post(auth_client, f"/tasks/{task_id}/toggle", {})
    assert plain.status_code == 303
    assert get_task(app, task_id).done is False


def test_completing_a_recurring_task_creates_the_next_occurrence(app, auth_client):
    year = app_today(app).year + 1  # in the future, so the schedule (not "today") decides
    due = date(year, 1, 31)
    task_id = add_task(
        app, title="Pay rent", due_date=due, recurrence="FREQ=MONTHLY", tags=["Home"]
    )
    response = post(auth_client, f"/tasks/{task_id}/toggle", {"done": "1"}, htmx=True)
    assert response.status_code == 200
    ids = _ids(app)
    assert len(ids) == 2
    following = get_task(app, ids[1])
    assert following.title == "Pay rent" and not following.done
    assert following.due_date == date(year, 2, 29 if calendar.isleap(year) else 28)
    assert following.recurrence == "FREQ=MONTHLY"
    assert [t.name for t in following.tags] == ["Home"]
    assert f'id="task-{following.id}"' in text(response)
    # Re-ticking the finished one does not spawn a second occurrence.
    post(auth_client, f"/tasks/{task_id}/toggle", {}, htmx=True)
    post(auth_client, f"/tasks/{task_id}/toggle", {"done": "1"}, htmx=True)
    assert len(_ids(app)) == 2


# ---- delete and undo ----------------------------------------------------------------------


def test_delete_with_htmx_leaves_an_undo_toast_and_undo_restores_tags(app, auth_client):
    task_id = add_task(app, title="Oops", tags=["Work", "Home"])
    response = post(auth_client, f"/tasks/{task_id}", htmx=True, method="DELETE")
    body = text(response)
    assert response.status_code == 200
    assert f'<div id="task-{task_id}" class="tombstone" hidden>' in body
    assert "Deleted “Oops”." in body and "Undo" in body
    assert "Oops" not in text(auth_client.get("/tasks"))
    assert auth_client.get(f"/tasks/{task_id}").status_code == 404

    undo = post(auth_client, "/tasks/restore", {"ids": str(task_id)}, htmx=True)
    assert undo.status_code == 200 and f'id="task-{task_id}"' in text(undo)
    restored = get_task(app, task_id)
    assert restored.deleted_at is None
    assert sorted(t.name for t in restored.tags) == ["Home", "Work"]


def test_delete_without_js_shows_undo_on_the_next_page(app, auth_client):
    task_id = add_task(app, title="Plain delete")
    response = post(auth_client, f"/tasks/{task_id}/delete")
    assert response.status_code == 303
    page = text(auth_client.get(response.headers["Location"]))
    assert "Deleted “Plain delete”." in page
    assert 'action="/tasks/restore"' in page
    assert post(auth_client, "/tasks/restore", {"ids": str(task_id)}).status_code == 303
    assert "Plain delete" in text(auth_client.get("/tasks"))


def test_cannot_restore_someone_elses_task(app, auth_client):
    create_user(app, email="eve@example.com", name="Eve")
    theirs = add_task(app, "eve@example.com", title="Eve's", deleted_at=utcnow())
    assert post(auth_client, "/tasks/restore", {"ids": str(theirs)}).status_code == 404
    assert get_task(app, theirs).deleted_at is not None


# ---- ownership ----------------------------------------------------------------------------


def _object_routes(app, argument):
    for rule in app.url_map.iter_rules():
        if argument in rule.arguments:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, rule


ADA = "ada@example.com"


def _everything_of(app, email) -> dict:
    """Every row a user can reach, as plain tuples: their projects and memberships, the
    tasks in those projects (all columns), those tasks' tag links, their tags and their login
    sessions. Equal snapshots: nothing of theirs changed."""
    with app.app_context():
        owner = user_id(app, email)
        theirs = select(Membership.project_id).where(Membership.user_id == owner)
        tables = {
            "projects": select(Project.__table__).where(Project.id.in_(theirs)),
            "memberships": select(Membership.__table__).where(Membership.project_id.in_(theirs)),
            "tasks": select(Task.__table__).where(Task.project_id.in_(theirs)),
            "task_tags": select(task_tags)
            .join(Task, Task.id == task_tags.c.task_id)
            .where(Task.project_id.in_(theirs)),
            "tags": select(Tag.__table__).where(Tag.owner_id == owner),
            "login_sessions": select(LoginSession.__table__).where(LoginSession.user_id == owner),
            "notifications": select(Notification.__table__).where(Notification.user_id == owner),
        }
        return {
            name: sorted(tuple(row) for row in db.session.execute(stmt))
            for name, stmt in tables.items()
        }


def _rows_by_id(snapshot: dict) -> dict:
    return {row[0]: row for row in snapshot["tasks"]}


# A request that changes everything it can: a new title, notes, priority, due date, repeat
# rule and tags with the task's current version (edit), the opposite of the task's done state
# (toggle), a new name and colour (tag). Each request gets objects of its own, fresh, so that
# without the owner check every write would visibly change one (not 409 on a version an
# earlier request bumped, nor 404 on a task it deleted).
def _hijack(n: int, version: int = 1, done: bool = False) -> dict:
    return {
        "title": f"hijack {n}",
        "notes": "hijacked",
        "priority": "3",
        "due_date": "2031-01-01",
        "tags": f"Hijack {n}",
        "repeat": "daily",
        "interval": "1",
        "version": str(version),
        "done": "0" if done else "1",
        "name": f"hijacked {n}",
        "colour": "#000000",
    }


@pytest.mark.security
def test_every_route_with_an_object_id_answers_404_for_another_users_object(app, auth_client):
    # Admin routes take any user's id on purpose (they are admin-only, tested in test_admin).
    # Project and member routes answer non-members 404 in tests/test_role_matrix.py.
    # Unsubscribe links name a kind of mail, not an object (tests/test_digests.py).
    id_arguments = {
        argument
        for rule in app.url_map.iter_rules()
        if not rule.endpoint.startswith(
            ("admin.", "static", "projects.", "sharing.", "unsubscribe.")
        )
        for argument in rule.arguments
    }
    assert id_arguments == {"task_id", "tag_id", "session_id", "notification_id"}, (
        "a new id route: add it below"
    )
    create_user(app, email="eve@example.com", name="Eve")
    eve = app.test_client()
    login(eve, email="eve@example.com")
    eve_id = user_id(app, "eve@example.com")
    with app.app_context():
        their_session = db.session.scalar(
            select(LoginSession.id).where(LoginSession.user_id == eve_id)
        )

    def eves_task(n, done):
        fields = {"done": True, "done_at": utcnow()} if done else {}
        return add_task(app, "eve@example.com", title=f"Eve's {n}", tags=[f"Eve {n}"], **fields)

    def eves_notification(n):
        with app.app_context():
            notification = Notification(user_id=eve_id, kind="assignment", text=f"Eve {n}")
            db.session.add(notification)
            db.session.commit()
            return notification.id

    def eves_tag(n):
        with app.app_context():
            task = db.session.get(Task, eves_task(n, False))
            return task.tags[0].id

    objects = (
        ("task_id", lambda n: eves_task(n, False), {}),
        ("task_id", lambda n: eves_task(n, True), {"done": True}),
        ("tag_id", eves_tag, {}),
        ("session_id", lambda n: their_session, {}),
        ("notification_id", eves_notification, {}),
    )
    token = csrf_token(auth_client, "/tasks")
    endpoints, n = set(), 0
    for argument, make, state in objects:
        for method, rule in _object_routes(app, argument):
            for headers in ({}, HTMX):
                n += 1
                url = rule.build({argument: make(n)})[1]
                before = _everything_of(app, "eve@example.com")
                response = auth_client.open(
                    url,
                    method=method,
                    data=_hijack(n, **state),
                    headers={"X-CSRFToken": token, **headers},
                )
                assert response.status_code == 404, (method, url)
                assert _everything_of(app, "eve@example.com") == before, (method, url)
                endpoints.add(rule.endpoint)
    add("ownership.foreign_object_requests", n)
    # The writes that would show a missing owner check are among those tried.
    writes = {"tasks.toggle", "tasks.update", "tasks.delete", "tags.update", "tags.delete"}
    assert writes | {"account.end_session", "notifications.read"} <= endpoints
    assert eve.get("/tasks").status_code == 200  # her login session was not ended


def test_restore_with_my_ids_and_someone_elses_restores_only_mine(app, auth_client):
    create_user(app, email="eve@example.com", name="Eve")
    mine = add_task(app, title="Mine", deleted_at=utcnow(), tags=["shared"])
    theirs = add_task(app, "eve@example.com", title="Eve's", deleted_at=utcnow(), tags=["shared"])
    eve_before = _everything_of(app, "eve@example.com")
    assert post(auth_client, "/tasks/restore", {"ids": str(theirs)}, htmx=True).status_code == 404
    assert _everything_of(app, "eve@example.com") == eve_before

    response = post(auth_client, "/tasks/restore", {"ids": [str(theirs), str(mine)]}, htmx=True)
    assert response.status_code == 200 and "Restored 1 task." in text(response)
    restored = get_task(app, mine)
    assert restored.deleted_at is None and [t.name for t in restored.tags] == ["shared"]
    assert _everything_of(app, "eve@example.com") == eve_before
    assert "Eve&#39;s" not in text(response)


# What each bulk action sends, and the state a task starts in so that the action changes it.
BULK_CHANGES = {
    "done": ({}, {}),
    "open": ({}, {"done": True}),
    "delete": ({}, {}),
    "tag_add": ({"tag": "Added"}, {}),
    "tag_remove": ({"tag": "shared"}, {}),
    "priority": ({"priority": "3"}, {}),
    "due": ({"due_date": "2031-05-06"}, {}),
    # Into a second project of Ada's, made when the test runs.
    "move": (lambda app: {"project": str(add_project(app, name="Elsewhere"))}, {}),
    # To Ada herself: the one member of her Inbox.
    "assign": (lambda app: {"assignee": str(user_id(app))}, {}),
}


@pytest.mark.security
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
@pytest.mark.parametrize("action", [choice.value for choice in BULK_ACTIONS])
def test_bulk_on_my_ids_and_someone_elses_changes_only_mine(app, auth_client, action, htmx):
    assert set(BULK_CHANGES) == {c.value for c in BULK_ACTIONS}, "a new bulk action: add it"
    fields, state = BULK_CHANGES[action]
    fields = fields(app) if callable(fields) else fields
    create_user(app, email="eve@example.com", name="Eve")
    mine = [add_task(app, title=f"Mine {i}", tags=["shared"], **state) for i in range(2)]
    theirs = add_task(app, "eve@example.com", title="Eve's", tags=["shared"], **state)
    eve_before, my_before = _everything_of(app, "eve@example.com"), _everything_of(app, ADA)

    only_theirs = {"action": action, "ids": [str(theirs)], **fields}
    assert post(auth_client, "/tasks/bulk", only_theirs, htmx=htmx).status_code == 404
    assert _everything_of(app, "eve@example.com") == eve_before

    ids = [str(mine[0]), str(theirs), str(mine[1])]
    response = post(auth_client, "/tasks/bulk", {**only_theirs, "ids": ids}, htmx=htmx)
    assert response.status_code == (200 if htmx else 303)
    if htmx:
        verb = "Deleted" if action == "delete" else "Updated"
        assert f"{verb} {len(mine)} tasks." in text(response)
    assert _everything_of(app, "eve@example.com") == eve_before
    # Every action changes a row of mine (its state, or its version for a tag change).
    before_rows, after_rows = _rows_by_id(my_before), _rows_by_id(_everything_of(app, ADA))
    assert all(before_rows[i] != after_rows[i] for i in mine), action


# ---- filtering, sorting, pages ------------------------------------------------------------


def test_search_filters_title_and_notes_case_insensitively(app, auth_client):
    add_task(app, title="Buy MILK")
    add_task(app, title="Other", notes="remember the milk")
    add_task(app, title="Unrelated")
    body = text(auth_client.get("/tasks?q=milk"))
    assert "Buy MILK" in body and "Other" in body and "Unrelated" not in body
    assert _titles(auth_client, "q=100%25") == []  # LIKE wildcards are literal
    assert _titles(auth_client, "q=_") == []


def test_tag_priority_and_due_filters(app, auth_client):
    today = app_today(app)
    add_task(app, title="Both tags", tags=["a", "b"], priority=3, due_date=today)
    add_task(app, title="Only a", tags=["a"], due_date=today - timedelta(days=3))
    add_task(app, title="No date")
    assert _titles(auth_client, "tag=a") == ["Only a", "Both tags"]
    assert _titles(auth_client, "tag=A&tag=b") == ["Both tags"]
    assert _titles(auth_client, "priority=high") == ["Both tags"]
    assert _titles(auth_client, "due=overdue") == ["Only a"]
    assert _titles(auth_client, "due=today") == ["Both tags"]
    assert _titles(auth_client, "due=week") == ["Both tags"]
    assert _titles(auth_client, "due=none") == ["No date"]


def _titles(client, query):
    body = text(client.get("/tasks?" + query))
    return re.findall(r'class="task-title"[^>]*>([^<]+)</a>', body)


def test_sort_orders_put_tasks_without_due_date_last(app, auth_client):
    today = app_today(app)
    add_task(app, title="Later", due_date=today + timedelta(days=5), priority=1)
    add_task(app, title="None", priority=3)
    add_task(app, title="Sooner", due_date=today + timedelta(days=1), priority=2)
    assert _titles(auth_client, "") == ["Sooner", "Later", "None"]
    assert _titles(auth_client, "sort=-due") == ["Later", "Sooner", "None"]
    assert _titles(auth_client, "sort=priority") == ["None", "Sooner", "Later"]
    assert _titles(auth_client, "sort=-priority") == ["Later", "Sooner", "None"]
    assert _titles(auth_client, "sort=created") == ["Later", "None", "Sooner"]
    assert _titles(auth_client, "sort=-created") == ["Sooner", "None", "Later"]
    assert _titles(auth_client, "sort=title") == ["Later", "None", "Sooner"]


@pytest.mark.parametrize(
    "sort", ["due", "-due", "priority", "-priority", "created", "-created", "title"]
)
def test_keyset_pages_cover_every_task_once(app, auth_client, sort):
    today = app_today(app)
    with app.app_context():
        owner, inbox = inbox_of()
        db.session.add_all(
            Task(
                project_id=inbox,
                created_by_id=owner,
                title=f"T{i % 7} {i}",
                priority=i % 4,
                due_date=None if i % 5 == 0 else today + timedelta(days=i % 9),
            )
            for i in range(57)
        )
        db.session.commit()
    seen, url = [], f"/tasks?sort={sort}&limit=10"
    while url:
        body = text(auth_client.get(url, headers=HTMX if seen else {}))
        seen += re.findall(r'<div role="row" id="task-(\d+)"', body)
        assert body.count('id="load-more"') == 1  # the next page's link replaces this one
        more = re.search(r'hx-get="(/tasks\?[^"]+after=[^"]+)"', body)
        url = more.group(1).replace("&amp;", "&") if more else None
    assert len(seen) == 57 and len(set(seen)) == 57


def test_default_page_size_is_50_with_load_more(app, auth_client):
    with app.app_context():
        owner, inbox = inbox_of()
        db.session.add_all(
            Task(project_id=inbox, created_by_id=owner, title=f"Task {i}") for i in range(51)
        )
        db.session.commit()
    body = text(auth_client.get("/tasks"))
    assert len(re.findall(r'<div role="row" id="task-\d+"', body)) == 50
    assert "Load more tasks" in body


def test_list_query_count_does_not_grow_with_the_page(app, auth_client):
    def queries_for(n):
        with app.app_context():
            owner, inbox = inbox_of()
            tag = Tag(owner_id=owner, name=f"t{n}", colour="#123456")
            db.session.add_all(
                Task(project_id=inbox, created_by_id=owner, title=f"T{i}", tags=[tag])
                for i in range(n)
            )
            db.session.commit()
        with count_queries(app) as statements:
            assert auth_client.get("/tasks?limit=200").status_code == 200
        return len(statements)

    few, many = queries_for(3), queries_for(60)
    # The loader (with the header's unread count), the page, its tags, the tag menu, the
    # project list.
    assert few == many <= 5


# ---- bulk ---------------------------------------------------------------------------------


def test_bulk_actions(app, auth_client):
    a = add_task(app, title="A", tags=["x"])
    b = add_task(app, title="B")
    ids = [str(a), str(b)]
    assert (
        post(
            auth_client, "/tasks/bulk", {"ids": ids, "action": "tag_add", "tag": "Bulk"}, htmx=True
        ).status_code
        == 200
    )
    assert all("Bulk" in [t.name for t in get_task(app, i).tags] for i in (a, b))
    post(auth_client, "/tasks/bulk", {"ids": ids, "action": "tag_remove", "tag": "x"})
    assert [t.name for t in get_task(app, a).tags] == ["Bulk"]
    post(auth_client, "/tasks/bulk", {"ids": ids, "action": "priority", "priority": "2"})
    post(auth_client, "/tasks/bulk", {"ids": ids, "action": "due", "due_date": "2031-05-06"})
    assert {(get_task(app, i).priority, get_task(app, i).due_date) for i in (a, b)} == {
        (2, date(2031, 5, 6))
    }
    post(auth_client, "/tasks/bulk", {"ids": ids, "action": "done"})
    assert all(get_task(app, i).done for i in (a, b))
    deleted = post(auth_client, "/tasks/bulk", {"ids": ids, "action": "delete"}, htmx=True)
    assert "Deleted 2 tasks." in text(deleted)
    assert count(app, Task, Task.deleted_at.is_(None)) == 0
    post(auth_client, "/tasks/restore", {"ids": ids}, htmx=True)
    assert count(app, Task, Task.deleted_at.is_(None)) == 2


def test_bulk_done_moves_repeat_rules_on_like_the_toggle(app, auth_client):
    due = date(app_today(app).year + 1, 3, 2)
    repeating = add_task(
        app, title="Water plants", due_date=due, recurrence="FREQ=WEEKLY", tags=["Home"]
    )
    plain = add_task(app, title="Once")
    ids = [str(repeating), str(plain)]
    done = post(auth_client, "/tasks/bulk", {"ids": ids, "action": "done"}, htmx=True)
    assert "Updated 2 tasks." in text(done)
    finished = get_task(app, repeating)
    assert finished.done and finished.done_at is not None and finished.version == 2
    assert finished.recurrence is None
    following = get_task(app, max(_ids(app)))
    assert (following.title, following.done, following.recurrence) == (
        "Water plants",
        False,
        "FREQ=WEEKLY",
    )
    assert following.due_date == due + timedelta(days=7)
    assert [t.name for t in following.tags] == ["Home"]
    again = post(auth_client, "/tasks/bulk", {"ids": ids, "action": "done"}, htmx=True)
    assert "Updated 0 tasks." in text(again)
    assert len(_ids(app)) == 3


def test_bulk_needs_a_selection_and_ignores_other_users_tasks(app, auth_client):
    create_user(app, email="eve@example.com", name="Eve")
    theirs = add_task(app, "eve@example.com", title="Eve's")
    none = post(auth_client, "/tasks/bulk", {"action": "done"}, htmx=True)
    assert none.status_code == 422 and "Select at least one task." in text(none)
    other = post(auth_client, "/tasks/bulk", {"ids": [str(theirs)], "action": "done"})
    assert other.status_code == 404
    assert get_task(app, theirs).done is False


# ---- the task page --------------------------------------------------------------------------


def test_task_page_renders_notes_as_safe_markdown(app, auth_client):
    task_id = add_task(
        app,
        title="Notes",
        notes="**bold** [ok](https://example.com) [bad](javascript:alert(1))"
        ' <script>alert(1)</script> <img src=x onerror="alert(1)">',
    )
    body = text(auth_client.get(f"/tasks/{task_id}"))
    assert "<strong>bold</strong>" in body
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">ok</a>' in body
    notes = body.split('<div class="notes">')[1].split("</div>")[0]
    assert "<script" not in notes and "<img" not in notes and 'href="javascript' not in notes


def test_help_page_lists_shortcuts_and_syntax(auth_client):
    body = text(auth_client.get("/tasks/help"))
    assert "Keyboard shortcuts" in body and "#work" in body and "in 3 days" in body
