"""?q= search (app/tasks/search.py): the same rows as a plain substring filter through every
sort, keyset page and view; the index kept in step with every write; and the index read
(EXPLAIN), on both databases."""

from __future__ import annotations

import random
import re
import uuid
from datetime import date, timedelta

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.engine import make_url

from app.extensions import db
from app.models import Task, task_tags, utcnow
from app.tasks import search, views
from tests.helpers import (
    HTMX,
    add_project,
    add_task,
    create_user,
    generic_plan,
    get_task,
    inbox_of,
    libpq_url,
    list_statement,
    listed_ids,
    login,
    post,
    prepared_statements,
    query_plan,
    seed_big_list,
)

# Characters LIKE and FTS5 treat specially, quotes, and text whose lower() is the same in
# Python and both databases (ASCII, and non-ASCII already in lower case), so the expected
# rows are a plain `in`.
PIECES = [
    "a",
    "B",
    "c",
    "%",
    "_",
    "\\",
    "'",
    '"',
    "é",
    "ß",
    "日本",
    "😀",
    " ",
    "zeph",
    "ZEPH",
    "yr",
]
TERMS = ["%", "_", "\\", "'", '"', "a%", "%_", "\\%", "\\_", "é", "ß", "日本", "😀", "ze"]
TERMS += ["zeph", "Zephyr", "eph", "b c", "'\"", "日本😀", "a_b", "zzz", "%%%", "phz"]


def _text(rnd: random.Random) -> str:
    return "".join(rnd.choice(PIECES) for _ in range(rnd.randint(1, 8)))


