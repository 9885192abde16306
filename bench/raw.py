"""The "raw" ceiling: Tasklane's list page and toggle with Flask + Jinja + psycopg 3 only.

No ORM, no Flask extension: it reads the user from the same signed session cookie, looks the
login session and user up by token hash in one query, runs the list page's queries by hand
(first page of open tasks by due date, the tags of those rows in one query, the user's tags
for the filter bar) and renders Tasklane's own templates to the same bytes (within 10%,
checked by tests/test_bench_ceiling.py). The toggle checks the CSRF header like flask-wtf,
updates the row and renders the same fragment. It serves only the default list view and
toggles of tasks without a repeat rule: what the bench asks of it.

PostgreSQL through a psycopg_pool pool (one connection per thread when the pool package is
missing), or SQLite through sqlite3 for the SQLite ceiling. Served by gunicorn with the
production config: `gunicorn -c gunicorn.conf.py "bench.raw:create_app()"`, with
RAW_DATABASE_URL and SECRET_KEY in the environment.
"""

from __future__ import annotations

import base64
import enum
import functools
import hashlib
import hmac
import importlib.util
import json
import os
import sqlite3
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

from flask import Flask, abort, g, render_template, request, session, url_for
from itsdangerous import BadData, URLSafeTimedSerializer

ROOT = Path(__file__).resolve().parent.parent
PAGE = 50
STATS = {"queries": 0}  # execute() calls, read by the bench's query count


def _load(relative: str, name: str):
    """A standalone app module by path, without importing the app package (and its ORM)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


dates = _load("app/tasks/dates.py", "_raw_dates")
timezones = _load("app/timezones.py", "_raw_timezones")
quickadd = _load("app/tasks/quickadd.py", "_raw_quickadd")
counts = _load("app/counts.py", "_raw_counts")
palette = _load("app/palette.py", "_raw_palette")
row_controls = _load("app/tasks/row_controls.py", "_raw_row_controls")


class Role(enum.IntEnum):  # as app.models.Role
    VIEWER = 1
    EDITOR = 2
    ADMIN = 3
    OWNER = 4


VIEWER, EDITOR = Role.VIEWER, Role.EDITOR


class Priority(enum.IntEnum):  # as app.models.Priority
    NONE = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.capitalize()


BULK_ACTIONS = [
    SimpleNamespace(value=v, label=label)
    for v, label in [
        ("done", "Mark done"),
        ("open", "Mark not done"),
        ("delete", "Delete"),
        ("tag_add", "Add tag"),
        ("tag_remove", "Remove tag"),
        ("priority", "Set priority"),
        ("due", "Set due date"),
        ("move", "Move to project"),
    ]
]

# ---- database -----------------------------------------------------------------------------


class Database:
    """Connections for one request: `with db.connect(write) as conn: query(conn, ...)`."""

    def __init__(self, url: str):
        self.sqlite = url.startswith("sqlite")
        self.local = threading.local()
        if self.sqlite:
            self.path = url.split("///", 1)[1]
            return
        self.url = _libpq(url)
        try:
            from psycopg_pool import ConnectionPool
        except ImportError:
            self.pool = None
        else:
            self.pool = ConnectionPool(self.url, min_size=4, max_size=8, open=True)

    def connect(self, write: bool = False):
        if self.sqlite:
            return _SqliteTransaction(self._sqlite(), write)
        if self.pool is not None:
            return self.pool.connection()
        return _PsycopgTransaction(self._psycopg())

    def close(self) -> None:
        if not self.sqlite and self.pool is not None:
            self.pool.close()
        conn = getattr(self.local, "conn", None)
        if conn is not None:
            conn.close()
            self.local.conn = None

    def _sqlite(self):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
                conn.execute(f"PRAGMA {pragma}")
            conn.execute("PRAGMA busy_timeout=10000")
            self.local.conn = conn
        return conn

    def _psycopg(self):
        conn = getattr(self.local, "conn", None)
        if conn is None or conn.closed:
            import psycopg

            conn = self.local.conn = psycopg.connect(self.url)
        return conn


class _SqliteTransaction:
    def __init__(self, conn, write):
        self.conn, self.write = conn, write

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE" if self.write else "BEGIN")
        return self.conn

    def __exit__(self, exc_type, *_):
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


class _PsycopgTransaction:
    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        return self.conn

    def __exit__(self, exc_type, *_):
        if exc_type:
            self.conn.rollback()
        else:
            self.conn.commit()


def _libpq(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgres") else url


def query(conn, sql: str, params=()) -> list[tuple]:
    STATS["queries"] += 1
    if isinstance(conn, sqlite3.Connection):
        sql = sql.replace("%s", "?")
    return conn.execute(sql, params).fetchall()


def execute(conn, sql: str, params=()) -> None:
    """A statement without rows (an UPDATE)."""
    STATS["queries"] += 1
    if isinstance(conn, sqlite3.Connection):
        sql = sql.replace("%s", "?")
    conn.execute(sql, params)


def _kind(conn) -> str:
    return "sqlite" if isinstance(conn, sqlite3.Connection) else "pg"


def _date(value):
    return date.fromisoformat(value) if isinstance(value, str) else value


def _utc(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _now_param(conn):
    now = datetime.now(UTC)
    if isinstance(conn, sqlite3.Connection):
        return now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return now


# ---- the signed-in user ----------------------------------------------------------------------

# With the user's Inbox, as Tasklane's user loader reads it in its one query.
USER_SQL = """
SELECT u.id, u.display_name, u.is_admin, s.remember, s.expires_at, s.last_seen_at, p.id,
  u.timezone,
  (SELECT count(*) FROM (SELECT n.id FROM notifications n
    WHERE n.user_id = u.id AND n.read_at IS NULL LIMIT {cap}) AS unread)
