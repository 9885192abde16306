"""The users' task counters (users.open_tasks, users.total_tasks, kept by the database's
triggers on tasks) equal a fresh count of the tasks each user added after every kind of
write, through the real routes; stay exact when many requests write at once under a real
gunicorn; are backfilled by their migration; and the admin list's sort "Most tasks" reads
its index instead of counting tasks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, insert, select, text, update

from app.extensions import db
from app.models import Role, Task, User, utcnow
from app.tasks.services import UNDO_WINDOW
from tests.helpers import (
    PASSWORD,
    account_post,
    add_member,
    add_project,
    add_task,
    add_users,
    admin_client,
    admin_post,
    create_user,
    get_task,
    login,
    post,
    post_form,
    user_id,
)
from tests.live import Client, all_at_once, gunicorn

BOB = "bob@example.com"


def counters(app) -> dict[int, tuple[int, int]]:
    """Every user's (open, total) as the counters have them."""
    with app.app_context():
        rows = db.session.execute(select(User.id, User.open_tasks, User.total_tasks))
        return {uid: (open_, total) for uid, open_, total in rows}


def counted(app) -> dict[int, tuple[int, int]]:
    """Every user's (open, total), counted afresh from the tasks they added."""
    with app.app_context():
        rows = db.session.execute(
            select(
                Task.created_by_id, func.count().filter(Task.done.is_(False)), func.count()
            ).group_by(Task.created_by_id)
        )
        found = {creator: (open_, total) for creator, open_, total in rows}
        return {uid: found.get(uid, (0, 0)) for uid in db.session.scalars(select(User.id))}


@pytest.fixture
def team(app, auth_client):
    """Ada (signed in) owns "Team", where Bob is an editor; each has tasks there and in
    their Inbox, some done, one of Ada's repeating. Returns the task ids by name."""
    create_user(app, email=BOB, name="Bob")
    project = add_project(app, name="Team")
    add_member(app, project, BOB, Role.EDITOR)
    ids = {"team": project}
    ids["ada_open"] = add_task(app, title="Ada open")
    ids["ada_done"] = add_task(app, title="Ada done", done=True, done_at=utcnow())
    ids["ada_repeating"] = add_task(
        app, title="Water plants", due_date=utcnow().date(), recurrence="FREQ=DAILY"
    )
    ids["bob_team"] = add_task(app, BOB, project_id=project, title="Bob in Team")
    ids["bob_team_done"] = add_task(
        app, BOB, project_id=project, title="Bob done in Team", done=True, done_at=utcnow()
    )
    ids["bob_inbox"] = add_task(app, BOB, title="Bob's own")
    return ids


def _editor(app, task_id, **changes) -> dict:
    task = get_task(app, task_id)
    return {"title": task.title, "priority": "0", "version": str(task.version), **changes}


def _bulk(client, ids, action):
    return post(client, "/tasks/bulk", {"ids": [str(i) for i in ids], "action": action})


def _purge(app, client, ids):
    """Bob's deleted task is past the undo window; Ada's next delete in Team purges it."""
    assert post(client, f"/tasks/{ids['bob_team']}/delete").status_code == 303
    with app.app_context():
        db.session.execute(
            update(Task)
            .where(Task.id == ids["bob_team"])
            .values(deleted_at=utcnow() - UNDO_WINDOW - timedelta(minutes=1))
        )
        db.session.commit()
    response = post(client, f"/tasks/{ids['bob_team_done']}/delete")
    assert get_task(app, ids["bob_team"]) is None, "the expired task was not purged"
    return response


def _admin_deletes_bob(app, _client, _ids):
    root = admin_client(app)
    return admin_post(root, f"/admin/users/{user_id(app, BOB)}/delete", {"confirm_email": BOB})


def _ada_deletes_herself(_app, client, _ids):
    form = {"confirm_email": "ada@example.com", "password": PASSWORD}
    return account_post(client, "/account/delete", form)


def _admin_deactivates_bob(app, _client, _ids):
    root = admin_client(app)
    return admin_post(root, f"/admin/users/{user_id(app, BOB)}/deactivate")


