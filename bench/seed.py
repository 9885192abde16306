"""Seed the bench databases fast: the app's migrations, then bulk inserts.

The schema comes from `flask db upgrade` (the same migrations as production), the rows from
psycopg's COPY on PostgreSQL and one executemany per table on SQLite. Rows carry explicit ids
(sequences are moved past them afterwards), one password hash is made with the app's hasher
and reused, and the users the bench signs in as get login sessions with known tokens.

Data (size "full"): user A (an admin) with 100,000 tasks and 50 tags, about 3 tags a task;
99 other users with 100 tasks each; users "a1k" and "a10k" with 1,000 and 10,000 tasks and
50 tags each (the scale sweep); filler users up to 10,000 users for the admin list. Every
owner's tasks mix priorities, due dates (30% none), done states (30% done) and title lengths;
1% of titles contain SEARCH_WORD. Size "tiny" is the same shape, small, for the smoke test.
Every user has an Inbox (a project with the user's own id, and an owner membership), which
holds all of their tasks, as the migration to projects leaves an existing instance.

Projects (issue 16): "Team", shared by 10 people (owner, 2 admins, 5 editors with the bench's
user "member" among them, 2 viewers) with 100,000 tasks made by its writers, a third of them
assigned; "Solo", the same user's project of 5,000 tasks that nobody else is in; and 20
projects of 5,000 tasks that user "p20" is in (owner of 5, admin, editor or viewer of the rest).
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from app.palette import PALETTE
from bench.settings import SECRET_KEY, USER_AGENT


def _words(text: str) -> list[str]:
    return text.split()


SEARCH_WORD = "zephyr"
PASSWORD = "bench-password-not-secret"  # noqa: S105 (a bench database holds no real user)
TAG_WORDS = _words(
    "work home errands finance health garden reading travel family school music sport "
    "car house kitchen office email calls meetings review design code ops writing "
    "research shopping bills taxes insurance doctor dentist gym running cycling photos "
    "friends birthday gifts holiday planning cleaning repairs pets books films learning "
    "ideas someday urgent waiting"
)
WORDS = _words(
    "call email write review update fix plan book buy send check prepare draft clean "
    "schedule finish read order pay renew cancel organise sort file print sign return "
    "the report budget invoice slides notes garden car bike kitchen roof window tyres "
    "quarterly weekly monthly annual team client project meeting dentist doctor school "
    "teacher landlord bank insurance tax form passport visa tickets hotel flight train "
    "presentation proposal contract agreement backup server database release roadmap "
    "newsletter photos album birthday present party dinner lunch groceries milk bread "
    "with about for before after from to and new old big small next last first final"
)
TOKENS = {  # login-session tokens the bench signs in with (a bench database only)
    "a": "bench-session-token-user-a-0000000000000000",
    "a1k": "bench-session-token-user-a1k-000000000000000",
    "a10k": "bench-session-token-user-a10k-00000000000000",
    "member": "bench-session-token-user-member-0000000000",
    "p20": "bench-session-token-user-p20-000000000000000",
}

USER_COLS = _words(
    "id email password_hash display_name is_admin is_active must_change_password "
    "created_at last_login_at"
)
SESSION_COLS = _words(
    "id user_id token_hash remember created_at last_seen_at expires_at ip user_agent"
)
PROJECT_COLS = _words("id name name_key colour inbox_of_id created_at")
MEMBERSHIP_COLS = _words("project_id user_id role created_at")
VIEWER, EDITOR, ADMIN, OWNER = 1, 2, 3, 4  # app.models.Role
TAG_COLS = _words("id owner_id name name_key colour")
TASK_COLS = _words(
    "id project_id created_by_id assignee_id title notes done done_at priority due_date "
    "recurrence position created_at updated_at version deleted_at"
)
TASK_TAG_COLS = ["task_id", "tag_id"]


@dataclass(frozen=True)
class Size:
    tasks_a: int
    others: int
    tasks_other: int
    tasks_a1k: int
    tasks_a10k: int
    users_total: int
    pool: int  # tasks each in the toggle pool and the save pool
    tasks_shared: int  # in the project shared by SHARED_MEMBERS people
    tasks_per_project: int  # in each of the PROJECTS_OF_P20 projects user "p20" is in
    # The full data set's ids run to 6 digits; a smaller set that measures a row's bytes
    # starts there so its rows are as long as the bench's.
    first_task_id: int = 1


SIZES = {
    # Pools are large enough that a run rarely comes back to a task (see bench/lua/save.lua).
    # Even the smoke test's 1-second run must not wrap: a second save of a task can overtake
    # the first while it waits for SQLite's write lock, and then answers 409 (seen in CI with
    # pools of 350).
    "full": Size(100_000, 99, 100, 1_000, 10_000, 10_000, 5_000, 100_000, 5_000),
    "tiny": Size(16_000, 9, 20, 100, 300, 200, 1_500, 2_000, 100),
}
SHARED_MEMBERS = 10  # issue 16: a shared project with 10 members ...
PROJECTS_OF_P20 = 20  # ... and the Today view of a user in 20 projects


@dataclass
class Dataset:
    users: list[tuple] = field(default_factory=list)
    sessions: list[tuple] = field(default_factory=list)
    projects: list[tuple] = field(default_factory=list)
    memberships: list[tuple] = field(default_factory=list)
    tags: list[tuple] = field(default_factory=list)
    tasks: list[tuple] = field(default_factory=list)
    task_tags: list[tuple] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def tables(self):
        return [
            ("users", USER_COLS, self.users),
            ("login_sessions", SESSION_COLS, self.sessions),
            ("projects", PROJECT_COLS, self.projects),
            ("memberships", MEMBERSHIP_COLS, self.memberships),
            ("tags", TAG_COLS, self.tags),
            ("tasks", TASK_COLS, self.tasks),
            ("task_tags", TASK_TAG_COLS, self.task_tags),
        ]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _title(rng: random.Random, search: bool) -> str:
    words = rng.choices(WORDS, k=rng.randint(2, 10))
    if search:
        words.insert(rng.randrange(len(words) + 1), SEARCH_WORD)
    title = " ".join(words)
    return (title[0].upper() + title[1:])[:200]


class _Builder:
    def __init__(self, size: Size, password_hash: str, now: datetime, today: date):
        self.size, self.password_hash, self.now, self.today = size, password_hash, now, today
        self.rng = random.Random(8)  # issue 8: the same data every run
        self.data = Dataset()
        self.next_tag_id = 1
        self.next_task_id = size.first_task_id
        self.next_project_id = size.users_total + 1  # ids up to users_total are Inboxes

    def user(self, user_id: int, email: str, name: str, admin: bool = False) -> None:
        created = self.now - timedelta(days=400 - user_id % 365, minutes=user_id)
        self.data.users.append(
            (user_id, email, self.password_hash, name, admin, True, False, created, None)
        )
        # Their Inbox shares their id, so a user's id is also where their tasks live.
        self.data.projects.append((user_id, "Inbox", "inbox", "#6b7280", user_id, created))
        self.data.memberships.append((user_id, user_id, OWNER, created))

    def project(self, name: str, members: list[tuple[int, int]]) -> int:
        """A project with `members` as (user id, role) pairs, the first of them its owner."""
        project_id = self.next_project_id
        self.next_project_id += 1
        created = self.now - timedelta(days=200)
        colour = PALETTE[project_id % len(PALETTE)]
        self.data.projects.append((project_id, name, name.casefold(), colour, None, created))
        for user_id, role in members:
            self.data.memberships.append((project_id, user_id, role, created))
        return project_id

    def session(self, user_id: int, token: str) -> None:
        sid = len(self.data.sessions) + 1
        self.data.sessions.append(
            (
                sid,
                user_id,
                token_hash(token),
                True,  # "remember me": idle limit 30 days, so a long bench never expires it
                self.now,
                self.now,
                self.now + timedelta(days=29),
                "127.0.0.1",
                USER_AGENT,
            )
        )

    def tags(self, owner_id: int, count: int, first: int = 0) -> list[tuple[int, str]]:
        """`count` tags of `owner_id`'s, named from the `first`th of TAG_WORDS on."""
        made = []
        for i in range(first, first + count):
            name = TAG_WORDS[i % len(TAG_WORDS)] + ("" if i < len(TAG_WORDS) else str(i))
            tag_id = self.next_tag_id
            self.next_tag_id += 1
            colour = PALETTE[i % len(PALETTE)]
            self.data.tags.append((tag_id, owner_id, name, name.casefold(), colour))
            made.append((tag_id, name))
        return made

    def tasks(
        self,
        owner_id: int,
        count: int,
        tag_ids: list[int],
        per_task: float,
        *,
        project_id: int | None = None,
        members: list[int] = (),
    ) -> list[int]:
        """Add `count` tasks to `owner_id`'s Inbox, or to `project_id`, made by `owner_id` or
        one of `members` (a third of them assigned to a member); return the ids of open ones
        without due date or repeat rule."""
        rng, quiet = self.rng, []
        for _ in range(count):
            task_id = self.next_task_id
            self.next_task_id += 1
            done = rng.random() < 0.3
            due = None
            if rng.random() < 0.7:
                due = self.today + timedelta(days=rng.randint(-60, 120))
            recurrence = "FREQ=WEEKLY" if due and rng.random() < 0.02 else None
            created = self.now - timedelta(minutes=rng.randint(60, 525_600))
            notes = (
                "Some notes about this task.\n\n- a point\n- another" if rng.random() < 0.2 else ""
            )
            maker, assignee = owner_id, None
            if members:
                maker = rng.choice(members)
                assignee = rng.choice(members) if rng.random() < 0.33 else None
            self.data.tasks.append(
                (
                    task_id,
                    project_id or owner_id,  # an Inbox's id is its owner's
                    maker,
                    assignee,
                    _title(rng, rng.random() < 0.01),
                    notes,
                    done,
                    created + timedelta(minutes=30) if done else None,
                    rng.choices((0, 1, 2, 3), weights=(5, 2, 2, 1))[0],
                    due,
                    recurrence,
                    0,
                    created,
                    created,
                    1,
                    None,
                )
            )
            if tag_ids:
                k = min(len(tag_ids), max(0, round(rng.gauss(per_task, 1))))
                for tag_id in rng.sample(tag_ids, k):
                    self.data.task_tags.append((task_id, tag_id))
            if not done and due is None and recurrence is None:
                quiet.append(task_id)
        return quiet


