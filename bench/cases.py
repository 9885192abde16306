"""The benchmark's cases, what each one needs to know, and its one-off probe.

A case is one URL (or one Lua-scripted POST) against one server. The probe runs the same
request once in-process, not under load, to record its status, body bytes and SQL queries
(Tasklane: a SQLAlchemy before_cursor_execute counter, transaction statements left out; raw:
its own execute() calls; bare: none). It runs twice and keeps the second answer, so the
once-a-minute "last seen" write of a login session does not count.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

from sqlalchemy import event

from bench import load, raw
from bench.seed import PROJECTS_OF_P20, SHARED_MEMBERS, TOKENS, credentials, libpq_url
from bench.settings import SECRET_KEY, USER_AGENT, Settings

DEEP_ROWS = 1000  # the deep page starts this many rows into user A's list
NOT_COUNTED = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA"}
SHORT = {"postgresql": "pg", "sqlite": "sqlite"}


@dataclass
class Case:
    name: str  # "pg:list"
    db: str | None  # "pg", "sqlite" or None (bare)
    server: str  # key of the server it runs against
    kind: str  # "tasklane", "raw" or "bare"
    path: str
    user: str | None = "a"
    htmx: bool = False
    method: str = "GET"
    lua: str = "get"
    connections: int | None = None
    form: dict | None = None  # the probe's form body for a POST
    resets: bool = False  # the toggle/save pools are reset before every run
    about: str = ""


@dataclass
class DbContext:
    """One bench database: its seed, an in-process Tasklane for probes, and credentials."""

    db: str  # short name: "pg" or "sqlite"
    url: str
    meta: dict
    app: object = None
    raw_app: object = None
    cookies: dict = field(default_factory=dict)
    csrf: dict = field(default_factory=dict)
    deep_cursor: str = ""
    edit_id: int = 0
    counter: QueryCounter | None = None
    pg_cpu: object = None  # servers.PostgresCpu on PostgreSQL: also resets the pools

    @classmethod
    def create(cls, db: str, url: str, meta: dict) -> DbContext:
        from app import create_app

        ctx = cls(SHORT[db], url, meta)
        ctx.app = create_app(
            overrides={
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": SECRET_KEY,
                "LOG_LEVEL": "WARNING",
            }
        )
        for user, token in TOKENS.items():
            ctx.cookies[user], ctx.csrf[user] = credentials(ctx.app, token)
        with ctx.app.app_context():
            from app.extensions import db as sqla

            ctx.counter = QueryCounter(sqla.engine)
        ctx.raw_app = raw.create_app(url, SECRET_KEY)
        if ctx.db == "pg":
            from bench.servers import PostgresCpu

            ctx.pg_cpu = PostgresCpu(libpq_url(url))
        ctx._find_deep_cursor_and_edit_id()
        return ctx

    def client(self, app, user: str | None):
        client = app.test_client()
        if user:
            client.set_cookie("tasklane_session", self.cookies[user])
        return client

    def _find_deep_cursor_and_edit_id(self) -> None:
        client = self.client(self.app, "a")
        first = client.get("/tasks", headers={"User-Agent": USER_AGENT}).get_data(as_text=True)
        self.edit_id = int(re.search(r'id="task-(\d+)"', first).group(1))
        path, cursor = "/tasks?limit=200", ""
        for _ in range(DEEP_ROWS // 200):
            page = client.get(path, headers={"User-Agent": USER_AGENT}).get_data(as_text=True)
            cursor = re.search(r"after=([A-Za-z0-9_-]+)", page).group(1)
            path = f"/tasks?limit=200&after={cursor}"
        self.deep_cursor = cursor

    def reset_pools(self) -> None:
        """Put the toggle and save pools back: open, version 1 (before every run using them).
        Only the rows a run changed: rewriting all 10,000 on each reset left PostgreSQL's
        tasks table 268,000 dead rows by the end of a run (autovacuum is off here), whose
        stale entries in the search index doubled a search's statement (13.8 ms; 6.8 ms
        after VACUUM, EXPLAIN ANALYZE of the bench's `?q=`, 2026-12-03)."""
        ids = self.meta["toggle_ids"] + self.meta["save_ids"]
        if self.db == "sqlite":
            conn = sqlite3.connect(self.url.split("///", 1)[1], timeout=30)
            marks = ", ".join("?" * len(ids))
            with conn:
                conn.execute(
                    f"UPDATE tasks SET done = 0, done_at = NULL, version = 1 WHERE id IN ({marks})"  # noqa: S608
                    " AND (done OR done_at IS NOT NULL OR version <> 1)",
                    ids,
                )
            conn.close()
            return
        # Through the CPU watcher's own connection, which is left out of the figures (a
        # connection opened and closed here would count as PostgreSQL CPU of the next run).
        self.pg_cpu.conn.execute(
            "UPDATE tasks SET done = false, done_at = NULL, version = 1"
            " WHERE id = ANY(%s) AND (done OR done_at IS NOT NULL OR version <> 1)",
            (ids,),
        )

    def close(self) -> None:
        if self.pg_cpu is not None:
            self.pg_cpu.close()
        self.raw_app.extensions["raw_db"].close()
        with self.app.app_context():
            from app.extensions import db

            db.engine.dispose()


