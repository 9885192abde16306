"""The projects foundation: the migration that moves every task into its owner's Inbox (run
on a database at the previous revision with data in it, on both databases), the one access
rule for a task in a shared project (owner, admin, editor, viewer, non-member, instance
admin), the tag rule on shared tasks, and exactly one Inbox for every new user."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta

import psycopg
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import Date, bindparam, func, inspect, select, text
from sqlalchemy.engine import make_url

from app.extensions import db
from app.models import Membership, Project, Role, Tag, Task, User, UTCDateTime, utcnow
from app.tasks.listing import ListQuery, fetch_page
from bench.seed import credentials, token_hash
from bench.settings import USER_AGENT
from tests.helpers import (
    HTMX,
    PASSWORD,
    add_task,
    create_user,
    get_task,
    inbox_of,
    libpq_url,
    login,
    post,
    post_form,
)

PREVIOUS = "9e8759bcb97d"  # the last revision before projects
ROW_IDS = re.compile(r'role="row" id="task-(\d+)"')


# ---- the migration ------------------------------------------------------------------------


@pytest.fixture
def previous_app(make_app, database_url, tmp_path):
    """An app on a new database of its own (SQLite file, or PostgreSQL database on the test
    server) migrated only to PREVIOUS, as an instance is before it upgrades."""
    name = None
    if make_url(database_url).get_backend_name() == "sqlite":
        url = f"sqlite:///{tmp_path / 'previous.sqlite3'}"
    else:
        name = f"tasklane_previous_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade(revision=PREVIOUS)
    yield app
    if name:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _insert(table: str, returning: bool = True, **values) -> int | None:
    """One row written with plain SQL, as the schema of the moment has it (no model)."""
    types = {datetime: UTCDateTime(), date: Date()}
    stmt = text(
        f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join(':' + k for k in values)})"
        + (" RETURNING id" if returning else "")
    ).bindparams(
        *(bindparam(k, type_=types[type(v)]) for k, v in values.items() if type(v) in types)
    )
    result = db.session.execute(stmt, values)
    return result.scalar_one() if returning else None


# What each user had before the upgrade: (title, done, deleted, tags, due in days).
OLD_TASKS = {
    "ada@example.com": [
        ("Ada open", False, False, ("work", "home"), 2),
        ("Ada done", True, False, ("work",), None),
        ("Ada deleted", False, True, ("home",), None),
        ("Ada plain", False, False, (), -1),
    ],
    "grace@example.com": [
        ("Grace open", False, False, ("work",), None),  # her own "work", not Ada's
        ("Grace done", True, False, (), 5),
        ("Grace deleted", True, True, ("work",), None),
    ],
    "alan@example.com": [],  # no tasks, no tags: still an Inbox
}
ADA_TOKEN = "a-login-session-from-before-projects-000000000"


def _write_previous_data(app) -> dict[str, int]:
    """Users, their tags, tasks (open, done, deleted; some tagged) and login sessions in the
    previous revision's shape (tasks.owner_id); returns the users' ids by email."""
    from app.passwords import hash_password

    now = utcnow()
    users = {}
    with app.app_context():
        password_hash = hash_password(PASSWORD)
        for n, (email, tasks) in enumerate(OLD_TASKS.items()):
            uid = _insert(
                "users",
                email=email,
                password_hash=password_hash,
                display_name=email.split("@")[0].title(),
                is_admin=n == 0,
                is_active=True,
                must_change_password=False,
                created_at=now - timedelta(days=30 - n),
            )
            users[email] = uid
            tags = {}
            for name in sorted({t for *_, names, _ in tasks for t in names}):
                tags[name] = _insert(
                    "tags", owner_id=uid, name=name, name_key=name, colour="#336699"
                )
            for title, done, deleted, names, due in tasks:
                task_id = _insert(
                    "tasks",
                    owner_id=uid,
                    title=title,
                    notes=f"Notes of {title}",
                    done=done,
                    done_at=now if done else None,
                    priority=len(title) % 4,
                    due_date=None if due is None else date(2026, 6, 1) + timedelta(days=due),
                    recurrence=None,
                    position=0,
                    created_at=now - timedelta(hours=len(title)),
                    updated_at=now,
                    version=3,
                    deleted_at=now if deleted else None,
                )
                for name in names:
                    _insert("task_tags", returning=False, task_id=task_id, tag_id=tags[name])
            _insert(
                "login_sessions",
                user_id=uid,
                token_hash=token_hash(ADA_TOKEN if n == 0 else f"{email}-token"),
                remember=True,
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(days=20),
                ip="127.0.0.1",
                user_agent=USER_AGENT,
            )
        db.session.commit()
    return users


def _rows(app, sql: str) -> list[tuple]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(text(sql))]


# Every column a task had before projects, except its owner.
TASK_COLUMNS = (
    "id, title, notes, done, done_at, priority, due_date, recurrence, position, created_at,"
    " updated_at, version, deleted_at"
)


# Every column a user had before projects (later migrations add more, which upgrade() runs).
USER_COLUMNS = (
    "id, email, password_hash, display_name, is_admin, is_active, must_change_password,"
    " created_at, last_login_at"
)


def _unchanged_tables(app) -> dict[str, list[tuple]]:
    """What the migration must leave exactly as it was, both ways."""
    return {
        "tasks": _rows(app, f"SELECT {TASK_COLUMNS} FROM tasks ORDER BY id"),
        "tags": _rows(app, "SELECT * FROM tags ORDER BY id"),
        "task_tags": _rows(app, "SELECT * FROM task_tags ORDER BY 1, 2"),
        "login_sessions": _rows(app, "SELECT * FROM login_sessions ORDER BY id"),
        "users": _rows(app, f"SELECT {USER_COLUMNS} FROM users ORDER BY id"),
    }


def test_the_migration_moves_every_task_into_its_owners_inbox_and_back(previous_app):
    app = previous_app
    users = _write_previous_data(app)
    owners = dict(_rows(app, "SELECT id, owner_id FROM tasks"))
    before = _unchanged_tables(app)
    assert len(owners) == 7 and len(before["task_tags"]) == 6

    with app.app_context():
        upgrade()
    inboxes = _rows(app, "SELECT inbox_of_id, id, name, name_key, archived_at FROM projects")
    assert sorted(user for user, *_ in inboxes) == sorted(users.values())  # one each
    assert {tuple(rest) for _, _, *rest in inboxes} == {("Inbox", "inbox", None)}
    inbox = {user: project for user, project, *_ in inboxes}
    assert sorted(_rows(app, "SELECT project_id, user_id, role FROM memberships")) == sorted(
        (inbox[user], user, int(Role.OWNER)) for user in users.values()
    )
    moved = _rows(app, "SELECT id, project_id, created_by_id, assignee_id FROM tasks")
    assert {task: (project, by, assignee) for task, project, by, assignee in moved} == {
        task: (inbox[owner], owner, None) for task, owner in owners.items()
    }
    assert _unchanged_tables(app) == before

    # Through the real app: each signs in and lists exactly their live tasks, tags and all.
    for email, tasks in OLD_TASKS.items():
        client = app.test_client()
        assert login(client, email=email).status_code == 302
        body = client.get("/tasks?status=all&limit=200").get_data(as_text=True)
        titles = sorted(re.findall(r'class="task-title" href="[^"]*">([^<]*)</a>', body))
        assert titles == sorted(title for title, _, deleted, *_ in tasks if not deleted)
        tagged = client.get("/tasks?status=all&tag=work").get_data(as_text=True)
        listed = {int(i) for i in ROW_IDS.findall(tagged)}
        assert {owners[i] for i in listed} <= {users[email]}  # never another's "work"
        expected = sum(1 for _, _, deleted, names, _ in tasks if "work" in names and not deleted)
        assert len(listed) == expected
    # A login session from before the upgrade is still signed in (the user loader joins
    # the Inbox, so a user without one would be signed out).
    cookie, _ = credentials(app, ADA_TOKEN)
    client = app.test_client()
    client.set_cookie("tasklane_session", cookie)
    page = client.get("/tasks", headers={"User-Agent": USER_AGENT})
    assert page.status_code == 200 and "Ada open" in page.get_data(as_text=True)

    with app.app_context():
        downgrade(revision=PREVIOUS)
        assert "projects" not in inspect(db.engine).get_table_names()
    assert dict(_rows(app, "SELECT id, owner_id FROM tasks")) == owners
    after = _unchanged_tables(app)
    for table in ("tasks", "tags", "task_tags"):
        assert after[table] == before[table], table


# ---- access to a shared project -----------------------------------------------------------

PEOPLE = {
    "ada@example.com": Role.OWNER,
    "adam@example.com": Role.ADMIN,
    "eddie@example.com": Role.EDITOR,
    "vic@example.com": Role.VIEWER,
    "nora@example.com": None,  # not a member
    "root@example.com": None,  # an instance admin, not a member
}
REFUSAL = "You can view this project but not change it: ask one of its admins."


@pytest.fixture
def team(app) -> int:
    """A project "Team" owned by Ada and shared by inserting memberships; returns its id."""
    for email in PEOPLE:
        create_user(app, email=email, name=email.split("@")[0].title(), admin=email[:4] == "root")
    with app.app_context():
        project = Project(name="Team")
        db.session.add(project)
        db.session.flush()
        ids = dict(db.session.execute(select(User.email, User.id)).all())
        db.session.add_all(
            Membership(project_id=project.id, user_id=ids[email], role=int(role))
            for email, role in PEOPLE.items()
            if role is not None
        )
        db.session.commit()
        return project.id


def _shared_task(app, project_id, **fields) -> int:
    """A task Ada added to the project, tagged with her "work"."""
    return add_task(app, project_id=project_id, title="Shared plan", tags=["work"], **fields)


def _client(app, email):
    client = app.test_client()
    assert login(client, email=email).status_code == 302
    return client


# Bulk actions, each with what its form needs; "open" is sent for a done task.
BULK_ACTIONS = {
    "done": {},
    "open": {},
    "delete": {},
    "tag_add": {"tag": "fresh"},
    "tag_remove": {"tag": "work"},
    "priority": {"priority": "3"},
    "due": {"due_date": "2031-05-06"},
}


def _requests(app):
    """(method, path pattern, bulk action) for every route that takes a task id, every bulk
    action and the undo: a new task route joins every check below."""
    found = [
        (method, rule.rule, None)
        for rule in app.url_map.iter_rules()
        if "task_id" in rule.arguments
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    assert len(found) >= 8, found
    return (
        found
        + [("POST", "/tasks/bulk", action) for action in BULK_ACTIONS]
        + [("POST", "/tasks/restore", None)]
    )


def _send(app, client, method, pattern, action, task_id):
    """The request a member's browser would send (htmx, CSRF header) about `task_id`."""
    path = pattern.replace("<int:task_id>", str(task_id))
    if method == "GET":
        return client.get(path, headers=HTMX)
    if path.endswith("/toggle"):
        data = {"done": "1"}
    elif path == f"/tasks/{task_id}":
        task = get_task(app, task_id)
        data = {
            "title": "Changed",
            "notes": task.notes,
            "tags": ", ".join(tag.name for tag in task.tags),
            "priority": str(task.priority),
            "interval": "1",
            "version": str(task.version),
        }
    elif action:
        data = {"ids": [str(task_id)], "action": action, **BULK_ACTIONS[action]}
    else:  # a per-task delete, or the undo
        data = {"ids": [str(task_id)]}
    return post(client, path, data, htmx=True, method=method)