FROM login_sessions s JOIN users u ON u.id = s.user_id JOIN projects p ON p.inbox_of_id = u.id
WHERE s.token_hash = %s AND u.is_active
""".replace("{cap}", str(counts.CAP + 1))  # the header's unread count, as the loader reads it


def current_user(conn):
    """The user of the session cookie's login-session token, or a 401."""
    token = session.get("_user_id")
    if not token or len(token) > 128:
        abort(401)
    rows = query(conn, USER_SQL, (hashlib.sha256(token.encode()).hexdigest(),))
    if not rows:
        abort(401)
    uid, name, admin, remember, expires, seen, inbox_id, zone, unread = rows[0]
    now = datetime.now(UTC)
    idle = timedelta(days=30) if remember else timedelta(hours=12)
    if _utc(expires) <= now or _utc(seen) + idle <= now:
        abort(401)
    return SimpleNamespace(
        id=uid,
        display_name=name,
        is_admin=bool(admin),
        is_authenticated=True,
        inbox_id=inbox_id,
        timezone=zone,
        unread_notifications=unread,
    )


def csrf_token() -> str:
    """The signed form of the session's CSRF secret, as flask-wtf's generate_csrf makes it."""
    if "raw_csrf" not in g:
        g.raw_csrf = _csrf_serializer().dumps(session["csrf_token"])
    return g.raw_csrf


def _csrf_serializer():
    return URLSafeTimedSerializer(request_app().config["SECRET_KEY"], salt="wtf-csrf-token")


def request_app():
    from flask import current_app

    return current_app


def check_csrf() -> None:
    token = request.headers.get("X-CSRFToken") or request.form.get("csrf_token", "")
    try:
        raw = _csrf_serializer().loads(token)
    except BadData:
        abort(400)
    if not hmac.compare_digest(raw, session.get("csrf_token", "")):
        abort(400)


# ---- the task list ---------------------------------------------------------------------------