class QueryCounter:
    """Counts SQL statements sent through an engine, transaction control left out."""

    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, *_args):
        words = statement.split(None, 1)
        if words and words[0].upper() not in NOT_COUNTED:
            self.count += 1


def build(settings: Settings, contexts: list[DbContext]) -> list[Case]:
    cases = [Case("bare", None, "bare", "bare", "/", user=None, about="bare Flask route")]
    for ctx in contexts:
        d, meta = ctx.db, ctx.meta
        search = f"/tasks?q={quote_plus(meta['search_word'])}"  # user A's, and the sweep's
        tl, rw = f"tasklane-{d}", f"raw-{d}"
        toggle = {"method": "POST", "htmx": True, "lua": "toggle", "resets": True}
        toggle["form"] = {"done": "1"}
        save_form = {
            "title": "Bench save probe",
            "notes": "",
            "priority": "1",
            "due_date": "",
            "tags": meta["save_tags"],
            "repeat": "",
            "interval": "1",
            "version": "1",
        }
        cases += [
            Case(f"{d}:list", d, tl, "tasklane", "/tasks", about="task list, full page"),
            Case(f"{d}:list_htmx", d, tl, "tasklane", "/tasks", htmx=True, about="htmx fragment"),
            Case(
                f"{d}:deep",
                d,
                tl,
                "tasklane",
                f"/tasks?after={ctx.deep_cursor}",
                about=f"full page {DEEP_ROWS} rows deep (keyset)",
            ),
            Case(
                f"{d}:search",
                d,
                tl,
                "tasklane",
                search,
                about="search ?q= (1% of titles)",
            ),
            Case(
                f"{d}:tag_due",
                d,
                tl,
                "tasklane",
                f"/tasks?tag={quote_plus(meta['tag'])}&sort=due",
                about="tag filter, sorted by due",
            ),
            Case(
                f"{d}:toggle",
                d,
                tl,
                "tasklane",
                "/tasks/{id}/toggle",
                **toggle,
                about="POST toggle",
            ),
            Case(
                f"{d}:edit_get",
                d,
                tl,
                "tasklane",
                f"/tasks/{ctx.edit_id}/edit",
                htmx=True,
                about="inline editor GET",
            ),
            Case(
                f"{d}:edit_save",
                d,
                tl,
                "tasklane",
                "/tasks/{id}",
                method="POST",
                htmx=True,
                lua="save",
                form=save_form,
                resets=True,
                about="inline editor save",
            ),
            # A (100,000 tasks) is first in both orders: by email and by most tasks.
            Case(
                f"{d}:admin_users",
                d,
                tl,
                "tasklane",
                "/admin/users",
                about="/admin/users, 10,000 users",
            ),
            Case(
                f"{d}:admin_by_tasks",
                d,
                tl,
                "tasklane",
                "/admin/users?sort=-tasks",
                about="/admin/users by most tasks",
            ),
            Case(f"{d}:sweep_1k", d, tl, "tasklane", "/tasks", user="a1k", about="1,000 tasks"),
            Case(f"{d}:sweep_10k", d, tl, "tasklane", "/tasks", user="a10k", about="10,000 tasks"),
            # The search at the sweep's sizes (the 100,000-task one is the "search" case): the
            # chart draws the two side by side. Every user's titles hold the word at 1%.
            Case(
                f"{d}:search_1k",
                d,
                tl,
                "tasklane",
                search,
                user="a1k",
                about="search ?q=, 1,000 tasks",
            ),
            Case(
                f"{d}:search_10k",
                d,
                tl,
                "tasklane",
                search,
                user="a10k",
                about="search ?q=, 10,000 tasks",
            ),
            Case(
                f"{d}:shared",
                d,
                tl,
                "tasklane",
                f"/projects/{meta['shared_project']}",
                user="member",
                about=f"a project of {SHARED_MEMBERS} members, as an editor",
            ),
            Case(
                f"{d}:today_20",
                d,
                tl,
                "tasklane",
                "/tasks/today",
                user="p20",
                about=f"Today for a user in {PROJECTS_OF_P20} projects",
            ),
            # The same two pages with one member and in one project: their query counts must
            # match the ones above.
            Case(
                f"{d}:project_1",
                d,
                tl,
                "tasklane",
                f"/projects/{meta['solo_project']}",
                user="member",
                about="a project of 1 member",
            ),
            Case(f"{d}:today_1", d, tl, "tasklane", "/tasks/today", about="Today in 1 project"),
            Case(f"{d}:limit_10", d, tl, "tasklane", "/tasks?limit=10", about="page size 10"),
            Case(f"{d}:limit_200", d, tl, "tasklane", "/tasks?limit=200", about="page size 200"),
            Case(f"{d}:raw_page", d, rw, "raw", "/tasks", about="raw ceiling: list page"),
            Case(
                f"{d}:raw_toggle", d, rw, "raw", "/tasks/{id}/toggle", **toggle, about="raw toggle"
            ),
        ]
        if ctx is contexts[0]:
            cases.append(
                Case(
                    f"{d}:list_half",
                    d,
                    tl,
                    "tasklane",
                    "/tasks",
                    connections=settings.half_connections,
                    about=f"list at {settings.half_connections} connections (p99/p50)",
                )
            )
    return cases