def _seed_odd(app, rnd: random.Random, count: int = 240) -> list[dict]:
    """Ada's tasks with odd titles and notes (20% done, 10% deleted), and Bea's with the same
    words, which Ada must never find. Returns Ada's rows as inserted, with their ids."""
    create_user(app, "bea@example.com", name="Bea")
    now = utcnow()
    rows = []
    with app.app_context():
        for email, n in (("ada@example.com", count), ("bea@example.com", 40)):
            owner, inbox = inbox_of(email)
            batch = [
                {
                    "project_id": inbox,
                    "created_by_id": owner,
                    "title": _text(rnd).strip() or "x",
                    "notes": _text(rnd) if rnd.random() < 0.5 else "",
                    "done": rnd.random() < 0.2,
                    "priority": rnd.randint(0, 3),
                    "due_date": None
                    if rnd.random() < 0.3
                    else date(2030, 1, 1) + timedelta(rnd.randint(0, 40)),
                    "deleted_at": now if rnd.random() < 0.1 else None,
                    "position": 0,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for _ in range(n)
            ]
            ids = db.session.scalars(insert(Task).returning(Task.id), batch).all()
            if email == "ada@example.com":
                rows = [{**row, "id": i} for row, i in zip(batch, ids, strict=True)]
        db.session.commit()
    return rows


def _expected(rows, q: str, status: str = "all") -> set[int]:
    term = q.strip().lower()
    return {
        r["id"]
        for r in rows
        if r["deleted_at"] is None
        and (status == "all" or r["done"] == (status == "done"))
        and (term in r["title"].lower() or term in r["notes"].lower())
    }


@pytest.fixture(params=["usual", "common"])
def threshold(request, monkeypatch):
    """SQLite reads the index's matches only for terms rarer than search.COMMON: "common"
    makes every term common, so the list's LIKE alone answers (the other branch). On
    PostgreSQL (search.probed_page) "usual" probes past these few rows, so a page comes from
    the probe or the index; "common" probes 4 rows and walks from one match in them, so most
    pages come from the walk."""
    if request.param == "common":
        monkeypatch.setattr(search, "COMMON", 1)
        monkeypatch.setattr(search, "PROBE", 4)
        monkeypatch.setattr(search, "WALK_FROM", 1)
    caches = (views._first_page, views._page_after, views._filters, views._probed_first_page)
    for cache in caches:  # statements built with the other threshold
        cache.cache_clear()
    yield request.param
    for cache in caches:
        cache.cache_clear()


def _terms(rows, rnd: random.Random) -> list[str]:
    """The fixed odd terms and substrings of the rows' own text (1 to 6 characters)."""
    found = []
    for row in rnd.sample(rows, 10):
        source = row["title"] + row["notes"]
        start = rnd.randrange(len(source))
        found.append(source[start : start + rnd.randint(1, 6)])
    return [t for t in TERMS + found if t.strip()]


def test_search_finds_exactly_the_substring_matches_on_every_page(app, auth_client, threshold):
    rnd = random.Random(19)
    rows = _seed_odd(app, rnd)
    for q in _terms(rows, rnd):
        for sort in ("created", "-created", "due", "-priority", "title"):
            got = listed_ids(
                auth_client, "/tasks", {"q": q, "sort": sort, "status": "all", "limit": 9}
            )
            assert len(got) == len(set(got)), (q, sort, got)
            assert set(got) == _expected(rows, q), (q, sort)
            if sort in ("created", "-created"):
                assert got == sorted(got, reverse=sort == "-created"), (q, sort)


@pytest.mark.parametrize("view", ["all", "assigned", "project"])
def test_views_and_project_pages_search_the_same_way(app, auth_client, threshold, view):
    rnd = random.Random(20)
    rows = _seed_odd(app, rnd, count=120)
    ada, inbox = inbox_of_app(app)
    with app.app_context():
        if view == "assigned":
            db.session.execute(update(Task).where(Task.project_id == inbox).values(assignee_id=ada))
        db.session.commit()
    if view == "project":  # a project of its own (the Inbox's page is /tasks)
        work = add_project(app, name="Work")
        with app.app_context():
            db.session.execute(update(Task).where(Task.project_id == inbox).values(project_id=work))
            db.session.commit()
    path = {"all": "/tasks/all", "assigned": "/tasks/assigned"}.get(view) or f"/projects/{work}"
    for q in _terms(rows, rnd):
        for status in ("open", "all"):
            got = listed_ids(auth_client, path, {"q": q, "status": status, "limit": 8})
            assert len(got) == len(set(got)), (q, got)
            assert set(got) == _expected(rows, q, status), (view, q, status)


def inbox_of_app(app) -> tuple[int, int]:
    with app.app_context():
        return inbox_of()


# ---- kept in step with every write ---------------------------------------------------------


def _found(client, q: str) -> set[int]:
    """What a search across all of the user's projects finds."""
    return set(listed_ids(client, "/tasks/all", {"q": q, "status": "all"}))


def _index_agrees_with_tasks(app) -> None:
    """SQLite: FTS5's own check that the index holds exactly the text of tasks' rows (rank 1:
    compare with the external content table). PostgreSQL's index is maintained by PostgreSQL
    itself; there the searches above are the check."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            db.session.execute(
                text("INSERT INTO tasks_search (tasks_search, rank) VALUES ('integrity-check', 1)")
            )
            db.session.rollback()


def test_the_index_follows_edits_deletes_bulk_changes_and_raw_updates(app, auth_client):
    kept = add_task(app, title="Quarterly zephyr report", notes="")
    edited = add_task(app, title="Plain", notes="nothing")
    deleted = add_task(app, title="Zephyr to delete")
    purged = add_task(app, title="Zephyr purged")
    repeating = add_task(
        app, title="Water the zephyr", due_date=date(2031, 1, 6), recurrence="FREQ=DAILY"
    )
    work = add_project(app, name="Work")
    in_work = add_task(app, title="Zephyr at work", project_id=work)
    assert _found(auth_client, "zephyr") == {kept, deleted, purged, repeating, in_work}

    # An edit through the editor: the title and the notes.
    task = get_task(app, edited)
    data = {"title": "Now a ZEPHYR", "notes": "", "priority": "0", "due_date": "", "tags": ""}
    data |= {"repeat": "", "interval": "1"}
    saved = post(auth_client, f"/tasks/{edited}", {**data, "version": str(task.version)})
    assert saved.status_code in (200, 303)
    task = get_task(app, edited)
    data.update(title="Plain again", notes="notes say zephyr", version=str(task.version))
    assert post(auth_client, f"/tasks/{edited}", data).status_code in (200, 303)
    assert edited in _found(auth_client, "say zeph")
    assert _found(auth_client, "now a") == set()

    # A delete (the row stays for Undo, the list hides it), and Undo.
    assert post(auth_client, f"/tasks/{deleted}", htmx=True, method="DELETE").status_code == 200
    assert deleted not in _found(auth_client, "zephyr")
    assert post(auth_client, "/tasks/restore", {"ids": str(deleted)}, htmx=True).status_code == 200
    assert deleted in _found(auth_client, "zephyr")

    # Bulk "done" on a repeating task inserts its next copy (INSERT ... RETURNING).
    bulk = post(auth_client, "/tasks/bulk", {"ids": [str(repeating)], "action": "done"}, htmx=True)
    assert bulk.status_code == 200
    with app.app_context():
        copy = db.session.scalar(
            select(Task.id).where(Task.title == "Water the zephyr", Task.id != repeating)
        )
    assert copy and copy in _found(auth_client, "water the")

    # Raw statements: an UPDATE of the title, a DELETE, and a project's cascade.
    with app.app_context():
        db.session.execute(update(Task).where(Task.id == kept).values(title="Monthly budget"))
        db.session.execute(delete(Task).where(Task.id == purged))
        db.session.execute(text("DELETE FROM projects WHERE id = :id"), {"id": work})
        db.session.commit()
    assert _found(auth_client, "zephyr") == {edited, deleted, repeating, copy}
    assert _found(auth_client, "monthly bud") == {kept}
    _index_agrees_with_tasks(app)


def _in_project(client, project_id: int | None, q: str) -> set[int]:
    path = f"/projects/{project_id}" if project_id else "/tasks"
    return set(listed_ids(client, path, {"q": q, "status": "all"}))


@pytest.mark.parametrize("term", ["zephyr", "ze"], ids=["indexed", "like"])
def test_a_project_search_finds_its_own_tasks_and_follows_moves(app, auth_client, term):
    """On SQLite a project's search reads the index for that project alone (its entries are
    keyed by project): each project finds its own matches, none of another project's or
    another user's, and a task moved by the bulk bar, the editor or a raw UPDATE is found
    in its new project and not in its old one."""
    create_user(app, email="eve@example.com", name="Eve")
    theirs = add_task(app, "eve@example.com", title="Zephyr of Eve's")
    work, home = add_project(app, name="Work"), add_project(app, name="Home")
    inbox = add_task(app, title="Inbox zephyr")
    at_work = [add_task(app, title=f"Zephyr {n} at work", project_id=work) for n in range(3)]
    at_home = add_task(app, title="Plain", notes="a zephyr at home", project_id=home)
    assert _in_project(auth_client, None, term) == {inbox}
    assert _in_project(auth_client, work, term) == set(at_work)
    assert _in_project(auth_client, home, term) == {at_home}
    assert theirs not in _found(auth_client, term)

    bulk = {"action": "move", "project": str(home), "ids": [str(at_work[0])]}
    assert post(auth_client, "/tasks/bulk", bulk).status_code == 303
    task = get_task(app, at_work[1])
    edited = {"title": task.title, "priority": "0", "version": str(task.version)}
    edited["project_id"] = str(home)
    assert post(auth_client, f"/tasks/{task.id}", edited).status_code == 303
    with app.app_context():
        db.session.execute(update(Task).where(Task.id == inbox).values(project_id=work))
        db.session.commit()
    assert [get_task(app, i).project_id for i in at_work] == [home, home, work]
    assert _in_project(auth_client, None, term) == set()
    assert _in_project(auth_client, work, term) == {at_work[2], inbox}
    assert _in_project(auth_client, home, term) == {at_home, at_work[0], at_work[1]}
    assert _found(auth_client, term) == {inbox, at_home, *at_work}
    _index_agrees_with_tasks(app)


def test_the_migration_fills_the_index_from_existing_tasks(app, user):
    """Downgrade below the search index, add tasks, upgrade: they are found."""
    from flask_migrate import downgrade

    with app.app_context():
        downgrade(revision="a9c4e2f7b1d3")
    add_task(app, title="Old zephyr task", notes="from before the index")
    with app.app_context():
        upgrade()
        if db.engine.dialect.name == "postgresql":
            names = db.session.scalars(text("SELECT indexname FROM pg_indexes")).all()
            assert {"ix_tasks_search", "ix_tasks_search_open"} <= set(names)
        else:
            hit = db.session.scalars(
                text("SELECT rowid FROM tasks_search WHERE tasks_search MATCH '\"old zephyr\"'")
            ).all()
            assert len(hit) == 1
    _index_agrees_with_tasks(app)


# ---- the plans -----------------------------------------------------------------------------


@pytest.fixture
def searchable(app, auth_client):
    """test_list_plans' 20,000 tasks, 0.2% of them with "zephyr" in the title and half with
    "halfway", beside 40,000
    of another user's (at 24,000 rows PostgreSQL reads the whole table rather than an index
    of any kind: the bench's database has 326,000), vacuumed as autovacuum would. (At 1%, the
    bench's share, the planner's estimate from ANALYZE's sample of this small table sometimes
    rose to 2%, and walking the list index then looked as cheap: at the bench's scale it
    reads the index.)"""
    inbox = seed_big_list(app)
    with app.app_context():
        db.session.execute(
            update(Task).where(Task.id % 500 == 0).values(title=Task.title + " zephyr")
        )
        db.session.execute(
            update(Task).where(Task.id % 2 == 1).values(title=Task.title + " halfway")
        )
        columns = ["project_id", "created_by_id", "title", "notes", "done", "priority"]
        columns += ["due_date", "position", "created_at", "updated_at", "version"]
        other = select(Task.project_id).where(Task.project_id != inbox).limit(1).scalar_subquery()
        copy = select(other, *[getattr(Task, c) for c in columns[1:]]).where(
            Task.project_id == inbox
        )
        for _ in range(2):
            db.session.execute(insert(Task).from_select(columns, copy))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # VACUUM: rows inserted after a GIN index wait in its pending list (fastupdate)
            # until a vacuum merges them, and the planner counts that list against the index.
            conn.exec_driver_sql(
                "VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE"
            )
    return inbox


def _run_plan(app, statement, parameters) -> str:
    """The plan as it ran: on PostgreSQL, EXPLAIN ANALYZE's (a project's search chooses its
    arm as it runs, search.probed_page: what counts is which arm read and which was "never
    executed"); SQLite's EXPLAIN QUERY PLAN."""
    if db_name(app) != "postgresql":
        return "\n".join(query_plan(app, statement, parameters))
    with app.app_context(), db.engine.connect() as conn:
        sql = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + statement
        return "\n".join(row[0] for row in conn.exec_driver_sql(sql, parameters))