def generate(size: Size, password_hash: str, now: datetime, today: date) -> Dataset:
    b = _Builder(size, password_hash, now, today)
    b.user(1, "bench-a@example.com", "Bench A", admin=True)
    b.session(1, TOKENS["a"])
    a_tags = b.tags(1, 50)
    quiet = b.tasks(1, size.tasks_a, [t for t, _ in a_tags], 3)
    for n in range(size.others):
        uid = 2 + n
        b.user(uid, f"user{uid:05d}@example.com", f"User {uid}")
        b.tasks(uid, size.tasks_other, [t for t, _ in b.tags(uid, 5)], 1)
    signed_in = {"a": 1}
    for key, count in (("a1k", size.tasks_a1k), ("a10k", size.tasks_a10k)):
        uid = len(b.data.users) + 1
        b.user(uid, f"bench-{key}@example.com", f"Bench {key}")
        b.session(uid, TOKENS[key])
        b.tasks(uid, count, [t for t, _ in b.tags(uid, 50)], 3)
        signed_in[key] = uid
    for key in ("member", "p20"):  # members of the projects below; their Inboxes stay empty
        uid = len(b.data.users) + 1
        b.user(uid, f"bench-{key}@example.com", f"Bench {key}")
        b.session(uid, TOKENS[key])
        signed_in[key] = uid
    fillers = list(range(len(b.data.users) + 1, size.users_total + 1))
    if len(fillers) < SHARED_MEMBERS + 2 * PROJECTS_OF_P20:
        raise RuntimeError(f"only {len(fillers)} users left to be the projects' members")
    for uid in fillers:
        b.user(uid, f"member{uid:05d}@example.com", f"Member {uid}")
    shared, solo = _shared_project(b, signed_in["member"], fillers)
    p20_projects = _projects_of_p20(b, signed_in["p20"], fillers[SHARED_MEMBERS:])
    pool = size.pool
    if len(quiet) < 2 * pool:
        raise RuntimeError(f"only {len(quiet)} quiet tasks for pools of {pool}")
    b.data.meta = {
        "size": {k: getattr(size, k) for k in size.__dataclass_fields__},
        "users": signed_in,
        "shared_project": shared,
        "solo_project": solo,
        "p20_projects": p20_projects,
        "toggle_ids": quiet[:pool],
        "save_ids": quiet[pool : 2 * pool],
        "search_word": SEARCH_WORD,
        "tag": a_tags[7][1],
        "save_tags": f"{a_tags[0][1]}, {a_tags[1][1]}",
        "rows": {name: len(rows) for name, _, rows in b.data.tables()},
    }
    return b.data