def headers(case: Case, ctx: DbContext | None) -> dict:
    """The request headers wrk sends for this case."""
    out = {"User-Agent": USER_AGENT}
    if case.user:
        out["Cookie"] = f"tasklane_session={ctx.cookies[case.user]}"
    if case.htmx:
        out["HX-Request"] = "true"
    if case.method == "POST":
        out["X-CSRFToken"] = ctx.csrf[case.user]
        out["Content-Type"] = "application/x-www-form-urlencoded"
    return out


def wrk_load(case: Case, ctx, base: str, settings: Settings, seconds: int) -> load.Load:
    """One wrk run of `case` against the server at `base` (http://host:port)."""
    connections = case.connections or settings.connections
    threads = min(settings.threads, connections)
    return load.Load(
        url=base + case.path.replace("{id}", "0"),  # scripted cases build their own paths
        seconds=seconds,
        connections=connections,
        threads=settings.threads,
        timeout=settings.timeout,
        headers=headers(case, ctx),
        lua=case.lua,
        args=lua_args(case, ctx, threads) if ctx else (),
    )


def lua_args(case: Case, ctx: DbContext, threads: int) -> tuple[str, ...]:
    if case.lua == "toggle":
        return (",".join(map(str, ctx.meta["toggle_ids"])), str(threads))
    if case.lua == "save":
        ids = ",".join(map(str, ctx.meta["save_ids"]))
        return (ids, str(threads), ctx.csrf[case.user], quote(ctx.meta["save_tags"]))
    return ()


def probe(case: Case, ctx: DbContext | None) -> dict:
    """Status, body bytes and SQL queries of one request, made in-process (twice)."""
    if case.kind == "bare":
        from bench.bare import app

        response = app.test_client().get(case.path)
        return {"status": response.status_code, "body_bytes": len(response.data), "queries": 0}
    app = ctx.raw_app if case.kind == "raw" else ctx.app
    client = ctx.client(app, case.user)
    hdrs = {k: v for k, v in headers(case, ctx).items() if k != "Cookie"}
    path = case.path
    if "{id}" in path:
        pool = ctx.meta["save_ids"] if case.lua == "save" else ctx.meta["toggle_ids"]
    answers = []
    for attempt in range(2):
        if case.resets:
            ctx.reset_pools()
            path = case.path.format(id=pool[attempt])
        before = _queries(case, ctx)
        response = client.open(path, method=case.method, headers=hdrs, data=case.form)
        answers.append((response, _queries(case, ctx) - before))
    if case.resets:
        ctx.reset_pools()
    response, queries = answers[-1]
    if response.status_code != 200:
        body = response.get_data(as_text=True)[:500]
        raise RuntimeError(
            f"{case.name}: {case.method} {path} answered {response.status_code}\n{body}"
        )
    return {
        "status": response.status_code,
        "body_bytes": len(response.data),
        "rows": len(_ROW.findall(response.data)),
        "queries": queries,
    }


# A task's row in a list page or fragment (templates/tasks/_row.html).
_ROW = re.compile(rb'<div role="row" id="task-\d+"')


def _queries(case: Case, ctx: DbContext) -> int:
    return raw.STATS["queries"] if case.kind == "raw" else ctx.counter.count