# A scan that ran (EXPLAIN ANALYZE gives it actual rows) or did not ("never executed").
_RAN = r"\(actual rows=\d+ loops=\d+\)"


@pytest.mark.parametrize(
    ("path", "status"),
    [("/tasks", "open"), ("/tasks", "done"), ("/tasks", "all"), ("/tasks/all", "open")],
)
def test_a_rare_term_is_read_from_the_search_index(app, auth_client, searchable, path, status):
    url = f"{path}?q=zephyr&status={status}"
    statement, parameters = list_statement(app, auth_client, url, HTMX)
    plans = [_run_plan(app, statement, parameters)]
    if db_name(app) == "postgresql" and path == "/tasks":
        # As prepared, once PostgreSQL keeps one plan for every term (generic_plan): a
        # project's search decides as it runs (search.probed_page), whatever the plan.
        ran = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF)"
        plans.append("\n".join(generic_plan(app, statement, parameters, explain=ran)))
    elif db_name(app) == "postgresql":
        # A view's search leaves it to the planner, so it is never prepared: each run is
        # planned for its term (database.planned_for_its_values). A generic plan walked
        # every task for a rare term.
        for _ in range(7):
            assert auth_client.get(url, headers=HTMX).status_code == 200
        prepared = prepared_statements(app)
        assert not [s for s in prepared if "LIKE" in s and "probe" not in s], prepared
    for plan in plans:
        _read_from_the_index(app, path, status, plan)


