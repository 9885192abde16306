"""The projects' open-task counters (projects.open_tasks, kept by the database's triggers on
tasks) equal a fresh count of each project's open tasks after every kind of write, through
the real routes; stay exact when many requests write at once under a real gunicorn; are
backfilled by their migration and gone with its downgrade; and are what the navigation
shows."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import Project, Role, Task
from tests.helpers import (
    PASSWORD,
    add_member,
    add_project,
    add_task,
    create_user,
    get_task,
    post,
)
from tests.live import Client, all_at_once, gunicorn
from tests.test_projects_nav import _nav
from tests.test_task_counters import ACTIONS, BOB, team  # noqa: F401 (team: a fixture)
from tests.test_task_counters import counted as counted_by_user
from tests.test_task_counters import counters as user_counters


def counters(app) -> dict[int, int]:
    """Every project's open tasks as its counter has them."""
    with app.app_context():
        return dict(db.session.execute(select(Project.id, Project.open_tasks)).all())


def counted(app) -> dict[int, int]:
    """Every project's open tasks (not done, not deleted), counted afresh."""
    with app.app_context():
        found = dict(
            db.session.execute(
                select(Task.project_id, func.count())
                .where(Task.done.is_(False), Task.deleted_at.is_(None))
                .group_by(Task.project_id)
            ).all()
        )
        return {pid: found.get(pid, 0) for pid in db.session.scalars(select(Project.id))}


# Whether each of test_task_counters' writes changes some project's open tasks: a repeating
# task done opens its next occurrence (one closed, one opened); "undo" restores what it
# deleted; a purge here first deletes an open task.
CHANGES = {
    "repeating done: the next occurrence": False,
    "bulk delete": True,
    "delete": True,
    "undo": False,
    "move to a project": True,
    "admin deletes a user": True,  # Bob's Inbox goes, with his open task
}
PROJECT_ACTIONS = [(name, action, CHANGES.get(name, user)) for name, action, user in ACTIONS]


@pytest.mark.parametrize(
    "action, changes", [a[1:] for a in PROJECT_ACTIONS], ids=[a[0] for a in PROJECT_ACTIONS]
)
def test_counters_equal_a_fresh_count_after_every_kind_of_write(
    app,
    auth_client,
    team,  # noqa: F811 (the fixture imported above)
    action,
    changes,
):
    before = counted(app)
    assert counters(app) == before
    response = action(app, auth_client, team)
    assert response.status_code in (200, 302, 303), response.get_data(as_text=True)[:500]
    after = counted(app)
    assert counters(app) == after
    changed = any(after.get(pid, 0) != count for pid, count in before.items())
    assert changed is changes, (before, after)


def test_the_navigation_shows_the_counters(app, auth_client):
    """Open tasks count; done, deleted and other projects' tasks do not; a move and an undo
    show at once."""
    work, home = add_project(app, name="Work"), add_project(app, name="Home")
    tasks = [add_task(app, project_id=work, title=f"Open {n}") for n in range(3)]
    add_task(app, project_id=work, title="Done", done=True)
    add_task(app, project_id=home, title="Home open")
    assert post(auth_client, f"/tasks/{tasks[0]}/delete").status_code == 303
    assert _nav(auth_client) == {"Inbox": "0", "Home": "1", "Work": "2"}
    moved = get_task(app, tasks[1])
    form = {"title": moved.title, "priority": "0", "version": str(moved.version)}
    moving = post(auth_client, f"/tasks/{tasks[1]}", {**form, "project_id": str(home)})
    assert moving.status_code in (200, 303)
    assert post(auth_client, "/tasks/restore", {"ids": str(tasks[0])}).status_code in (200, 303)
    assert _nav(auth_client) == {"Inbox": "0", "Home": "2", "Work": "2"}


PREVIOUS = "d7a3f1c9e5b2"


