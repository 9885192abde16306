"""Every busy page and every bulk action sends a fixed number of SQL statements, whatever the
page size or selection and however many tasks, tags or users there are, and nothing is lazily
loaded while templates render."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, insert, select, text, update
from sqlalchemy.orm import Session, selectinload

from app.extensions import db
from app.models import Role, Tag, Task, User, task_tags, utcnow
from tests.helpers import (
    HTMX,
    add_member,
    add_project,
    add_task,
    app_today,
    count_queries,
    create_user,
    csrf_token,
    inbox_of,
    login,
    user_id,
)


@pytest.fixture(autouse=True)
def no_lazy_loads():
    """Any lazy load of a relationship fails the test: pages load what they show up front
    (the production queries also say raiseload("*"), so this catches what they miss)."""

    def refuse(orm_execute_state):
        if orm_execute_state.is_select and orm_execute_state.lazy_loaded_from is not None:
            raise AssertionError(f"lazy load: {orm_execute_state.statement}")

    event.listen(Session, "do_orm_execute", refuse)
    yield
    event.remove(Session, "do_orm_execute", refuse)


def _add_tasks(app, n: int, tags_each: int = 3) -> None:
    """`n` more open tasks for Ada, each with `tags_each` of her 10 tags (made once)."""
    now = utcnow()
    with app.app_context():
        owner, inbox = inbox_of()
        tag_ids = list(db.session.scalars(select(Tag.id).where(Tag.owner_id == owner)))
        if not tag_ids:
            db.session.execute(
                insert(Tag.__table__),
                [
                    {"owner_id": owner, "name": f"t{i}", "name_key": f"t{i}", "colour": "#123456"}
                    for i in range(10)
                ],
            )
            tag_ids = list(db.session.scalars(select(Tag.id).where(Tag.owner_id == owner)))
        first = (db.session.scalar(select(db.func.max(Task.id))) or 0) + 1
        db.session.execute(
            insert(Task.__table__),
            [
                {
                    "id": first + i,
                    "project_id": inbox,
                    "created_by_id": owner,
                    "title": f"Task {first + i}",
                    "notes": "n" if i % 2 else "",
                    "done": False,
                    "priority": i % 4,
                    "due_date": None,
                    "position": 0,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for i in range(n)
            ],
        )
        db.session.execute(
            insert(task_tags),
            [
                {"task_id": first + i, "tag_id": tag_ids[(i + k) % len(tag_ids)]}
                for i in range(n)
                for k in range(tags_each)
            ],
        )
        db.session.commit()


def _queries(app, client, method, url, **kwargs) -> int:
    with count_queries(app) as statements:
        response = client.open(url, method=method, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return len(statements)


def test_list_queries_do_not_grow_with_page_size_or_data(app, auth_client):
    _add_tasks(app, 1)
    counts = {}
    for n in (10, 50, 200):
        counts[("full", 1, n)] = _queries(app, auth_client, "GET", f"/tasks?limit={n}")
        counts[("htmx", 1, n)] = _queries(
            app, auth_client, "GET", f"/tasks?limit={n}", headers=HTMX
        )
    _add_tasks(app, 299)
    for n in (10, 50, 200):
        page = auth_client.get(f"/tasks?limit={n}").get_data(as_text=True)
        assert len(re.findall(r'<div role="row" id="task-\d+"', page)) == n
        assert page.count('class="chip"') >= 3 * n  # the tags are on the page
        counts[("full", 300, n)] = _queries(app, auth_client, "GET", f"/tasks?limit={n}")
        counts[("htmx", 300, n)] = _queries(
            app, auth_client, "GET", f"/tasks?limit={n}", headers=HTMX
        )
    more = re.search(r'hx-get="(/tasks\?[^"]+after=[^"]+)"', page).group(1).replace("&amp;", "&")
    counts[("more", 300, 200)] = _queries(app, auth_client, "GET", more, headers=HTMX)
    full = {v for k, v in counts.items() if k[0] == "full"}
    fragments = {v for k, v in counts.items() if k[0] != "full"}
    assert len(full) == 1 and len(fragments) == 1, counts
    # The user (with their login session), the page of tasks, its tags; the page adds the
    # tag menu and the project list beside the tasks (one grouped query). The header's
    # unread-notification count comes with the user. Nothing else.
    assert full.pop() <= 5 and fragments.pop() <= 3, counts


def _task_ids(app, n):
    with app.app_context():
        return list(db.session.scalars(select(Task.id).order_by(Task.id).limit(n)))


def test_toggle_and_editor_cost_the_same_with_many_tags_and_tasks(app, auth_client):
    _add_tasks(app, 2, tags_each=1)
    small = _task_ids(app, 1)[0]
    headers = {**HTMX, "X-CSRFToken": csrf_token(auth_client, "/tasks")}
    few = (
        _queries(
            app, auth_client, "POST", f"/tasks/{small}/toggle", data={"done": "1"}, headers=headers
        ),
        _queries(app, auth_client, "GET", f"/tasks/{small}/edit", headers=HTMX),
        _queries(app, auth_client, "GET", f"/tasks/{small}/edit"),
    )
    _add_tasks(app, 300, tags_each=8)
    big = _task_ids(app, 300)[-1]
    many = (
        _queries(
            app, auth_client, "POST", f"/tasks/{big}/toggle", data={"done": "1"}, headers=headers
        ),
        _queries(app, auth_client, "GET", f"/tasks/{big}/edit", headers=HTMX),
        _queries(app, auth_client, "GET", f"/tasks/{big}/edit"),
    )
    assert few == many, (few, many)
    toggle, editor, editor_page = many
    # The toggle: the session with its user, the task, its tags, the update. The editor: the
    # session, the task, its tags, the tag menu, the projects it can move to and its
    # reminders; the editor's page no more (the header's count comes with the user).
    assert toggle <= 4 and editor <= 6 and editor_page == editor, many


def test_admin_user_list_costs_the_same_for_few_and_many_users(app, client):
    create_user(app, email="root@example.com", name="Root", admin=True)
    assert login(client, email="root@example.com").status_code == 302
    few = _queries(app, client, "GET", "/admin/users")
    now = utcnow()
    with app.app_context():
        db.session.execute(
            insert(User.__table__),
            [
                {
                    "email": f"user{i:03}@example.com",
                    "password_hash": "x",
                    "display_name": f"User {i}",
                    "is_admin": False,
                    "is_active": True,
                    "must_change_password": False,
                    "created_at": now,
                }
                for i in range(120)
            ],
        )
        db.session.commit()
    many = _queries(app, client, "GET", "/admin/users")
    sorted_by_tasks = _queries(app, client, "GET", "/admin/users?sort=-tasks")
    fragment = _queries(app, client, "GET", "/admin/users?page=2", headers=HTMX)
    body = client.get("/admin/users").get_data(as_text=True)
    assert body.count('<tr id="user-') == 50
    # The session with its user (and the header's unread count), the count of users, the page
    # of users with their task counters (no query counts tasks).
    assert few == many == sorted_by_tasks == fragment <= 3, (few, many, sorted_by_tasks, fragment)


BULK_ACTIONS = [
    ("done", {}),
    ("done", {"repeating": True}),
    ("open", {}),
    ("tag_add", {"tag": "fresh {n}"}),  # a new tag each time
    ("tag_add", {"tag": "t1"}),
    ("tag_remove", {"tag": "t2"}),
    ("priority", {"priority": "3"}),
    ("due", {"due_date": "2031-05-06"}),
    ("delete", {}),
]


@pytest.mark.parametrize(("action", "extra"), BULK_ACTIONS)
def test_bulk_actions_cost_the_same_for_2_and_200_tasks(app, auth_client, action, extra):
    extra = dict(extra)
    _add_tasks(app, 252)  # the 50 not selected keep the list below the message non-empty
    ids = _task_ids(app, 202)
    with app.app_context():
        values = {"done": action == "open", "priority": 0}
        if extra.pop("repeating", False):
            values.update(recurrence="FREQ=WEEKLY", due_date=utcnow().date())
        db.session.execute(update(Task).where(Task.id.in_(ids)).values(**values))
        if db.engine.dialect.name == "postgresql":  # _add_tasks chose the ids itself
            db.session.execute(text("SELECT setval('tasks_id_seq', (SELECT max(id) FROM tasks))"))
        db.session.commit()
    headers = {**HTMX, "X-CSRFToken": csrf_token(auth_client, "/tasks")}
    counts = {}
    for selected in (ids[:2], ids[2:]):
        n = len(selected)
        form = {"ids": selected, "action": action}
        form.update({key: value.format(n=n) for key, value in extra.items()})
        with count_queries(app) as statements:
            response = auth_client.post("/tasks/bulk", data=form, headers=headers)
        body = response.get_data(as_text=True)
        assert response.status_code == 200, body[:500]
        assert (f"Deleted {n} tasks." if action == "delete" else "Updated ") in body
        counts[n] = len(statements)

    assert counts[2] == counts[200], counts
    with app.app_context():
        tasks = db.session.scalars(
            select(Task).where(Task.id.in_(ids)).options(selectinload(Task.tags))
        ).all()
        changed = [t for t in tasks if t.version > 1]
        if action == "tag_remove":  # only the tasks that had it
            assert all("t2" not in [tag.name for tag in t.tags] for t in tasks)
        elif action == "delete":
            assert all(t.deleted_at is not None for t in tasks)
        elif action == "tag_add" and extra["tag"] == "t1":  # only the tasks that lacked it
            assert all("t1" in [tag.name for tag in t.tags] for t in tasks)
        else:
            assert len(changed) == 202, (action, len(changed))
        if extra.get("tag") == "fresh {n}":
            assert all({"fresh 2", "fresh 200"} & {tag.name for tag in t.tags} for t in tasks)


_ASSIGNEE_NAME = re.compile(
    r"\(SELECT users\.display_name\s+FROM users\s+WHERE (users\.)?id = (tasks\.)?assignee_id\)"
)


def test_signed_in_requests_read_the_user_only_in_the_loaders_query(app, auth_client):
    """Who asks comes from the loader's one query (a SignedIn): no view loads the User row
    just to know who is signed in (app/login_sessions.py)."""
    task = add_task(app, title="A", tags=["work"])
    token = csrf_token(auth_client, "/tasks")
    requests = [
        ("GET", "/tasks", {}),
        ("GET", "/tasks", {"headers": HTMX}),
        ("GET", f"/tasks/{task}/edit", {}),
        (
            "POST",
            f"/tasks/{task}/toggle",
            {"data": {"done": "1"}, "headers": {**HTMX, "X-CSRFToken": token}},
        ),
        ("GET", "/tags", {}),
        ("GET", "/account", {}),
    ]
    for method, url, kwargs in requests:
        with count_queries(app) as statements:
            response = auth_client.open(url, method=method, **kwargs)
        assert response.status_code == 200, (method, url)
        # The row's assignee name is read by the users' key inside the task's own statement
        # (Task.assignee_name): not a read of who is signed in.
        reading_users = [
            s for s in statements if re.search(r"\bFROM users\b", _ASSIGNEE_NAME.sub("", s))
        ]
        assert len(reading_users) == 1, (method, url, reading_users)
        assert re.search(r"\bJOIN login_sessions\b", reading_users[0]), reading_users


def _add_project_tasks(app, projects: list[int], n: int, view: str) -> None:
    """`n` open tasks spread over `projects`, assigned to Ada, tagged, in `view`'s dates."""
    ada = user_id(app)
    today = app_today(app) + timedelta(days=1 if view == "upcoming" else 0)
    for i in range(n):
        add_task(
            app,
            project_id=projects[i % len(projects)],
            title=f"Spread {i}",
            due_date=today,
            assignee_id=ada,
            tags=[f"t{i % 3}"],
        )


