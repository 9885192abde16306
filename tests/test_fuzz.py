"""Hostile input, generated: every route, every method, random Unicode, control characters,
NUL bytes, megabyte strings, negative and huge ids, malformed dates, repeated parameters.
Nothing may answer 5xx, and another user's data must stay exactly as it was.

Integers get a phase of their own: every integer field of every form (found by walking the
form classes, so a new field is fuzzed without editing this file) and every integer in a
query string, at and past the 32- and 64-bit edges and in spellings int() reads but a browser
never sends, posted inside an otherwise valid form so that the value reaches the view.

Requests are counted into the security figures (docs/SECURITY.md): FUZZ_EXAMPLES per phase
and backend (2,600 by default: a CI run, two phases on two databases, sends over 10,000)."""

from __future__ import annotations

import base64
import json
import os
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Integer, select, text
from werkzeug.datastructures import MultiDict
from wtforms import IntegerField
from wtforms.fields.core import UnboundField

from app.extensions import db
from app.forms import BaseForm, IdListField
from app.models import Invitation, LoginSession, Membership, Project, Role, Tag, Task, User
from app.tasks.listing import SORTS
from tests.helpers import (
    PASSWORD,
    add_member,
    add_project,
    add_task,
    create_user,
    csrf_token,
    login,
    user_id,
)
from tests.security_figures import add

pytestmark = pytest.mark.security
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2600"))
# Routes that would end the fuzzing client's own session: fuzzed by a user kept for it
# (test_fuzz_logout_end_session_and_account_deletion).
SKIP_ENDPOINTS = {"static", "auth.logout", "account.end_session", "account.delete"}
FIELDS = [
    "title", "notes", "priority", "due_date", "tags", "repeat", "interval", "weekdays",
    "version", "ids", "action", "tag", "name", "colour", "email", "password", "confirm",
    "display_name", "current_password", "new_password", "confirm_email", "q", "status",
    "sort", "due", "limit", "after", "role", "page", "remember", "done", "next", "actor",
    "target", "token", "timezone", "new_email", "due_time", "project", "project_id",
    "assignee", "assignee_id", "new_owner", "move_to", "before", "v", "digest", "digest_hour",
    "reminder_mail", "default_reminder", "List-Unsubscribe",
]  # fmt: skip
NASTY = [
    "", "0", "-1", "1", "2147483647", "2147483648", "99999999999999999999999", "1e9", "NaN",
    "2026-02-30", "2026-13-01", "0000-00-00", "9999-12-31", "yesterday", "#fff", "#GGGGGG",
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "javascript:alert(1)",
    "' OR 1=1 --", "%", "_", "\\", "\x00", "a\x00b", "\u202e", "\ud7ff", "🙂" * 60,
    "#tag !1 tomorrow", "FREQ=DAILY;COUNT=3", "done", "delete", "tag_add", "weekly",
    "open", "all", "-tasks", "admin", "MO", "on", "true", "Pacific/Auckland", "localtime",
    "../../../etc/passwd",
]  # fmt: skip

# Integers at and past every edge a column or a C integer has (and one either side of it),
# and spellings that Python's int() accepts or that look like numbers.
_EDGES = [0, 1, 2**15, 2**16, 2**31, 2**32, 2**53, 2**63, 2**64, 10**19, 10**20, 10**30]
SPELLINGS = [
    "", "1e3", " 7 ", "7 ", "0x10", "0o7", "0b1", "٣", "²", "+5", "1_0", "07", "-0", "1.0",
    "1,000", "Infinity", "NaN", "9" * 25, "9" * 5000, "\uff17",
]  # fmt: skip
edge_ints = st.one_of(
    st.builds(
        lambda base, sign, delta: str(sign * base + delta),
        st.sampled_from(_EDGES),
        st.sampled_from([1, -1]),
        st.sampled_from([-1, 0, 1]),
    ),
    st.sampled_from(SPELLINGS),
)