TASK_COLUMNS = "id, title, notes <> '', done, priority, due_date, recurrence"
PAGE_SQL = f"""
SELECT {TASK_COLUMNS} FROM tasks
WHERE project_id = %s AND deleted_at IS NULL AND done IS {{false}}
ORDER BY due_date IS NULL, due_date, id
LIMIT %s
"""  # noqa: S608 (constant column list)
# Word for word the conditions and order SQLAlchemy writes for Tasklane's page on each database,
# because the plans depend on them: `done = %s` got another generic plan on PostgreSQL, and
# SQLite uses the (project_id, done) index for `done IS 0` but not for `done IS false`.
PAGE_SQL_BY_DB = {"sqlite": PAGE_SQL.format(false="0"), "pg": PAGE_SQL.format(false="false")}
# A write by id reaches the task through the user's membership of its project, in the same
# statement, as app/access.reachable makes Tasklane's toggle do (role 2: editor or above).
MEMBER_OF = "project_id IN (SELECT project_id FROM memberships WHERE user_id = %s AND role >= %s)"
ONE_SQL = f"SELECT {TASK_COLUMNS} FROM tasks WHERE id = %s AND {MEMBER_OF} AND deleted_at IS NULL"  # noqa: S608
TOGGLE_SQL = (
    "UPDATE tasks SET done = %s, done_at = %s, version = version + 1, updated_at = %s "  # noqa: S608
    f"WHERE id = %s AND {MEMBER_OF} AND deleted_at IS NULL AND done <> %s"
)


def _tasks(rows) -> list[SimpleNamespace]:
    return [
        SimpleNamespace(
            id=r[0],
            title=r[1],
            has_notes=bool(r[2]),
            done=bool(r[3]),
            priority=r[4],
            due_date=_date(r[5]),
            recurrence=r[6],
            due_time=None,  # the bench's tasks have no time of day (bench/seed.py)
            tags=[],
        )
        for r in rows
    ]


def attach_tags(conn, tasks) -> None:
    """The tags of these tasks in one query, each task's sorted by name like Task.tags."""
    if not tasks:
        return
    by_id = {t.id: t for t in tasks}
    marks = ", ".join(["%s"] * len(by_id))
    rows = query(
        conn,
        "SELECT tt.task_id, t.name, t.colour FROM task_tags tt JOIN tags t ON t.id = tt.tag_id "  # noqa: S608 (placeholders only)
        f"WHERE tt.task_id IN ({marks}) ORDER BY t.name_key",
        list(by_id),
    )
    for task_id, name, colour in rows:
        by_id[task_id].tags.append(SimpleNamespace(name=name, colour=colour))


# The project list beside the list: each live project of the user's with its open tasks
# (the counter projects.open_tasks, kept by the database), in one query, as
# app/projects/services.project_rows writes it.
NAV_SQL = """
SELECT p.id, p.name, p.colour, p.inbox_of_id, p.archived_at, m.role, p.open_tasks
FROM memberships m JOIN projects p ON p.id = m.project_id
WHERE m.user_id = %s AND p.archived_at IS NULL
ORDER BY p.inbox_of_id IS NULL, p.name_key, p.id
"""
NAV_FIELDS = ("id", "name", "colour", "inbox_of_id", "archived_at", "role", "open_count")


def can_edit(role) -> bool:  # as app.access.can_edit
    return role is not None and role >= Role.EDITOR


class InboxScope:
    """The Inbox, as the templates read app/tasks/routes.ListScope."""

    role, project, view, title = Role.OWNER, None, None, "Inbox"

    def __init__(self, project_id: int):
        self.project_id = project_id
        self.url = row_url("tasks.index")


class DefaultQuery:
    """The default list view (open tasks by due date), as the templates read a ListQuery."""

    q, status, tags, priority, due, sort, is_filtered = "", "open", (), None, "", "due", False

    def query_string(self, raw_after: str = "") -> str:
        return urlencode([("after", raw_after)] if raw_after else [])