def _state(app, task_id):
    """Every column of the task and its tag links, as the database has them."""
    with app.app_context():
        task = db.session.execute(text("SELECT * FROM tasks WHERE id = :i"), {"i": task_id})
        links = db.session.execute(
            text("SELECT * FROM task_tags WHERE task_id = :i ORDER BY 2"), {"i": task_id}
        )
        return tuple(task.one()), [tuple(row) for row in links]


def _target(app, project_id, pattern, action) -> int:
    """A fresh task for one request: deleted for the undo, done for "open"."""
    if pattern == "/tasks/restore":
        return _shared_task(app, project_id, deleted_at=utcnow())
    return _shared_task(app, project_id, done=action == "open")


def _each_request(app, project_id, email):
    """Every task request as `email` sends it, each about a fresh task of the project:
    yields (what was sent, the response, the task's rows before, and after)."""
    client = _client(app, email)
    for method, pattern, action in _requests(app):
        task_id = _target(app, project_id, pattern, action)
        before = _state(app, task_id)
        response = _send(app, client, method, pattern, action, task_id)
        yield (method, pattern, action), response, before, _state(app, task_id)


def test_a_viewer_sees_a_shared_task_and_every_change_answers_403(app, team):
    for sent, response, before, after in _each_request(app, team, "vic@example.com"):
        body = response.get_data(as_text=True)
        method, pattern, _ = sent
        if method == "GET" and not pattern.endswith("/edit"):
            assert response.status_code == 200 and "Shared plan" in body, sent
            # No control a viewer cannot use: no way into the editor.
            assert "/edit" not in body, sent
        else:
            assert response.status_code == 403, (sent, body[:300])
            assert REFUSAL in body, sent
        assert after == before, sent