@pytest.mark.parametrize("view", ["today", "upcoming", "assigned", "all"])
def test_view_pages_cost_the_same_for_3_and_60_tasks_in_several_projects(app, auth_client, view):
    create_user(app, "bea@example.com", name="Bea")
    with app.app_context():
        projects = [inbox_of()[1]]
    for name, role in (("Shared", Role.EDITOR), ("Watched", Role.VIEWER)):
        project = add_project(app, "bea@example.com", name)
        add_member(app, project, "ada@example.com", role)
        projects.append(project)
    counts = {}
    for total in (3, 60):
        _add_project_tasks(app, projects, 3 if total == 3 else 57, view)
        url = f"/tasks/{view}?limit=2"
        page = auth_client.get(url).get_data(as_text=True)
        more = re.search(r'hx-get="([^"]+after=[^"]+)"', page)
        counts[("full", total)] = _queries(app, auth_client, "GET", url)
        counts[("htmx", total)] = _queries(app, auth_client, "GET", url, headers=HTMX)
        counts[("more", total)] = _queries(
            app, auth_client, "GET", more.group(1).replace("&amp;", "&"), headers=HTMX
        )
    for kind in ("full", "htmx", "more"):
        assert counts[(kind, 3)] == counts[(kind, 60)], counts
    # The user; the page's rows (membership in the same statement), their projects, their
    # tags; the full page adds the tag menu and the project list, which also gives it the
    # rows' projects.
    assert counts[("full", 60)] <= 5 and counts[("htmx", 60)] <= 4, counts
