"""Sequences, generated: a Hypothesis state machine drives two signed-in users over real HTTP
(the Flask test client, on SQLite and on PostgreSQL): quick add with tags, repeats and edge
dates, edits (with stale versions), ticks, bulk actions over mixed own, foreign, deleted and
missing ids, deletes, undo, tag renames and deletes, and quick adds of renamed tags.

Single requests miss what only an order of actions reaches (edit then tick a repeating task,
bulk after delete, rename a tag then quick-add it). After every step: no 5xx was answered;
the other user's rows and task-tag links are exactly as they were; the list shows exactly the
user's live tasks; the tags page's counts are the database's; on PostgreSQL, every task's
copy of its tag ids (tasks.tag_ids, the tag filter's) is its task-tag links.

FUZZ_STATEFUL_EXAMPLES sequences of FUZZ_STATEFUL_STEPS steps per database (a CI run takes
about a minute a database); the steps, requests and 5xx are counted into the security figures.
"""

from __future__ import annotations

import itertools
import os
import re
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import text

from app.extensions import db
from tests.helpers import HTMX, create_user, csrf_token, login
from tests.security_figures import add

pytestmark = pytest.mark.security
EXAMPLES = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", "60"))
STEPS = int(os.environ.get("FUZZ_STATEFUL_STEPS", "30"))

TODAY = date.today()
TAG_NAMES = ["work", "Work", "home", "ünïcode", "a-b_c/d.e", "x" * 50, "urgent", "q", "#work"]
# Names the editor would split or refuse: bulk tagging refuses them too (422, nothing changed).
BAD_TAG_NAMES = ["a,b", "#", "x" * 51, ","]
EDGE_DATES = [
    date(1, 1, 1), date(1970, 1, 1), date(2024, 2, 29), date(2026, 1, 31), TODAY,
    TODAY - timedelta(days=1), TODAY + timedelta(days=1), date(9998, 12, 31), date(9999, 12, 31),
]  # fmt: skip
REPEATS = ["every day", "every week", "every 3 days", "every other week", "every weekday",
           "every monday", "every month", "every year", "every 365 years"]  # fmt: skip
DATE_WORDS = ["today", "tomorrow", "friday", "next week", "next month", "in 3 days",
              "in 999 years"]  # fmt: skip
FREQS = ["", "daily", "weekdays", "weekly", "monthly", "yearly"]
# The tasks a user (:o) can reach: those in the projects they are a member of.
MEMBER_OF = "tasks.project_id IN (SELECT project_id FROM memberships WHERE user_id = :o)"
_users = itertools.count()