def _read_from_the_index(app, path, status, plan):
    if db_name(app) == "postgresql":
        # A project's open tasks are read from the index of open tasks alone (no done task
        # found only to be thrown away); done ones from the index of every task; "all" as
        # two pages, open and done (search.probed_statuses), each from its own index.
        indexes = {
            "open": ["ix_tasks_search_open"],
            "done": ["ix_tasks_search"],
            "all": ["ix_tasks_search_open", "ix_tasks_search"],
        }[status]
        if path == "/tasks/all":
            indexes = ["ix_tasks_search(_open)?"]  # across projects: the planner's choice
        for index in indexes:
            assert re.search(rf"Bitmap Index Scan on {index} " + _RAN, plan), plan
        assert "Seq Scan on tasks" not in plan, plan
        if path == "/tasks":
            # The first rows of the list held too few matches (the probe ran), so the index's
            # matches, this project's only, were read and sorted.
            for index in indexes:
                cond = rf"Scan on {index} " + _RAN + r"\n\s+Index Cond: \(\(project_id = "
                assert re.search(cond, plan), plan
            hits = {"open": ["hits"], "done": ["hits"], "all": ["open_hits", "done_hits"]}
            for cte in hits[status]:
                assert re.search(rf"CTE Scan on {cte} " + _RAN, plan), plan
    else:
        # The matching ids are collected once from the FTS5 table (a project's page: the
        # range of rowids that is its tasks', ">" and "<" in FTS5's index string); the list
        # index is then read in order, each row checked against them.
        fts = r"SCAN tasks_search VIRTUAL TABLE INDEX \d+:M\d*" + ("><" if path == "/tasks" else "")
        assert re.search(fts + "\n", plan + "\n"), plan
        assert "LIST SUBQUERY" in plan and "ix_tasks_list_due" in plan, plan
        assert "SCAN tasks\n" not in plan + "\n", plan