def _bob_leaves(app, _client, ids):
    bob = app.test_client()
    assert login(bob, email=BOB).status_code == 302
    team = ids["team"]
    return post_form(bob, f"/projects/{team}/leave", {}, token_from=f"/projects/{team}")


def _undo(_app, client, ids):
    assert post(client, f"/tasks/{ids['bob_team']}/delete").status_code == 303
    return post(client, "/tasks/restore", {"ids": str(ids["bob_team"])})


# (name, action(app, Ada's client, ids) -> response, whether the counts change)
ACTIONS = [
    ("create", lambda a, c, i: post(c, "/tasks", {"title": "New one"}), True),
    ("quick add to a project", lambda a, c, i: post(c, "/tasks", {"title": "Plan +Team"}), True),
    ("toggle done", lambda a, c, i: post(c, f"/tasks/{i['ada_open']}/toggle", {"done": "1"}), True),
    ("toggle open", lambda a, c, i: post(c, f"/tasks/{i['ada_done']}/toggle"), True),
    (
        "toggle another's task",
        lambda a, c, i: post(c, f"/tasks/{i['bob_team']}/toggle", {"done": "1"}),
        True,
    ),
    (
        "repeating done: the next occurrence",
        lambda a, c, i: post(c, f"/tasks/{i['ada_repeating']}/toggle", {"done": "1"}),
        True,
    ),
    (
        "bulk done",
        lambda a, c, i: _bulk(c, [i["ada_open"], i["bob_team"], i["ada_repeating"]], "done"),
        True,
    ),
    ("bulk open", lambda a, c, i: _bulk(c, [i["ada_done"], i["bob_team_done"]], "open"), True),
    ("bulk delete", lambda a, c, i: _bulk(c, [i["ada_open"], i["bob_team"]], "delete"), False),
    ("delete", lambda a, c, i: post(c, f"/tasks/{i['bob_team']}/delete"), False),
    ("undo", _undo, False),
    ("purge", _purge, True),
    (
        "move to a project",
        lambda a, c, i: post(
            c, f"/tasks/{i['ada_open']}", _editor(a, i["ada_open"], project_id=i["team"])
        ),
        False,
    ),
    (
        "delete a project with its tasks",
        lambda a, c, i: post_form(
            c, f"/projects/{i['team']}/delete", {"move_to": "0"}, token_from="/projects"
        ),
        True,
    ),
    ("a member leaves", _bob_leaves, False),
    ("admin deletes a user", _admin_deletes_bob, True),
    ("a user deletes their account", _ada_deletes_herself, True),
    ("admin deactivates a user", _admin_deactivates_bob, False),
]


@pytest.mark.parametrize("action, changes", [a[1:] for a in ACTIONS], ids=[a[0] for a in ACTIONS])
def test_counters_equal_a_fresh_count_after_every_kind_of_write(
    app, auth_client, team, action, changes
):
    before = counted(app)
    assert counters(app) == before
    response = action(app, auth_client, team)
    assert response.status_code in (200, 302, 303), response.get_data(as_text=True)[:500]
    after = counted(app)
    assert counters(app) == after
    # The action did (or did not) change what is counted, so the comparison saw a change: a
    # user's counts moved, or a user with tasks went (a user added meanwhile starts at 0).
    changed = any(after.get(uid, (0, 0)) != counts for uid, counts in before.items())
    assert changed is changes, (before, after)


def test_the_admin_pages_show_the_counters(app, team):
    root = admin_client(app)
    ada = user_id(app)
    body = root.get("/admin/users?sort=-tasks").get_data(as_text=True)
    # Ada added 3 tasks (1 done), Bob 3 (1 done); Root none, and sorts last.
    assert body.count("2 / 3") == 2 and "0 / 0" in body
    assert body.index("root@example.com") > body.index("bob@example.com")
    assert "2 open of 3" in root.get(f"/admin/users/{ada}").get_data(as_text=True)