@pytest.mark.parametrize("email", ["eddie@example.com", "adam@example.com", "ada@example.com"])
def test_editors_admins_and_the_owner_change_shared_tasks(app, team, email):
    for sent, response, before, after in _each_request(app, team, email):
        assert response.status_code == 200, sent
        if sent[0] != "GET":
            assert after != before, sent


@pytest.mark.parametrize("email", ["nora@example.com", "root@example.com"])
def test_a_non_member_gets_404_for_every_task_route_and_changes_nothing(app, team, email):
    """Nora is no member; Root is an instance admin, which opens no project."""
    for sent, response, before, after in _each_request(app, team, email):
        assert response.status_code == 404, sent
        assert "Shared plan" not in response.get_data(as_text=True)
        assert after == before, sent


def test_a_tag_an_editor_adds_is_seen_by_the_viewer_and_filtered_by_name(app, team):
    task_id = _shared_task(app, team)
    editor = _client(app, "eddie@example.com")
    task = get_task(app, task_id)
    form = {
        "title": task.title,
        "tags": "work, Urgent",
        "priority": "0",
        "interval": "1",
        "version": str(task.version),
    }
    assert post(editor, f"/tasks/{task_id}", form, htmx=True).status_code == 200
    with app.app_context():
        owners = dict(
            db.session.execute(
                select(Tag.name, User.email)
                .join(User, User.id == Tag.owner_id)
                .where(Tag.tasks.any(Task.id == task_id))
            ).all()
        )
    # Ada's "work" stays on the task; "Urgent" is a tag of Eddie's own.
    assert owners == {"work": "ada@example.com", "Urgent": "eddie@example.com"}
    page = _client(app, "vic@example.com").get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Urgent" in page and "work" in page
    # The project's list (no page shows it yet: the projects blueprint comes next) matches a
    # tag by name, whoever made it.
    with app.test_request_context():
        for names, expected in ((("urgent",), [task_id]), (("WORK",), [task_id]), (("x",), [])):
            page = fetch_page(team, ListQuery(tags=names), date.today())
            assert [row.id for row in page.tasks] == expected, names