values = st.one_of(
    edge_ints,
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), min_size=150, max_size=400),
    st.integers(-(2**70), 2**70).map(str),
    st.dates().map(lambda d: d.isoformat()),
    st.just("y" * 10_000),
)
# Over the 1 MB body limit. Added to about one body in 6, which costs little (refused with 413
# before it is read), and one query string in 30, which costs the test client about 0.1 s a
# request (it encodes the URL, and reads it back to match cookies). Drawn as the last value
# of a range, not the first: Hypothesis draws a range's simplest value, 0, far more often
# than its share, and `== 0` once put HUGE on 13 to 19 % of the requests, by the seed (the
# admin phase, GETs only, took over half its time on them).
HUGE = "x" * 1_100_000
params = st.lists(st.tuples(st.sampled_from(FIELDS) | st.text(max_size=12), values), max_size=6)
ids = st.one_of(st.integers(-5, 40), st.integers(-(2**70), 2**70), st.sampled_from([0, 2**31]))


def _routes(app, admin: bool):
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS or rule.endpoint.startswith("admin.") != admin:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if admin and method != "GET":
                continue  # admin actions on other users are legitimate changes; GETs only
            routes.append((rule, method))
    return routes


def _reach(model, user_id):
    """What of `model` is the user's: the projects they are a member of and the tasks in
    them, their own tags and login sessions."""
    member_of = select(Membership.project_id).where(Membership.user_id == user_id)
    if model is Task:
        return Task.project_id.in_(member_of)
    if model is Project:
        return Project.id.in_(member_of)
    return (LoginSession.user_id if model is LoginSession else model.owner_id) == user_id


def _snapshot(app, email):
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.email == email))
        rows = [
            (owner.email, owner.display_name, owner.password_hash, owner.is_active, owner.is_admin)
        ]
        for model in (Task, Tag, LoginSession):
            for obj in db.session.scalars(
                select(model).where(_reach(model, owner.id)).order_by(model.id)
            ):
                rows.append(
                    tuple(
                        sorted((k, repr(v)) for k, v in vars(obj).items() if not k.startswith("_"))
                    )
                )
        return rows