def _shared_project(b: _Builder, member: int, fillers: list[int]) -> tuple[int, int]:
    """A project of SHARED_MEMBERS people with tasks_shared tasks, made by its owner, admins
    and editors and a third of them assigned; "member" (the bench's user) is an editor.
    Returns its id and that of a project "member" alone is in."""
    owner, admins, editors, viewers = fillers[0], fillers[1:3], fillers[3:7], fillers[7:9]
    members = [(owner, OWNER), (member, EDITOR)]
    members += [(u, ADMIN) for u in admins] + [(u, EDITOR) for u in editors]
    members += [(u, VIEWER) for u in viewers]
    assert len(members) == SHARED_MEMBERS
    project_id = b.project("Team", members)
    # Tags of two owners, of different names: a task never holds two tags of one name
    # (tagging.keep_or_resolve_tags keeps the one it has, bulk tagging skips it), and with
    # the same 25 names from each owner a task could be seeded with "writing" twice.
    tags = [t for t, _ in b.tags(owner, 25) + b.tags(member, 25, first=25)]
    writers = [owner, member, *admins, *editors]
    b.tasks(owner, b.size.tasks_shared, tags, 3, project_id=project_id, members=writers)
    # And one of their own that nobody else is in: the same page with one member.
    solo = b.project("Solo", [(member, OWNER)])
    b.tasks(member, b.size.tasks_per_project, tags[25:], 3, project_id=solo)
    return project_id, solo