def _insert_task(conn, project_id: int, done: bool, deleted: bool) -> None:
    conn.execute(
        text(
            "INSERT INTO tasks (project_id, created_by_id, title, done, notes, priority,"
            " position, version, created_at, updated_at, deleted_at)"
            " SELECT :project, min(users.id), 'Old', :done, '', 0, 0, 1,"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP,"
            " CASE WHEN :deleted THEN CURRENT_TIMESTAMP END FROM users"
        ),
        {"project": project_id, "done": done, "deleted": deleted},
    )


def test_the_migration_backfills_the_counters_and_its_downgrade_drops_them(app, auth_client):
    work = add_project(app, name="Work")
    with app.app_context():
        downgrade(revision=PREVIOUS)
        columns = {c["name"] for c in db.inspect(db.engine).get_columns("projects")}
        assert "open_tasks" not in columns
        with db.engine.begin() as conn:  # tasks written before the counters existed
            for done, deleted in [(False, False)] * 3 + [(True, False), (False, True)]:
                _insert_task(conn, work, done, deleted)
        upgrade()
    assert counters(app)[work] == 3
    assert counters(app) == counted(app)
    # The triggers work after the upgrade, and the users' counters still do beside them.
    assert post(auth_client, "/tasks", {"title": "New +Work"}).status_code in (200, 303)
    assert counters(app)[work] == 4 and counters(app) == counted(app)
    assert user_counters(app) == counted_by_user(app)


# ---- under a real server, many writers at once ----------------------------------------------

ROUNDS = 3
WRITERS = 8


def test_counters_stay_exact_under_concurrent_writes(app, database_url):
    """Ada and Bob, from WRITERS connections at once, toggle, add, delete, restore and
    bulk-change tasks of two shared projects (one bulk change spans both, so writers update
    the same users' and projects' rows); every round, both kinds of counter equal a fresh
    count, and no writer failed (a deadlock would answer 500)."""
    create_user(app)
    create_user(app, email=BOB, name="Bob")
    projects = [add_project(app, name="Team"), add_project(app, name="Side")]
    for project in projects:
        add_member(app, project, BOB, Role.EDITOR)
    shared = [
        add_task(app, email, project_id=project, title=f"{email} {n}")
        for project in projects
        for email in ("ada@example.com", BOB)
        for n in range(2)
    ]
    statuses = []
    with gunicorn(database_url, workers=2, threads=4) as base:
        signed_in = {}
        for email in ("ada@example.com", BOB):
            client = Client(base)
            assert client.login(email, PASSWORD).status == 302
            token = client.csrf("/tasks")  # may set the session cookie: read cookies after
            signed_in[email] = (dict(client.cookies), token)

        def writer(n: int, round_: int):
            cookies, token = signed_in["ada@example.com" if n % 2 else BOB]
            client = Client(base)
            client.cookies = dict(cookies)
            headers = {"HX-Request": "true", "X-CSRFToken": token}
            task = shared[(n + round_) % len(shared)]
            kind = (n + round_) % 5

            def call():
                if kind == 0:
                    form = {"done": "1"} if (n + round_) % 3 else {}
                    return client.request("POST", f"/tasks/{task}/toggle", form, headers).status
                if kind == 1:
                    form = {"title": f"Added {n}.{round_} +{'Team' if n % 2 else 'Side'}"}
                    return client.request("POST", "/tasks", form, headers).status
                if kind == 2:
                    form = {"ids": [str(t) for t in shared], "action": "done" if n % 4 else "open"}
                    return client.request("POST", "/tasks/bulk", form, headers).status
                if kind == 3:
                    form = {"ids": str(task)}
                    return client.request("POST", "/tasks/restore", form, headers).status
                return client.request("POST", f"/tasks/{task}/delete", {}, headers).status

            return call

        for round_ in range(ROUNDS):
            statuses += all_at_once([writer(n, round_) for n in range(WRITERS)])
            assert counters(app) == counted(app), f"round {round_}"
            assert user_counters(app) == counted_by_user(app), f"round {round_}"
    # Deleting a task another writer deleted first, or restoring one nobody deleted, finds
    # nothing (404); nothing failed.
    assert set(statuses) <= {200, 404}, statuses
    assert statuses.count(200) >= len(statuses) // 2, statuses