class TaskSequences(RuleBasedStateMachine):
    """Ada acts; Eve is the bystander whose rows must never change (and whose ids Ada aims
    at). Each sequence has two new users, so sequences share the database but not rows."""

    def __init__(self, app, counts: dict):
        super().__init__()
        self.app, self.counts = app, counts
        n = next(_users)
        self.ada_email, eve_email = f"ada{n}@example.com", f"eve{n}@example.com"
        self.ada = create_user(app, email=self.ada_email, name="Ada")
        self.eve = create_user(app, email=eve_email, name="Eve")
        self.client = app.test_client()
        login(self.client, email=self.ada_email)
        self.client.environ_base["HTTP_X_CSRFTOKEN"] = csrf_token(self.client, "/tasks")
        eve = app.test_client()
        login(eve, email=eve_email)
        eve.environ_base["HTTP_X_CSRFTOKEN"] = csrf_token(eve, "/tasks")
        for title in ("Eve's #private every day", "Eve's other #work tomorrow", "Eve's plain"):
            assert eve.post("/tasks", data={"title": title}).status_code == 303
        eve_task = self._ids(self.eve)[0]
        assert eve.post(f"/tasks/{eve_task}/delete").status_code == 303  # one in her undo bin
        self.eve_rows = self._rows(self.eve)
        for title in ("Seed #work every week", "Seed #home #q tomorrow", "Seed !1"):
            assert self.client.post("/tasks", data={"title": title}).status_code == 303
        self.renamed: list[str] = []  # names tags had before a rename

    # ---- helpers ------------------------------------------------------------------------

    def _sql(self, sql: str, **params):
        with self.app.app_context():
            return [tuple(row) for row in db.session.execute(text(sql), params)]

    def _rows(self, owner: int):
        """Every column of the owner's user row, memberships, the tasks they can reach (in
        the projects they are a member of), their tags and those tasks' tag links."""
        return (
            self._sql("SELECT * FROM users WHERE id = :o", o=owner),
            self._sql("SELECT * FROM memberships WHERE user_id = :o ORDER BY 1", o=owner),
            self._sql(f"SELECT * FROM tasks WHERE {MEMBER_OF} ORDER BY id", o=owner),
            self._sql("SELECT * FROM tags WHERE owner_id = :o ORDER BY id", o=owner),
            self._sql(
                "SELECT tt.task_id, tt.tag_id FROM task_tags tt JOIN tasks ON tasks.id = tt.task_id"
                f" WHERE {MEMBER_OF} ORDER BY 1, 2",
                o=owner,
            ),
        )

    def _ids(self, owner: int, *, deleted: bool = False, open_only: bool = False) -> list[int]:
        where = "deleted_at IS NOT NULL" if deleted else "deleted_at IS NULL"
        if open_only:
            where += " AND NOT done"
        sql = f"SELECT id FROM tasks WHERE {MEMBER_OF} AND {where} ORDER BY id"
        return [row[0] for row in self._sql(sql, o=owner)]

    def _task(self, task_id: int):
        rows = self._sql(
            "SELECT version, recurrence, due_date, done FROM tasks WHERE id = :i", i=task_id
        )
        return rows[0] if rows else None

    def _pick(self, data, kinds=("own",) * 6 + ("deleted", "foreign", "missing")) -> int:
        """A task id of a kind drawn here; state-dependent lists are indexed, never sampled
        (Hypothesis replays draws, and ids differ from one sequence to the next)."""
        kind = data.draw(st.sampled_from(kinds), label="kind")
        index = data.draw(st.integers(0, 50), label="index")
        pool = {
            "own": lambda: self._ids(self.ada),
            "deleted": lambda: self._ids(self.ada, deleted=True),
            "foreign": lambda: self._ids(self.eve) + self._ids(self.eve, deleted=True),
        }.get(kind, lambda: [])()
        if not pool:
            return 2**31 - 1  # no such task
        return pool[index % len(pool)]

    def _send(self, method: str, path: str, **kwargs):
        response = self.client.open(path, method=method, **kwargs)
        self.counts["requests"] += 1
        if response.status_code >= 500:
            self.counts["server_errors"] += 1
        assert response.status_code < 500, (method, path, kwargs, response.status_code)
        return response

    # ---- rules --------------------------------------------------------------------------

    @rule(data=st.data())
    def quick_add(self, data):
        words = [data.draw(st.sampled_from(["Call", "Pay rent", "Water plants", "Écrire"]))]
        names = TAG_NAMES + self.renamed
        for name in data.draw(st.lists(st.sampled_from(names), max_size=3), label="tags"):
            words.append("#" + name)
        if data.draw(st.booleans(), label="repeats"):
            words.append(data.draw(st.sampled_from(REPEATS)))
        when = data.draw(st.sampled_from([None, "iso", "word"]), label="when")
        if when == "iso":
            words.append(data.draw(st.sampled_from(EDGE_DATES)).isoformat())
        elif when == "word":
            words.append(data.draw(st.sampled_from(DATE_WORDS)))
        if data.draw(st.booleans(), label="priority"):
            words.append(data.draw(st.sampled_from(["!1", "!2", "!3", "!high"])))
        order = data.draw(st.permutations(words[1:]), label="order")
        response = self._send("POST", "/tasks", data={"title": " ".join([words[0], *order])})
        assert response.status_code in (303, 422)

    @rule(data=st.data())
    def quick_add_a_renamed_tag(self, data):
        if not self.renamed:
            return
        name = self.renamed[data.draw(st.integers(0, 50)) % len(self.renamed)]
        response = self._send("POST", "/tasks", data={"title": f"Again #{name}"})
        assert response.status_code == 303

    @rule(data=st.data())
    def edit(self, data):
        task_id = self._pick(data)
        current = self._task(task_id)
        version = current[0] if current else 1
        version += data.draw(st.sampled_from([0, 0, 0, -1, 1]), label="version offset")
        due = data.draw(st.one_of(st.none(), st.sampled_from(EDGE_DATES)), label="due")
        form = {
            "title": data.draw(st.sampled_from(["Edited", "Ünïcode ✓", "x" * 200])),
            "notes": data.draw(st.sampled_from(["", "**notes**"])),
            "priority": str(data.draw(st.integers(0, 3))),
            "due_date": due.isoformat() if due else "",
            "tags": ", ".join(data.draw(st.lists(st.sampled_from(TAG_NAMES), max_size=4))),
            "repeat": data.draw(st.sampled_from(FREQS)),
            "interval": str(data.draw(st.sampled_from([1, 2, 365]))),
            "weekdays": data.draw(st.lists(st.sampled_from(["MO", "WE", "SU"]), unique=True)),
            "version": str(version),
        }
        before = self._rows(self.ada)
        response = self._send("POST", f"/tasks/{task_id}", data=form, headers=HTMX)
        mine = task_id in self._ids(self.ada)
        if not mine:
            assert response.status_code == 404
        elif version < 1:
            assert response.status_code == 422  # no task has version 0
        elif version != current[0]:
            assert response.status_code == 409
        else:
            assert response.status_code in (200, 422)
        if response.status_code != 200:
            assert self._rows(self.ada) == before

    @rule(data=st.data())
    def tick(self, data):
        task_id = self._pick(data)
        done = data.draw(st.sampled_from(["1", ""]), label="done")
        mine = task_id in self._ids(self.ada)
        response = self._send("POST", f"/tasks/{task_id}/toggle", data={"done": done})
        assert response.status_code == (303 if mine else 404)

    @rule(data=st.data())
    def bulk(self, data):
        ids = [self._pick(data) for _ in range(data.draw(st.integers(1, 4), label="count"))]
        action = data.draw(st.sampled_from(["done", "open", "delete", "tag_add", "tag_remove",
                                            "priority", "due"]))  # fmt: skip
        due = data.draw(st.sampled_from(EDGE_DATES))
        form = {
            "ids": [str(i) for i in ids],
            "action": action,
            "tag": data.draw(st.sampled_from(TAG_NAMES + BAD_TAG_NAMES + self.renamed)),
            "priority": str(data.draw(st.integers(0, 3))),
            "due_date": due.isoformat(),
        }
        own = set(self._ids(self.ada))
        before = self._rows(self.ada)
        response = self._send("POST", "/tasks/bulk", data=form, headers=HTMX)
        tagging = action in ("tag_add", "tag_remove")
        if tagging and form["tag"] in BAD_TAG_NAMES:
            # Refused before any id is looked up, whoever's ids they are.
            assert response.status_code == 422 and self._rows(self.ada) == before
        elif own.isdisjoint(ids):
            assert response.status_code == 404 and self._rows(self.ada) == before
        else:
            assert response.status_code == 200

    @rule(data=st.data())
    def delete(self, data):
        task_id = self._pick(data)
        mine = task_id in self._ids(self.ada)
        response = self._send("POST", f"/tasks/{task_id}/delete")
        assert response.status_code == (303 if mine else 404)

    @rule(data=st.data())
    def undo(self, data):
        ids = [self._pick(data, ("deleted", "deleted", "foreign", "own", "missing"))
               for _ in range(data.draw(st.integers(1, 3), label="count"))]  # fmt: skip
        restorable = set(self._ids(self.ada, deleted=True)).intersection(ids)
        response = self._send("POST", "/tasks/restore", data={"ids": [str(i) for i in ids]})
        assert response.status_code == (303 if restorable else 404)
        assert restorable.issubset(self._ids(self.ada))

    def _tag(self, data):
        tags = self._sql("SELECT id, name FROM tags WHERE owner_id = :o ORDER BY id", o=self.ada)
        foreign = self._sql("SELECT id, name FROM tags WHERE owner_id = :o", o=self.eve)
        pool = foreign if data.draw(st.integers(0, 4), label="foreign tag") == 0 else tags
        return pool[data.draw(st.integers(0, 50)) % len(pool)] if pool else (2**31 - 1, "")

    @rule(data=st.data())
    def rename_tag(self, data):
        tag_id, old = self._tag(data)
        new = data.draw(st.sampled_from([*TAG_NAMES, "renamed", "Renamed", "#hashed", "  padded "]))
        mine = bool(self._sql("SELECT 1 FROM tags WHERE id = :i AND owner_id = :o",
                              i=tag_id, o=self.ada))  # fmt: skip
        response = self._send("POST", f"/tags/{tag_id}", data={"name": new, "colour": "#336699"})
        if not mine:
            assert response.status_code == 404
        elif response.status_code == 303:
            self.renamed.append(old)
        else:
            assert response.status_code == 422  # the name is taken

    @rule(data=st.data())
    def delete_tag(self, data):
        tag_id, _ = self._tag(data)
        mine = bool(self._sql("SELECT 1 FROM tags WHERE id = :i AND owner_id = :o",
                              i=tag_id, o=self.ada))  # fmt: skip
        response = self._send("POST", f"/tags/{tag_id}/delete")
        assert response.status_code == (303 if mine else 404)

    # ---- invariants ---------------------------------------------------------------------

    @invariant()
    def the_bystander_is_untouched(self):
        self.counts["steps"] += 1
        assert self._rows(self.eve) == self.eve_rows

    @invariant()
    def the_list_shows_exactly_the_live_tasks(self):
        live = self._ids(self.ada)
        assert len(live) < 200  # one page holds them all
        for status, expected in (
            ("all", set(live)),
            ("open", set(self._ids(self.ada, open_only=True))),
        ):
            body = self._send("GET", f"/tasks?status={status}&limit=200").get_data(as_text=True)
            assert {int(i) for i in re.findall(r'role="row" id="task-(\d+)"', body)} == expected

    @invariant()
    def the_tags_page_counts_are_the_databases(self):
        body = self._send("GET", "/tags").get_data(as_text=True)
        shown = {
            int(tag_id): (int(open_), int(total))
            for tag_id, open_, total in re.findall(
                r'id="tag-(\d+)".*?(\d+) open · (\d+) total', body, re.S
            )
        }
        counted = self._sql(
            "SELECT g.id,"
            " COUNT(t.id) FILTER (WHERE NOT t.done),"  # SQLite >= 3.30 and PostgreSQL
            " COUNT(t.id)"
            " FROM tags g LEFT JOIN task_tags tt ON tt.tag_id = g.id"
            " LEFT JOIN tasks t ON t.id = tt.task_id AND t.deleted_at IS NULL"
            " WHERE g.owner_id = :o GROUP BY g.id",
            o=self.ada,
        )
        assert shown == {tag_id: (open_, total) for tag_id, open_, total in counted}

    @invariant()
    def the_tag_filters_copy_is_task_tags(self):
        """PostgreSQL's tasks.tag_ids, which the tag filter reads, holds each task's links."""
        if self.app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            return
        copies = {task_id: set(ids) for task_id, ids in self._sql("SELECT id, tag_ids FROM tasks")}
        links = {task_id: set() for task_id in copies}
        for task_id, tag_id in self._sql("SELECT task_id, tag_id FROM task_tags"):
            links[task_id].add(tag_id)
        assert copies == links


def test_sequences_of_actions_by_two_users(make_app, database_url):
    app = make_app(AUTH_RATE_LIMIT="100000/minute")
    counts = {"steps": 0, "requests": 0, "server_errors": 0}
    try:
        run_state_machine_as_test(
            lambda: TaskSequences(app, counts),
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=STEPS,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
        for name, value in counts.items():
            add(f"fuzz_stateful.{name}", value)
            add(f"fuzz_stateful.{name}.{backend}", value)
    assert counts["steps"] >= EXAMPLES