def _projects_of_p20(b: _Builder, p20: int, fillers: list[int]) -> list[int]:
    """PROJECTS_OF_P20 projects with tasks_per_project tasks each: "p20" owns a quarter of
    them, and is an admin, editor or viewer of the rest, each owned by someone else."""
    tags = [t for t, _ in b.tags(p20, 50)]
    made = []
    for n in range(PROJECTS_OF_P20):
        owner, other = fillers[2 * n], fillers[2 * n + 1]
        if n < PROJECTS_OF_P20 // 4:
            members = [(p20, OWNER), (other, EDITOR)]
        else:
            members = [(owner, OWNER), (p20, (ADMIN, EDITOR, VIEWER)[n % 3])]
        project_id = b.project(f"Project {n + 1:02d}", members)
        writers = [u for u, role in members if role >= EDITOR]
        b.tasks(
            writers[0], b.size.tasks_per_project, tags, 2, project_id=project_id, members=writers
        )
        made.append(project_id)
    return made


# ---- databases ---------------------------------------------------------------------------


def _bench_app(url: str):
    from app import create_app

    overrides = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "LOG_LEVEL": "WARNING"}
    return create_app(overrides=overrides)


def libpq_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def recreate(url: str) -> None:
    """An empty database at `url` with the app's schema (drop and re-create it first)."""
    from flask_migrate import upgrade
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        from pathlib import Path

        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        import psycopg

        admin = libpq_url(str(parsed.set(database="postgres")))
        with psycopg.connect(admin, autocommit=True) as conn:
            name = parsed.database.replace('"', '""')
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    app = _bench_app(url)
    with app.app_context():
        upgrade()
        from app.extensions import db

        db.engine.dispose()