@pytest.mark.parametrize("term", ["task", "halfway"])
def test_a_common_term_walks_the_list_index_in_order(app, auth_client, searchable, term):
    """Every title holds "task", half of them "halfway": a page is the first rows of the
    list index, read in order. On PostgreSQL the first rows of the list (the probe) fill the
    page, and the index's read of every match never runs."""
    statement, parameters = list_statement(app, auth_client, f"/tasks?q={term}", HTMX)
    plans = [_run_plan(app, statement, parameters)]
    if db_name(app) == "postgresql":
        ran = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF)"
        plans.append("\n".join(generic_plan(app, statement, parameters, explain=ran)))
    for plan in plans:
        _walked_the_list(app, plan)


def _walked_the_list(app, plan):
    if db_name(app) == "postgresql":
        assert re.search(r"Index Scan using ix_tasks_list_due on tasks (\w+ )?" + _RAN, plan), plan
        assert not re.search(r"on ix_tasks_search(_open)? " + _RAN, plan), plan
        assert re.search(r"CTE Scan on hits \(never executed\)", plan), plan
    else:
        assert "ix_tasks_list_due" in plan, plan
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan


def test_the_tag_filter_plans_with_the_tags_statistics_on_postgresql(app, auth_client):
    """A common tag (~6% of tasks): the list index in order, each row checked by its own
    copy of its tag ids (tasks.tag_ids: never task_tags probed for each row passed, nor
    each row's every tag joined with tags). A rare one (20 tasks): its tasks from the array's
    GIN index, never the whole list walked."""
    if db_name(app) != "postgresql":
        pytest.skip("SQLite joins tags per row (app/tasks/listing.tagged)")
    inbox = seed_big_list(app)
    rare = add_task(app, title="Rare", tags=["rare"])
    with app.app_context():
        tag = db.session.scalar(select(task_tags.c.tag_id).where(task_tags.c.task_id == rare))
        ids = db.session.scalars(
            select(Task.id).where(Task.project_id == inbox, Task.id != rare).limit(19)
        ).all()
        db.session.execute(insert(task_tags), [{"task_id": i, "tag_id": tag} for i in ids])
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    common = list_statement(app, auth_client, "/tasks?tag=tag7&sort=due", None)
    rare = list_statement(app, auth_client, "/tasks?tag=rare", None)
    # Each as planned for its values, and as prepared: a plan kept for all values after a
    # statement's fifth run (generic_plan) must still know which tag it reads.
    for plan in (query_plan(app, *common), generic_plan(app, *common)):
        plan = "\n".join(plan)
        assert "task_tags" not in plan and "tag_ids && '{" in plan, plan
        assert "ix_tasks_list_due" in plan and "Sort" not in plan, plan
    for plan in (query_plan(app, *rare), generic_plan(app, *rare)):
        plan = "\n".join(plan)
        assert "ix_tasks_tag_ids" in plan, plan
        assert not re.search(r"Scan using ix_tasks_list_\w+ on tasks", plan), plan


