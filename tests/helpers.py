"""Plain helpers the test modules share; the fixtures (app, client, user, auth_client) live in
conftest.py. Requests go through the real forms with the CSRF token a browser would send, and
rows are made and read directly. Test modules import helpers from here (or from live.py and
shell.py for real processes), never from conftest.py or from one another, so that each test
module can be read, moved or deleted alone."""

from __future__ import annotations

import contextlib
import random
import re
import uuid
from datetime import date, timedelta

import psycopg
from sqlalchemy import event, func, insert, select, text
from sqlalchemy.engine import make_url

from app.extensions import db
from app.models import Membership, Project, Role, Tag, Task, User, task_tags, utcnow
from app.projects.services import add_inboxes
from app.timezones import today_for

PASSWORD = "lantern-orbit-cactus-42"
HTMX = {"HX-Request": "true"}

# The endpoints a visitor who is not signed in may open (static files aside): the attack
# tests check that everything else asks them to sign in, the browser walks visit these.
PUBLIC_ENDPOINTS = frozenset(
    {
        "main.index",
        "health.healthz",
        "health.readyz",
        "main.favicon",
        "auth.login",
        "auth.register",
        "auth.forgot_password",
        "auth.reset_password",  # without a token: back to the form that asks for one
        "addresses.verify",  # the link's token decides; without one: the account page
        "addresses.confirm_change",
        "unsubscribe.confirm",  # the signed token decides; without one: a 400 page
        "unsubscribe.apply",
    }
)


# ---- requests ----------------------------------------------------------------------------


def csrf_token(client, path: str = "/login") -> str:
    """The token a browser would send: read from the page's <meta name="csrf-token">."""
    page = client.get(path)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


def post_form(client, path: str, data: dict, *, token_from: str = "/login", headers=None):
    """A plain form post: the token in the form, as a browser without JavaScript sends it."""
    return client.post(
        path, data={**data, "csrf_token": csrf_token(client, token_from)}, headers=headers
    )


def account_post(client, path: str, data: dict):
    """A form posted from the account page (name, password, sessions, deletion)."""
    return post_form(client, path, data, token_from="/account")


def change_password(client, current: str, new: str):
    """The account page's password form, the new password typed twice."""
    return account_post(
        client,
        "/account/password",
        {"current_password": current, "new_password": new, "confirm": new},
    )


def post(client, path, data=None, *, htmx=False, method="POST"):
    """A request with the token in the X-CSRFToken header, as htmx sends it (base.html sets
    it once); `htmx` adds HX-Request, so the answer is the fragment."""
    headers = {"X-CSRFToken": csrf_token(client, "/tasks")}
    if htmx:
        headers.update(HTMX)
    return client.open(path, method=method, data=data or {}, headers=headers)


def admin_post(client, path: str, data: dict | None = None, *, htmx: bool = False):
    """A form posted from the admin pages; `htmx` asks for the fragment."""
    return post_form(
        client, path, data or {}, token_from="/admin/users", headers=HTMX if htmx else None
    )


# ---- the job queue -----------------------------------------------------------------------


def huey_time(**delta):
    """A moment on Huey's clock (naive UTC), `delta` from now."""
    from huey.utils import normalize_time

    return normalize_time(delay=timedelta(**delta).total_seconds(), utc=True)


def run_due(at=None) -> int:
    """One pass of the consumer at the moment `at`, its clock given rather than waited for:
    scheduled jobs that are due join the queue, then every queued job runs (those it queues
    too). How many ran."""
    from app.jobs import huey

    at = at or huey_time()
    for task in huey.read_schedule(at):
        huey.enqueue(task)
    ran = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task, at)
        ran += 1
    return ran


# ---- people ------------------------------------------------------------------------------


def create_user(
    app, email="ada@example.com", password=PASSWORD, name="Ada", admin=False, verified=True
):
    """A user as the command line makes them: their address verified unless `verified` is
    False (as registration leaves it until the link is opened)."""
    from app.auth.services import create_user as create

    with app.app_context():
        user = create(email, password, name, is_admin=admin, verified=verified)
        return user.id