def _sqlite_value(value):
    if isinstance(value, datetime):
        # SQLAlchemy's SQLite storage format for the app's UTC datetimes.
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def insert(url: str, data: Dataset) -> None:
    """Bulk-insert `data` into the (migrated, empty) database at `url`."""
    if url.startswith("sqlite"):
        _insert_sqlite(url.split("///", 1)[1], data)
    else:
        _insert_postgresql(libpq_url(url), data)


def _insert_sqlite(path: str, data: Dataset) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("BEGIN")
        for table, cols, rows in data.tables():
            marks = ", ".join("?" * len(cols))
            conn.executemany(
                f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})",  # noqa: S608
                ([_sqlite_value(v) for v in row] for row in rows),
            )
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def _insert_postgresql(url: str, data: Dataset) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        with conn.cursor() as cur:
            for table, cols, rows in data.tables():
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            for table, cols, _rows in data.tables():
                if "id" in cols:
                    cur.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                    )
        conn.commit()
        # Vacuumed, with fresh statistics, as autovacuum would leave a live server after
        # these inserts (since PostgreSQL 13 it vacuums a table after inserts too). ANALYZE
        # alone left every page not all-visible, so each "index-only" scan fetched its rows
        # from the table as well (1,020 heap fetches in Today's 20 arms, 2,100 in the project
        # list's open counts, 2,661 in the tag filter's probes of task_tags), and GIN entries
        # waiting in the search index's pending list, which every search reads.
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE)")


def password_hash(url: str) -> str:
    """One hash of PASSWORD from the app's own hasher (argon2id), shared by every user."""
    app = _bench_app(url)
    with app.app_context():
        from app.passwords import hash_password

        return hash_password(PASSWORD)


def seed(url: str, size_name: str, *, now: datetime | None = None) -> dict:
    """Drop, migrate and fill the database at `url`; return what the cases need to know."""
    started = time.perf_counter()
    recreate(url)
    migrated = time.perf_counter()
    now = now or datetime.now(UTC)
    from zoneinfo import ZoneInfo

    from app.config import Config

    today = datetime.now(ZoneInfo(Config.TIMEZONE)).date()
    data = generate(SIZES[size_name], password_hash(url), now, today)
    generated = time.perf_counter()
    insert(url, data)
    done = time.perf_counter()
    rows = sum(data.meta["rows"].values())
    print(
        f"seed {url.split(':', 1)[0]}: {rows:,} rows in {done - started:.1f} s "
        f"(migrate {migrated - started:.1f} s, generate {generated - migrated:.1f} s, "
        f"insert {done - generated:.1f} s)",
        flush=True,
    )
    data.meta["seconds"] = round(done - started, 2)
    return data.meta


# ---- signing in ------------------------------------------------------------------------


def credentials(app, token: str) -> tuple[str, str]:
    """(session cookie value, X-CSRFToken) for a login-session token, signed by `app`.

    The cookie holds what a real sign-in leaves in the session: flask-login's user id (the
    login-session token), freshness and its session identifier (computed for the bench's
    address and User-Agent, so "basic" session protection accepts it unchanged), and the
    CSRF secret flask-wtf keeps, so the pages need not write a new cookie.
    """
    from flask import session
    from flask_login.utils import _create_identifier
    from flask_wtf.csrf import generate_csrf

    with app.test_request_context(
        headers={"User-Agent": USER_AGENT}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    ):
        session["csrf_token"] = hashlib.sha1(token.encode()).hexdigest()  # noqa: S324
        header = generate_csrf()
        contents = {
            "_fresh": True,
            "_id": _create_identifier(),
            "_user_id": token,
            "csrf_token": session["csrf_token"],
        }
        cookie = app.session_interface.get_signing_serializer(app).dumps(contents)
    return cookie, header