def cursor(task) -> str:
    due = task.due_date.isoformat() if task.due_date else None
    values = [1 if task.due_date is None else 0, due, task.id]
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def list_page():
    with request_app().extensions["raw_db"].connect() as conn:
        user = current_user(conn)
        g.raw_user = user
        tasks = _tasks(query(conn, PAGE_SQL_BY_DB[_kind(conn)], (user.inbox_id, PAGE + 1)))
        more = len(tasks) > PAGE
        tasks = tasks[:PAGE]
        attach_tags(conn, tasks)
        all_tags = [
            SimpleNamespace(name=r[0], name_key=r[1])
            for r in query(
                conn,
                "SELECT name, name_key FROM tags WHERE owner_id = %s ORDER BY name_key",
                (user.id,),
            )
        ]
        nav = [
            SimpleNamespace(**dict(zip(NAV_FIELDS, row, strict=True)))
            for row in query(conn, NAV_SQL, (user.id,))
        ]
    page = SimpleNamespace(tasks=tasks, next_cursor=cursor(tasks[-1]) if more and tasks else None)
    return render_template(
        "tasks/index.html",
        scope=InboxScope(user.inbox_id),
        role=Role.OWNER,
        nav=nav,
        move_choices=[(row.id, row.name) for row in nav if can_edit(row.role)],
        query=DefaultQuery(),
        page=page,
        today=timezones.today_for(user),
        undo_tasks=[],
        form=None,
        bulk_actions=BULK_ACTIONS,
        all_tags=all_tags,
        undo_ids=None,
        syntax_help=quickadd.SYNTAX_HELP,
    )


def toggle(task_id: int):
    check_csrf()
    done = request.form.get("done", "") in ("1", "y", "on", "true")
    with request_app().extensions["raw_db"].connect(write=True) as conn:
        user = current_user(conn)
        g.raw_user = user
        now = _now_param(conn)
        execute(
            conn,
            TOGGLE_SQL,
            (done, now if done else None, now, task_id, user.id, EDITOR, done),
        )
        tasks = _tasks(query(conn, ONE_SQL, (task_id, user.id, VIEWER)))
        if not tasks:
            abort(404)
        attach_tags(conn, tasks)
    return render_template(
        "tasks/_toggled.html",
        task=tasks[0],
        following=None,
        role=EDITOR,
        today=timezones.today_for(user),
    )


# ---- the app --------------------------------------------------------------------------------

# Every endpoint the list templates link to, so url_for builds Tasklane's URLs.
LINKED = [
    ("/", "main.index", ["GET"]),
    ("/notifications", "notifications.index", ["GET"]),
    ("/notifications/count", "notifications.count", ["GET"]),
    ("/tasks/help", "tasks.help_page", ["GET"]),
    ("/tasks", "tasks.create", ["POST"]),
    ("/tasks/<int:task_id>", "tasks.detail", ["GET"]),
    ("/tasks/<int:task_id>/row", "tasks.row", ["GET"]),
    ("/tasks/<int:task_id>/edit", "tasks.edit", ["GET"]),
    ("/tasks/<int:task_id>/delete", "tasks.delete", ["POST"]),
    ("/tasks/bulk", "tasks.bulk", ["POST"]),
    ("/tags", "tags.index", ["GET"]),
    ("/projects", "projects.index", ["GET"]),
    ("/projects/nav", "projects.nav_list", ["GET"]),
    ("/projects/<int:project_id>", "projects.show", ["GET"]),
    ("/projects/<int:project_id>/settings", "projects.settings", ["GET"]),
    ("/projects/<int:project_id>/activity", "projects.activity_log", ["GET"]),
    ("/tasks/today", "tasks.today", ["GET"]),
    ("/tasks/upcoming", "tasks.upcoming", ["GET"]),
    ("/tasks/assigned", "tasks.assigned", ["GET"]),
    ("/tasks/all", "tasks.all", ["GET"]),
    ("/invitations", "sharing.invitations", ["GET"]),
    ("/admin", "admin.dashboard", ["GET"]),
    ("/account", "account.page", ["GET"]),
    ("/login", "auth.login", ["GET"]),
    ("/register", "auth.register", ["GET"]),
    ("/logout", "auth.logout", ["POST"]),
]