def _examples(n: int) -> settings:
    """A phase's Hypothesis settings: n examples, the same ones every run (derandomized, no
    example database); no deadline and no health checks, as a phase is judged by its answers,
    not by its speed."""
    return settings(
        max_examples=n, deadline=None, derandomize=True, database=None,
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip


def _shown(pairs) -> list[tuple[str, str]]:
    """The request's fields for a failure message, long values cut to 40 characters."""
    return [
        (k, v[:40] + f"...({len(v)})" if len(v) > 40 else v) for k, v in pairs.items(multi=True)
    ]


def _check(sent: dict, response, method: str, path: str, pairs) -> None:
    """Count one request and its server errors, and fail on a 5xx."""
    sent["requests"] += 1
    if response.status_code >= 500:
        sent["server_errors"] += 1
    assert response.status_code < 500, (method, path, _shown(pairs), response.status_code)


def _tally(sent: dict, name: str) -> None:
    """Add a phase's requests to the security figures (fuzz.<name>, and the totals)."""
    add(f"fuzz.{name}", sent["requests"])
    add("fuzz.requests.total", sent["requests"])
    add("fuzz.server_errors", sent["server_errors"])


def _fuzz(app, client, admin: bool, label: str):
    routes = _routes(app, admin)
    token = csrf_token(client, "/tasks")
    sent = {"requests": 0, "server_errors": 0}

    @_examples(EXAMPLES)
    @given(data=st.data())
    def run(data):
        rule, method = data.draw(st.sampled_from(routes))
        path = rule.build({arg: data.draw(ids) for arg in rule.arguments}, append_unknown=False)[1]
        pairs = MultiDict(data.draw(params))
        one_in = 30 if method == "GET" else 6
        if data.draw(st.integers(1, one_in)) == one_in:  # the last value, not the first: see HUGE
            pairs.add(data.draw(st.sampled_from(FIELDS)), HUGE)
        headers = {"X-CSRFToken": token} if data.draw(st.booleans()) or method == "GET" else {}
        if data.draw(st.booleans()):
            headers["HX-Request"] = "true"
        if method == "GET":
            response = client.open(path, method=method, query_string=pairs, headers=headers)
        else:
            response = client.open(path, method=method, data=pairs, headers=headers)
        _check(sent, response, method, path, pairs)
        assert b"Traceback" not in response.data

    run()
    _tally(sent, f"requests.{label}")
    return sent


def _world(make_app):
    """Ada, Root (an admin of the instance) and Eve, each with tasks; Ada's project "Team",
    shared with Bea (an editor, assigned a task in it) and an invitation waiting, so that the
    project and sharing routes' ids and fields reach real rows. Eve shares nothing."""
    # Invitations too: at the usual limit all but the first few would be answered 429
    # before their fields were read.
    app = make_app(AUTH_RATE_LIMIT="100000/minute", INVITE_RATE_LIMIT="100000/minute")
    create_user(app, email="ada@example.com", name="Ada")
    create_user(app, email="root@example.com", name="Root", admin=True)
    create_user(app, email="eve@example.com", name="Eve")
    create_user(app, email="bea@example.com", name="Bea")
    for i in range(3):
        add_task(app, "eve@example.com", title=f"Eve's {i}", tags=["private"], notes="secret")
        add_task(app, title=f"Ada's {i}", tags=["mine"])
    team = add_project(app, name="Team")
    add_member(app, team, "bea@example.com", Role.EDITOR)
    bea = user_id(app, "bea@example.com")
    add_task(app, project_id=team, title="Bea's to do", assignee_id=bea, tags=["mine"])
    with app.app_context():
        db.session.add(Invitation(project_id=team, email="zed@example.com", role=1))
        db.session.commit()
    eve = app.test_client()
    login(eve, email="eve@example.com")  # a live session of hers that must survive
    return app


# Who fuzzes, and the bystanders whose rows must come through unchanged.
FUZZERS = {
    "user": ("ada@example.com", ("eve@example.com",)),
    "admin": ("root@example.com", ("eve@example.com", "ada@example.com")),
}


def _fuzz_as(make_app, who: str, fuzz) -> dict:
    """Run one fuzz phase (`_fuzz` or `_fuzz_integers`) signed in as `who`, and check that
    the bystanders' rows are exactly as they were; returns what the phase sent."""
    app = _world(make_app)
    email, bystanders = FUZZERS[who]
    before = [_snapshot(app, bystander) for bystander in bystanders]
    client = app.test_client()
    login(client, email=email)
    sent = fuzz(app, client, admin=who == "admin", label=who)
    assert [_snapshot(app, bystander) for bystander in bystanders] == before
    return sent


@pytest.mark.parametrize("who", FUZZERS)
def test_fuzz_every_route(make_app, database_url, who):
    """The user: every route but the admin area's; the admin: every admin page."""
    sent = _fuzz_as(make_app, who, _fuzz)
    if who == "user":
        assert sent["requests"] >= EXAMPLES


# ---- integers ---------------------------------------------------------------------------
# Every integer a request carries is a field of a form (the list's `limit` too), found by the
# walk below; `after`, the list's cursor, is a list of integers (and dates and titles) that
# the phase below builds from edge values.
# Values that pass each kind of field, so that the one integer under test reaches the view.
VALID = {
    "title": "Fuzzed", "notes": "", "tags": "fuzz", "tag": "fuzz", "name": "fuzz",
    "colour": "#123456", "due_date": date.today().isoformat(), "repeat": "daily",
    "weekdays": "MO", "display_name": "Ada", "q": "", "done": "y", "due_time": "09:00",
    "email": "zed@example.com",
}  # fmt: skip


def _form_classes(cls=BaseForm):
    for sub in cls.__subclasses__():
        yield sub
        yield from _form_classes(sub)


def _integer_columns() -> set[str]:
    return {
        column.name
        for table in db.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, Integer)
    }