# ---- one Inbox for every new user --------------------------------------------------------


def _inboxes(app) -> dict[str, list[tuple]]:
    """Each user's projects with their role in them."""
    with app.app_context():
        rows = db.session.execute(
            select(User.email, Project.name, Project.inbox_of_id == User.id, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .join(Project, Project.id == Membership.project_id)
        ).all()
    found: dict[str, list[tuple]] = {}
    for email, *rest in rows:
        found.setdefault(email, []).append(tuple(rest))
    return found


def test_registration_and_the_command_line_give_exactly_one_inbox(app, client):
    form = {
        "email": "grace@example.com",
        "display_name": "Grace",
        "password": PASSWORD,
        "confirm": PASSWORD,
    }
    assert post_form(client, "/register", form, token_from="/register").status_code == 302
    again = app.test_client()  # the same address again: refused, and no second Inbox
    assert post_form(again, "/register", form, token_from="/register").status_code == 422
    runner = app.test_cli_runner()
    for args in (["cli@example.com"], ["root@example.com", "--admin"]):
        result = runner.invoke(args=["users", "create", *args], input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
    inbox = [("Inbox", True, int(Role.OWNER))]
    assert _inboxes(app) == {
        "grace@example.com": inbox,
        "cli@example.com": inbox,
        "root@example.com": inbox,
    }
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Project)) == 3
    # Quick add on the list puts the new task in the Inbox.
    assert post(client, "/tasks", {"title": "First"}).status_code == 303
    with app.app_context():
        _, inbox_id = inbox_of("grace@example.com")
        assert db.session.scalar(select(Task.project_id).where(Task.title == "First")) == inbox_id