def _not_here(**_):
    abort(404)


# URL helpers Tasklane's templates may call instead of url_for (added on main with the
# performance work: app/urls.py, app/static_files.py), written the hand-made way.
_ROW_URLS: dict[str, tuple[str, ...]] = {}
_ID_PLACEHOLDER = 2**31 - 1


def row_url(endpoint: str, task_id: int | None = None) -> str:
    parts = _ROW_URLS.get(endpoint)
    if parts is None:
        if task_id is None:
            parts = (url_for(endpoint),)
        else:
            head, _, tail = url_for(endpoint, task_id=_ID_PLACEHOLDER).partition(
                str(_ID_PLACEHOLDER)
            )
            parts = (head, tail)
        _ROW_URLS[endpoint] = parts
    return parts[0] if task_id is None else f"{parts[0]}{int(task_id)}{parts[1]}"


def tag_url(name: str) -> str:
    return f"{row_url('tasks.index')}?{urlencode({'tag': name})}"


@functools.lru_cache(maxsize=256)
def _fingerprint(filename: str) -> str | None:
    path = ROOT / "static" / filename
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.is_file() else None


def static_url(filename: str) -> str:
    version = _fingerprint(filename)
    if version is None:
        return url_for("static", filename=filename)
    return url_for("static", filename=filename, v=version)


def create_app(database_url: str | None = None, secret_key: str | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(
        SECRET_KEY=secret_key or os.environ["SECRET_KEY"],
        SESSION_COOKIE_NAME="tasklane_session",
        TIMEZONE=os.environ.get("TIMEZONE", "UTC"),
    )
    app.extensions["raw_db"] = Database(database_url or os.environ["RAW_DATABASE_URL"])
    app.add_url_rule("/tasks", "tasks.index", list_page, methods=["GET"])
    app.add_url_rule("/tasks/<int:task_id>/toggle", "tasks.toggle", toggle, methods=["POST"])
    for rule, endpoint, methods in LINKED:
        app.add_url_rule(rule, endpoint, _not_here, methods=methods)
    app.jinja_env.globals.update(
        row_url=row_url,
        tag_url=tag_url,
        static_url=static_url,
        csrf_token=csrf_token,
        current_user=SimpleNamespace(is_authenticated=False),
        Priority=Priority,
        Role=Role,
        can_edit=can_edit,
        colour_dot=palette.dot,
        svg_dot=palette.svg_dot,
        # As app/template_filters.time_of_day (rows due today at a time ask for it).
        time_of_day=lambda: timezones.now_for(g.raw_user).time(),
    )
    app.jinja_env.globals.update(
        due_mark=dates.due_mark,
        PRIORITY_MARK=dates.priority_marks(Priority),
        chips=palette.chips_maker(tag_url),
    )
    app.jinja_env.globals["task_row"] = row_controls.row_maker(
        row_url,
        chips=app.jinja_env.globals["chips"],
        due_mark=dates.due_mark,
        priority_mark=app.jinja_env.globals["PRIORITY_MARK"],
        time_of_day=app.jinja_env.globals["time_of_day"],
        can_edit=can_edit,
        dot=palette.dot,
        inbox_id=lambda: g.raw_user.inbox_id,
    )
    app.add_template_filter(dates.due_state, "due_state")
    app.add_template_filter(dates.due_label, "due_label")
    app.add_template_filter(counts.count_label, "count_label")
    app.add_template_filter(counts.count_spoken, "count_spoken")

    @app.context_processor
    def _user():
        return {"current_user": g.get("raw_user")}

    return app