def db_name(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


def test_without_pg_trgm_the_migration_warns_and_search_still_answers(
    app, make_app, capfd, postgres_url
):
    """A role that may not create extensions (no CREATE on its database; pg_trgm is a trusted
    extension, so that is what it takes): the migrations complete without the index, with a
    warning, and search finds the same rows by reading the list."""
    if db_name(app) != "postgresql":
        pytest.skip("pg_trgm is PostgreSQL's")
    suffix = uuid.uuid4().hex[:10]
    role, name = f"tasklane_noext_{suffix}", f"tasklane_noext_{suffix}"
    admin = libpq_url(postgres_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"CREATE DATABASE {name}")
    try:
        with psycopg.connect(make_url(admin).set(database=name).render_as_string(False)) as conn:
            conn.execute(f"GRANT ALL ON SCHEMA public TO {role}")
            conn.commit()
        url = make_url(postgres_url).set(database=name, username=role)
        limited = make_app(SQLALCHEMY_DATABASE_URI=url.render_as_string(False))
        with limited.app_context():
            upgrade()
            names = db.session.scalars(text("SELECT indexname FROM pg_indexes")).all()
            assert not [n for n in names if n.startswith("ix_tasks_search")], names
            assert "ix_tasks_list_due" in names
        # Alembic's logger writes to the console (migrations/alembic.ini): read stderr.
        assert "pg_trgm could not be created" in capfd.readouterr().err
        create_user(limited)
        found = add_task(limited, title="A zephyr without an index")
        add_task(limited, title="Something else")
        client = limited.test_client()
        login(client)
        assert listed_ids(client, "/tasks", {"q": "ZEPHYR"}) == [found]
        with limited.app_context():
            db.engine.dispose()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"DROP ROLE IF EXISTS {role}")


def test_the_migrated_database_plans_without_jit(postgres_url):
    """Migration e9b4c2a7d3f1 turns JIT off for the database: a project's search carries an
    arm that runs only for rare terms, and compiling it for a common term cost 60-75 ms on a
    page whose rows took a few. Set on the database, so every new connection (PgBouncer's
    too) plans without it."""
    with psycopg.connect(libpq_url(postgres_url)) as conn:
        assert conn.execute("SHOW jit").fetchone()[0] == "off"


def test_a_projects_search_keeps_one_plan_once_prepared_on_postgresql(app, auth_client):
    """The probed search chooses walk or index as it runs, so once psycopg has prepared it
    (its sixth run on a connection) PostgreSQL runs its one generic plan and never plans it
    again for a term (database.one_plan_for_every_value): left to itself, it kept planning
    every keystroke anew after some ANALYZEs (custom plans, 0.5-0.6 ms each) and not after
    others. The first page and the next (the setting's end: the test below)."""
    if db_name(app) != "postgresql":
        pytest.skip("PostgreSQL's plan cache")
    for i in range(60):
        add_task(app, title=f"Zephyr {i}" if i % 2 else f"Other {i}")
    first = auth_client.get("/tasks?q=zephyr&limit=10", headers=HTMX).get_data(as_text=True)
    more = re.search(r'hx-get="([^"]+after=[^"]+)"', first).group(1).replace("&amp;", "&")
    for url in ("/tasks?q=zephyr&limit=10", more):
        for term in ("zephyr", "other", "zeph", "nothing here", "phyr", "ther", "zephyr"):
            page = auth_client.get(url.replace("zephyr", term.replace(" ", "+")), headers=HTMX)
            assert page.status_code == 200
    with app.app_context(), db.engine.connect() as conn:
        plans = conn.execute(
            text("SELECT generic_plans, custom_plans, statement FROM pg_prepared_statements")
        ).all()
    probed = [(generic, custom) for generic, custom, sql in plans if "probe" in sql]
    assert len(probed) == 2, plans  # the first page's statement and the next page's
    for generic, custom in probed:
        assert generic >= 1 and custom == 0, plans
    # the request's other statements are still prepared, as before
    assert any("probe" not in sql for _, _, sql in plans), plans


def test_one_plan_for_every_value_is_set_for_the_block_alone(app):
    from app.database import one_plan_for_every_value

    if db_name(app) != "postgresql":
        pytest.skip("PostgreSQL's plan cache")
    with app.app_context():
        connection = db.session.connection()
        mode = text("SHOW plan_cache_mode")
        with one_plan_for_every_value(connection):
            assert connection.execute(mode).scalar() == "force_generic_plan"
        assert connection.execute(mode).scalar() == "auto"
        # Behind PgBouncer's transaction pooling nothing is prepared, and nothing is set.
        driver = connection.connection.driver_connection
        threshold, driver.prepare_threshold = driver.prepare_threshold, None
        try:
            with one_plan_for_every_value(connection):
                assert connection.execute(mode).scalar() == "auto"
        finally:
            driver.prepare_threshold = threshold
        db.session.rollback()