def test_the_migration_backfills_the_counters_of_existing_tasks(app):
    add_users(app, 3, tasks_each=4)  # each: 1 done, 3 open
    with app.app_context():
        downgrade(revision="a9c4e2f7b1d3")
        columns = {c["name"] for c in db.inspect(db.engine).get_columns("users")}
        assert "total_tasks" not in columns
        with db.engine.begin() as conn:  # a task written before the counters existed
            conn.execute(
                text(
                    "INSERT INTO tasks (project_id, created_by_id, title, done, notes, priority,"
                    " position, version, created_at, updated_at)"
                    " SELECT min(projects.id), min(users.id), 'Old', false, '', 0, 0, 1,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM projects, users"
                )
            )
        upgrade()
    found = counters(app)
    assert found == counted(app)
    assert sorted(found.values()) == [(3, 4), (3, 4), (4, 5)]


# ---- under a real server, many writers at once ----------------------------------------------

ROUNDS = 3
WRITERS = 8


def test_counters_stay_exact_under_concurrent_writes(app, database_url):
    """Ada and Bob, from WRITERS connections at once, toggle, add, bulk-change and delete
    the same tasks (added by both) in their shared project; every round, the counters equal
    a fresh count."""
    create_user(app)
    create_user(app, email=BOB, name="Bob")
    project = add_project(app, name="Team")
    add_member(app, project, BOB, Role.EDITOR)
    shared = [add_task(app, project_id=project, title=f"Ada {n}") for n in range(4)]
    shared += [add_task(app, BOB, project_id=project, title=f"Bob {n}") for n in range(4)]
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
            kind = (n + round_) % 4

            def call():
                if kind == 0:
                    form = {"done": "1"} if (n + round_) % 3 else {}
                    return client.request("POST", f"/tasks/{task}/toggle", form, headers).status
                if kind == 1:
                    form = {"title": f"Added {n}.{round_} +Team"}
                    return client.request("POST", "/tasks", form, headers).status
                if kind == 2:
                    form = {"ids": [str(t) for t in shared], "action": "done" if n % 4 else "open"}
                    return client.request("POST", "/tasks/bulk", form, headers).status
                return client.request("POST", f"/tasks/{task}/delete", {}, headers).status

            return call

        for round_ in range(ROUNDS):
            statuses += all_at_once([writer(n, round_) for n in range(WRITERS)])
            assert counters(app) == counted(app), f"round {round_}"
    # Deleting a task another writer deleted first finds nothing (404); nothing failed.
    assert set(statuses) <= {200, 404}, statuses
    assert statuses.count(200) >= len(statuses) * 3 // 4, statuses


# ---- the sort "Most tasks" reads an index ---------------------------------------------------

USERS = 3_000


def test_the_sort_by_tasks_reads_the_counters_index(app):
    """At thousands of users, fresh statistics and no planner settings changed, the page's
    statement reads ix_users_total_tasks in order and never reads tasks."""
    from app.admin.services import PER_PAGE, UserFilters, _users_query

    add_users(app, USERS, tasks_each=0)
    with app.app_context():
        ids = db.session.scalars(select(User.id).order_by(User.id).limit(200)).all()
        owner_project = db.session.scalar(text("SELECT min(id) FROM projects"))
        db.session.execute(
            insert(Task),
            [
                {"project_id": owner_project, "created_by_id": uid, "title": f"T {n}"}
                for i, uid in enumerate(ids)
                for n in range(i % 7)
            ],
        )
        db.session.commit()
        stmt = _users_query(UserFilters(sort="-tasks")).limit(PER_PAGE)
        sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
        explain = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
        plan = "\n".join(str(row[-1]) for row in db.session.execute(text(explain + sql)))
        first = db.session.execute(stmt).scalars().all()
    assert "ix_users_total_tasks" in plan, plan
    assert "tasks " not in plan.replace("total_tasks", "") and "TEMP B-TREE" not in plan, plan
    assert "Sort" not in plan.split("Index")[0], plan
    totals = [user.total_tasks for user in first]
    assert totals == sorted(totals, reverse=True) and totals[0] == 6