def integer_fields() -> dict[str, list[str]]:
    """Every integer field of every form in the app: its name -> the forms that have it.

    An integer field is an IntegerField (BoundedIntegerField), a list of ids, a choice
    coerced to anything but text, or any field named like an integer column (a version kept
    in a text field was once a 500: nothing bounded it)."""
    columns = _integer_columns()
    found: dict[str, list[str]] = {}
    for form in _form_classes():
        for klass in form.__mro__:
            for name, field in vars(klass).items():
                if not isinstance(field, UnboundField):
                    continue
                numeric = issubclass(field.field_class, (IntegerField, IdListField))
                # any coerce but text's: int, whole_number, or a field's own parser
                # (sharing's new_owner, which the walk once missed)
                coerced = field.kwargs.get("coerce", str) is not str
                if numeric or coerced or name in columns:
                    found.setdefault(name, []).append(form.__name__)
    return found


def test_integer_fields_are_found_in_every_form(app):
    """The walk finds the fields we know of (so it cannot quietly find none)."""
    found = integer_fields()
    for name, form in [
        ("version", "TaskForm"), ("interval", "TaskForm"), ("priority", "TaskForm"),
        ("ids", "BulkForm"), ("ids", "RestoreForm"), ("priority", "BulkForm"),
        ("page", "UserFilterForm"), ("page", "AuditFilterForm"), ("limit", "ListFilterForm"),
        ("project_id", "TaskForm"), ("assignee_id", "TaskForm"), ("project_id", "QuickAddForm"),
        ("project", "BulkForm"), ("assignee", "BulkForm"), ("role", "RoleForm"),
        ("role", "InviteForm"), ("new_owner", "TransferForm"), ("move_to", "DeleteProjectForm"),
    ]:  # fmt: skip
        assert form in found.get(name, []), (name, form, found)


# Integers read from a query string by parse_bounded_int, not by a form (the walk above cannot
# find them): the activity page's `before`.
QUERY_INTEGERS = ["before"]


def _cursor(data, edge) -> str:
    """A list cursor of a random length whose integers are edge values."""
    items = data.draw(st.lists(st.one_of(edge.map(_as_json_number), st.none()), max_size=5))
    raw = json.dumps(items).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _as_json_number(value: str):
    try:
        return int(value)
    except ValueError:
        return value


# The tasks a user can reach: those in the projects they are a member of.
MEMBER_OF = "tasks.project_id IN (SELECT project_id FROM memberships WHERE user_id = :owner)"


def _own_rows(app, email="ada@example.com"):
    """The user's tasks, tags and task-tag links, every column: a refused request's
    no-change check."""
    with app.app_context():
        owner = db.session.scalar(select(User.id).where(User.email == email))
        params = {"owner": owner}
        return [
            [tuple(row) for row in db.session.execute(text(sql), params)]
            for sql in (
                f"SELECT * FROM tasks WHERE {MEMBER_OF} ORDER BY id",
                "SELECT * FROM tags WHERE owner_id = :owner ORDER BY id",
                "SELECT tt.* FROM task_tags tt JOIN tasks ON tasks.id = tt.task_id"
                f" WHERE {MEMBER_OF} ORDER BY 1, 2",
            )
        ]


def _own_ids(app, model, email="ada@example.com") -> list[int]:
    with app.app_context():
        owner = db.session.scalar(select(User.id).where(User.email == email))
        stmt = select(model.id).where(_reach(model, owner))
        if model is Task:
            stmt = stmt.where(Task.deleted_at.is_(None))
        return list(db.session.scalars(stmt))


def _pick(data, rows: list[int]) -> int:
    """One of `rows`, which change as the run goes: drawn as an index, so that Hypothesis
    sees the same strategy whatever the database holds."""
    return rows[data.draw(st.integers(0, 999)) % len(rows)]