def register(client, **fields):
    """The registration form, as Grace fills it in unless `fields` say otherwise."""
    data = {
        "email": "grace@example.com",
        "display_name": "Grace",
        "password": PASSWORD,
        "confirm": PASSWORD,
        **fields,
    }
    return post_form(client, "/register", data, token_from="/register")


def login(client, email="ada@example.com", password=PASSWORD, remember=False, next_url=None):
    path = "/login" + (f"?next={next_url}" if next_url else "")
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return post_form(client, path, data)


def logout(client):
    return post_form(client, "/logout", {}, token_from="/account")


def admin_client(app, email="root@example.com"):
    """A client signed in as a fresh admin."""
    create_user(app, email=email, name="Root", admin=True)
    client = app.test_client()
    assert login(client, email=email).status_code == 302
    return client


def user_id(app, email="ada@example.com") -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def get_user(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            db.session.expunge(user)
        return user


def add_users(app, count: int, *, tasks_each: int = 2, prefix: str = "member") -> None:
    """Insert users (and tasks) directly: hashing 60 passwords would only slow the test."""
    with app.app_context():
        password_hash = db.session.scalar(select(User.password_hash).limit(1)) or "x"
        now = utcnow()
        rows = [
            {
                "email": f"{prefix}{i:03d}@example.com",
                "display_name": f"Member {i:03d}",
                "password_hash": password_hash,
                "created_at": now - timedelta(minutes=count - i),
            }
            for i in range(count)
        ]
        ids = db.session.scalars(insert(User).returning(User.id), rows).all()
        add_inboxes(ids)
        inbox_of = dict(db.session.execute(select(Project.inbox_of_id, Project.id)).all())
        tasks = [
            {
                "project_id": inbox_of[uid],
                "created_by_id": uid,
                "title": f"Task {n}",
                "done": n == 0,
            }
            for uid in ids
            for n in range(tasks_each)
        ]
        if tasks:
            db.session.execute(insert(Task), tasks)
        db.session.commit()


# ---- rows --------------------------------------------------------------------------------


def inbox_of(email="ada@example.com") -> tuple[int, int]:
    """(user id, their Inbox's id), inside an app context."""
    return db.session.execute(
        select(User.id, Project.id)
        .join(Project, Project.inbox_of_id == User.id)
        .where(User.email == email)
    ).one()


def add_task(app, email="ada@example.com", *, tags=(), project_id=None, **fields) -> int:
    """A task added by `email`, in their Inbox unless `project_id` says otherwise."""
    with app.app_context():
        owner, inbox = inbox_of(email)
        task = Task(
            project_id=project_id or inbox,
            created_by_id=owner,
            title=fields.pop("title", "A task"),
            **fields,
        )
        # No autoflush: looking up a second existing tag would flush the first one's link to
        # a task not yet in the session (SQLAlchemy warns, and the suite makes that an error).
        with db.session.no_autoflush:
            for name in tags:
                tag = db.session.scalar(
                    select(Tag).where(Tag.owner_id == owner, Tag.name_key == name.casefold())
                ) or Tag(owner_id=owner, name=name, colour="#336699")
                task.tags.append(tag)
        db.session.add(task)
        db.session.commit()
        return task.id


def add_project(app, email="ada@example.com", name="Work", *, colour="#336699", **fields) -> int:
    """A project owned by `email` (their membership with the role OWNER), made directly."""
    with app.app_context():
        owner, _ = inbox_of(email)
        project = Project(name=name, colour=colour, **fields)
        project.memberships.append(Membership(user_id=owner, role=Role.OWNER))
        db.session.add(project)
        db.session.commit()
        return project.id


def add_member(app, project_id: int, email: str, role: Role) -> None:
    """`email` made a member of the project with `role`, directly (no invitation)."""
    with app.app_context():
        member, _ = inbox_of(email)
        db.session.add(Membership(project_id=project_id, user_id=member, role=role))
        db.session.commit()


def get_task(app, task_id) -> Task | None:
    with app.app_context():
        task = db.session.get(Task, task_id)
        if task is not None:
            task.tags  # noqa: B018 (load before the session closes)
            db.session.expunge(task)
        return task


def count(app, model=Task, *conditions) -> int:
    """Rows of `model` (a model or a table) that meet every condition."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


@contextlib.contextmanager
def count_queries(app):
    """Count SQL statements sent while the block runs (a list, so it can be read after)."""
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def before(_conn, _cursor, statement, *_args):
        # SQLite's explicit BEGIN (app/database.py) is transaction control, not a query.
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def sent_statement(app, client, url: str, picks, headers=None) -> tuple[str, object]:
    """The one statement, with its parameters, that a real GET of `url` sends and
    `picks(sql)` chooses: the SQL a plan test then explains or measures."""
    with app.app_context():
        engine = db.engine
    seen = []

    def capture(_conn, _cursor, statement, parameters, *_):
        if picks(statement):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        assert client.get(url, headers=headers or {}).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert len(seen) == 1, seen
    return seen[0]


def sqlite_steps(app, statement: str, parameters) -> int:
    """The virtual-machine steps (in hundreds) SQLite takes to answer `statement`: its count
    of work, which grows with every row read, exact and independent of the machine's speed."""
    with app.app_context(), db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        ticks = [0]

        def tick():
            ticks[0] += 1
            return 0

        raw.set_progress_handler(tick, 100)
        try:
            raw.execute(statement, parameters).fetchall()
        finally:
            raw.set_progress_handler(None, 100)
    return ticks[0]


def app_today(app) -> date:
    """Today as the app sees it for a user who chose no zone (its TIMEZONE), never the
    machine's local date: a test that used date.today() would fail for hours a day on a
    machine far from the app's zone."""
    with app.app_context():
        return today_for(None)


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as psycopg.connect() takes it (no +driver)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def new_database(database_url: str, folder):
    """The URL of a new, empty database on the same kind of server as `database_url` (a
    SQLite file in `folder`, or a PostgreSQL database dropped afterwards)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{folder / f'new-{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    with new_postgres_database(database_url, "tasklane_new") as libpq:
        yield make_url(libpq).set(drivername=url.drivername).render_as_string(hide_password=False)


@contextlib.contextmanager
def new_postgres_database(server_url: str, prefix: str = "tasklane_test"):
    """An empty database on the server `server_url` names, dropped after: its libpq URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin_url = libpq_url(server_url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---- a big list and its query plans -----------------------------------------------------


def seed_big_list(app, mine: int = 20_000, others: int = 2, theirs: int = 2_000) -> int:
    """`mine` tasks in Ada's Inbox (30% undated, 30% done, 3 of 50 tags each), `theirs` in
    each of `others` other users' Inboxes, statistics fresh from ANALYZE: large enough that the
    planners pick what they would in production. Returns the id of Ada's Inbox."""
    rnd = random.Random(8)
    today = app_today(app)
    now = utcnow()
    with app.app_context():
        owner, inbox = inbox_of()
        db.session.execute(
            insert(Tag.__table__),
            [
                {"owner_id": owner, "name": f"tag{i}", "name_key": f"tag{i}", "colour": "#336699"}
                for i in range(50)
            ],
        )
        owners = [owner] + [
            db.session.execute(
                text(
                    "INSERT INTO users (email, password_hash, display_name, is_admin, is_active,"
                    " must_change_password, created_at) VALUES (:e, 'x', 'X', false, true, false,"
                    " :now) RETURNING id"
                ),
                {"e": f"other{i}@example.com", "now": now},
            ).scalar_one()
            for i in range(others)
        ]
        add_inboxes(owners[1:])
        inboxes = dict(db.session.execute(select(Project.inbox_of_id, Project.id)).all())
        rows = [
            task_row(rnd, inboxes[who], who, f"Task {i}", (-30, 300), 0.3, today, now)
            for who in owners
            for i in range(mine if who == owner else theirs)
        ]
        db.session.execute(insert(Task.__table__), rows)
        tag_ids = list(db.session.scalars(select(Tag.id).where(Tag.owner_id == owner)))
        task_ids = db.session.scalars(select(Task.id).where(Task.project_id == inbox)).all()
        db.session.execute(
            insert(task_tags),
            [{"task_id": t, "tag_id": g} for t in task_ids for g in rnd.sample(tag_ids, 3)],
        )
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
        return inbox


def task_row(rnd, project, creator, title, due_days, undated, today, now, **extra) -> dict:
    """A tasks row: 30% done, any priority, `undated` of them with no due date, the others
    due `due_days` (a range of days) from today."""
    return {
        "project_id": project,
        "created_by_id": creator,
        "title": title,
        "notes": "",
        "done": rnd.random() < 0.3,
        "priority": rnd.randint(0, 3),
        "due_date": None
        if rnd.random() < undated
        else today + timedelta(days=rnd.randint(*due_days)),
        "position": 0,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        **extra,
    }


def listed_ids(client, path: str, params: dict) -> list[int]:
    """Every row the list shows for these arguments, following "Load more" to the end."""
    ids: list[int] = []
    response = client.get(path, query_string=params, headers=HTMX)
    for _ in range(200):
        assert response.status_code == 200, response.get_data(as_text=True)
        page = response.get_data(as_text=True)
        ids += [int(i) for i in re.findall(r'<div role="row" id="task-(\d+)"', page)]
        more = re.search(r'hx-get="([^"]+after=[^"]+)"', page)
        if not more:
            return ids
        response = client.get(more.group(1).replace("&amp;", "&"), headers=HTMX)
    raise AssertionError("more than 200 pages")


def list_statement(app, client, url: str, headers=None):
    """The SQL and parameters of the page query a real request for `url` sends."""

    def page_query(statement: str) -> bool:
        # The project list's counts read tasks with a LIMIT too: left out by their count(*).
        # A search's page counts too (the SQLite index's matches, PostgreSQL's probe).
        search = "tasks_search" in statement or "probe" in statement
        page = "count(*)" not in statement or search
        return bool(re.search(r"FROM tasks\b", statement)) and "LIMIT" in statement and page

    return sent_statement(app, client, url, page_query, headers)


def query_plan(app, statement, parameters) -> list[str]:
    """The plan's lines: EXPLAIN QUERY PLAN's details on SQLite, EXPLAIN's on PostgreSQL."""
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            return [row[-1] for row in rows]
        rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters)
        return [row[0] for row in rows]


def prepared_statements(app) -> list[str]:
    """What PostgreSQL holds prepared on the pool's connection (the one a single-threaded
    test client's requests all run on)."""
    with app.app_context(), db.engine.connect() as conn:
        return list(conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements").scalars())


def generic_plan(app, statement, parameters, *, explain: str = "EXPLAIN") -> list:
    """The plan PostgreSQL runs `statement` by once it is prepared: psycopg prepares a
    statement after its fifth run on a connection (app/database.py keeps them past a read's
    end), and after five runs of that the planner may keep one generic plan for all values.
    Forced here, so a plan test checks the plan production settles on as well as the one
    for these values. The rows EXPLAIN returns (`explain` may add options: FORMAT JSON)."""
    # psycopg numbers named parameters $1, $2 ... in the order they first appear.
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", statement)))
    with app.app_context():
        url = libpq_url(db.engine.url.render_as_string(hide_password=False))
    with psycopg.connect(url) as conn:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.execute(statement, parameters, prepare=True).fetchall()
        name, types = conn.execute(
            "SELECT name, parameter_types::text[] FROM pg_prepared_statements"
        ).fetchone()
        # EXECUTE's arguments cannot be sent as parameters: written into the statement.
        values = ", ".join(f"%s::{type_}" for type_ in types)
        cursor = psycopg.ClientCursor(conn)
        cursor.execute(f"{explain} EXECUTE {name}({values})", [parameters[n] for n in names])
        return [row[0] for row in cursor.fetchall()]


# ---- the task editor's form -----------------------------------------------------------------


def edit_data(task, **changes) -> dict:
    """The editor's form as it comes filled in for `task` (a get_task()), with `changes`."""
    data = {
        "title": task.title,
        "notes": task.notes,
        "priority": str(task.priority),
        "due_date": task.due_date.isoformat() if task.due_date else "",
        "tags": ", ".join(t.name for t in task.tags),
        "repeat": "",
        "interval": "1",
        "version": str(task.version),
    }
    data.update(changes)
    return data