def _fuzz_integers(app, client, admin: bool, label: str):
    """Each request: a route, valid values for the fields a form there may have, and one or
    more integer fields (or query integers, or a cursor) set to edge values. No 5xx; a
    refusal (4xx) changes none of the signed-in user's rows."""
    fields = sorted({*integer_fields(), *QUERY_INTEGERS})
    routes = _routes(app, admin)
    token = csrf_token(client, "/tasks")
    sent = {"requests": 0, "server_errors": 0, "refused": 0}

    @_examples(max(EXAMPLES // 2, 50))
    @given(data=st.data())
    def run(data):
        if len(_own_ids(app, Task)) < 3:  # deleted along the way: keep some to aim at
            add_task(app, title="Refill", tags=["mine"])
        rule, method = data.draw(st.sampled_from(routes))
        own = {"task_id": Task, "tag_id": Tag, "project_id": Project}
        args = {}
        for arg in rule.arguments:
            args[arg] = _pick(data, (_own_ids(app, own[arg]) if arg in own else []) or [1])
        path = rule.build(args, append_unknown=False)[1]
        pairs = MultiDict(VALID)
        pairs["version"] = "1"
        pairs["ids"] = str(_pick(data, _own_ids(app, Task)))
        pairs["action"] = data.draw(st.sampled_from(["done", "open", "priority", "tag_add"]))
        # Mostly one field at a time, so the rest of the form stays valid and the value goes
        # as far into the view as it can; sometimes two, and sometimes repeated.
        for name in data.draw(st.lists(st.sampled_from(fields), min_size=1, max_size=2)):
            repeats = data.draw(st.sampled_from([1, 1, 1, 2]))
            pairs.setlist(name, data.draw(st.lists(edge_ints, min_size=repeats, max_size=repeats)))
        if method == "GET" and data.draw(st.booleans()):
            pairs["after"] = _cursor(data, edge_ints)
            pairs["sort"] = data.draw(st.sampled_from(SORTS))
        headers = {"X-CSRFToken": token}
        if data.draw(st.booleans()):
            headers["HX-Request"] = "true"
        before = _own_rows(app) if method != "GET" else None
        if method == "GET":
            response = client.open(path, method=method, query_string=pairs, headers=headers)
        else:
            response = client.open(path, method=method, data=pairs, headers=headers)
        _check(sent, response, method, path, pairs)
        if before is not None and 400 <= response.status_code < 500:
            sent["refused"] += 1
            assert _own_rows(app) == before, (method, path, _shown(pairs), response.status_code)

    run()
    _tally(sent, f"integer_requests.{label}")
    add("fuzz.integer_refusals_unchanged", sent["refused"])
    return sent


@pytest.mark.parametrize("who", FUZZERS)
def test_fuzz_integer_fields(make_app, database_url, who):
    """The user: every integer field and query integer of every route; the admin: the query
    integers of the admin pages."""
    sent = _fuzz_as(make_app, who, _fuzz_integers)
    if who == "user":  # the admin pages are fuzzed by GET, and only a refused change counts
        assert sent["requests"] >= EXAMPLES // 2 and sent["refused"] > 0


# ---- admin actions, and the routes that end a session ------------------------------------
TEMPORARY_PASSWORD = "quartz-meadow-lantern-58"


def _throwaway(app, prefix: str, made: list) -> tuple[int, str]:
    """The newest user made for the fuzz under `prefix`, or a new one when the last was deleted
    (made: a counter, so each new email is new)."""
    with app.app_context():
        row = db.session.execute(
            select(User.id, User.email).where(User.email.like(f"{prefix}%")).order_by(User.id)
        ).first()
    if row is not None:
        return row.id, row.email
    made.append(1)
    email = f"{prefix}{len(made)}@example.com"
    return create_user(app, email=email, name="Throwaway"), email


def test_fuzz_admin_actions_on_a_throwaway_user(make_app, database_url):
    """Every admin POST, on a user made for it (never the admin fuzzing, never the last
    admin, never a bystander), with random and with valid forms: no 5xx, the bystanders'
    rows unchanged, and the admin still signed in and an admin."""
    app = _world(make_app)
    bystanders = ("eve@example.com", "ada@example.com")
    before = [_snapshot(app, email) for email in bystanders]
    client = app.test_client()
    login(client, email="root@example.com")
    token = csrf_token(client, "/admin/users")
    actions = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("admin.") and "POST" in rule.methods
    ]
    sent, made = {"requests": 0, "server_errors": 0}, []

    @_examples(max(EXAMPLES // 4, 50))
    @given(data=st.data())
    def run(data):
        rule = data.draw(st.sampled_from(actions))
        target, email = _throwaway(app, "temp", made)
        if data.draw(st.integers(0, 5)) == 0:
            target = data.draw(ids.filter(lambda i: not 0 < i < 2**20))  # no such user
        path = rule.build({"user_id": target}, append_unknown=False)[1]
        pairs = MultiDict(data.draw(params))
        if data.draw(st.booleans()):  # a form the action accepts
            pairs.update(
                {"confirm_email": email, "password": TEMPORARY_PASSWORD,
                 "confirm": TEMPORARY_PASSWORD}
            )  # fmt: skip
        headers = {"X-CSRFToken": token}
        if data.draw(st.booleans()):
            headers["HX-Request"] = "true"
        response = client.post(path, data=pairs, headers=headers)
        _check(sent, response, "POST", path, pairs)

    run()
    _tally(sent, "requests.admin_actions")
    assert len(made) > 1, "no user was deleted: the valid deletion form never got through"
    assert client.get("/admin").status_code == 200  # still signed in, still an admin
    assert [_snapshot(app, email) for email in bystanders] == before


def test_fuzz_logout_end_session_and_account_deletion(make_app, database_url):
    """Sign-out, "end this session" and account deletion, by a user with several sessions,
    aimed at his own sessions, other people's and ids that are not there, with random and with
    valid forms. No 5xx; someone else's session id is a 404; the bystander keeps her session
    and her rows."""
    app = _world(make_app)
    eve = app.test_client()
    login(eve, email="eve@example.com")
    before = _snapshot(app, "eve@example.com")
    eve_sessions = _session_ids(app, "eve@example.com")
    clients = [app.test_client() for _ in range(2)]
    routes = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint in ("auth.logout", "account.end_session", "account.delete")
    ]
    sent, made = {"requests": 0, "server_errors": 0}, []

    @_examples(max(EXAMPLES // 4, 50))
    @given(data=st.data())
    def run(data):
        _, email = _throwaway(app, "tom", made)
        for client in clients:  # each signed in, again if the last example ended it
            if client.get("/account").status_code != 200:
                login(client, email=email)
        client = clients[data.draw(st.integers(0, len(clients) - 1))]
        rule = data.draw(st.sampled_from(routes))
        whose = data.draw(st.sampled_from(["mine", "mine", "eve", "none"]))
        session_id = {
            "mine": lambda: _pick(data, _session_ids(app, email)),
            "eve": lambda: _pick(data, eve_sessions),
            "none": lambda: data.draw(ids),
        }[whose]()
        path = rule.build({"session_id": session_id}, append_unknown=False)[1]
        pairs = MultiDict(data.draw(params))
        if data.draw(st.booleans()):
            pairs.update({"confirm_email": email, "password": PASSWORD})
        headers = {"X-CSRFToken": csrf_token(client, "/account")}
        if data.draw(st.booleans()):
            headers["HX-Request"] = "true"
        response = client.post(path, data=pairs, headers=headers)
        _check(sent, response, "POST", path, pairs)
        if rule.endpoint == "account.end_session" and whose == "eve":
            assert response.status_code == 404

    run()
    _tally(sent, "requests.session_ends")
    assert len(made) > 1, "no account was deleted: the valid deletion form never got through"
    assert _snapshot(app, "eve@example.com") == before
    assert eve.get("/account").status_code == 200


def _session_ids(app, email: str) -> list[int]:
    with app.app_context():
        stmt = (
            select(LoginSession.id)
            .join(User, User.id == LoginSession.user_id)
            .where(User.email == email)
            .order_by(LoginSession.id)
        )
        return list(db.session.scalars(stmt)) or [1]
