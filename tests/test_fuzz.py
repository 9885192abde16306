"""Hostile input, generated: every route, every method, random Unicode, control characters,
NUL bytes, megabyte strings, negative and huge ids, malformed dates, repeated parameters.
Nothing may answer 5xx, and another user's data must stay exactly as it was.

Requests are counted into the security figures (docs/SECURITY.md): FUZZ_EXAMPLES per phase
and backend (2,600 by default: a CI run, two phases on two databases, sends over 10,000)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import LoginSession, Tag, Task, User
from tests.conftest import create_user, csrf_token, login
from tests.security_figures import add
from tests.tasks_helpers import add_task

pytestmark = pytest.mark.security
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2600"))
# Routes that would end the fuzzing client's own session (covered by their own tests).
SKIP_ENDPOINTS = {"static", "auth.logout", "account.end_session", "account.delete"}
FIELDS = [
    "title", "notes", "priority", "due_date", "tags", "repeat", "interval", "weekdays",
    "version", "ids", "action", "tag", "name", "colour", "email", "password", "confirm",
    "display_name", "current_password", "new_password", "confirm_email", "q", "status",
    "sort", "due", "limit", "after", "role", "page", "remember", "done", "next", "actor",
    "target",
]  # fmt: skip
NASTY = [
    "", "0", "-1", "1", "2147483647", "2147483648", "99999999999999999999999", "1e9", "NaN",
    "2026-02-30", "2026-13-01", "0000-00-00", "9999-12-31", "yesterday", "#fff", "#GGGGGG",
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "javascript:alert(1)",
    "' OR 1=1 --", "%", "_", "\\", "\x00", "a\x00b", "\u202e", "\ud7ff", "🙂" * 60,
    "#tag !1 tomorrow", "FREQ=DAILY;COUNT=3", "done", "delete", "tag_add", "weekly",
    "open", "all", "-tasks", "admin", "MO", "on", "true",
]  # fmt: skip

values = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), min_size=150, max_size=400),
    st.integers(-(2**70), 2**70).map(str),
    st.dates().map(lambda d: d.isoformat()),
    st.just("y" * 10_000),
)
HUGE = "x" * 1_100_000  # over the 1 MB body limit: added to one request in about 30
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


def _snapshot(app, email):
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.email == email))
        rows = [
            (owner.email, owner.display_name, owner.password_hash, owner.is_active, owner.is_admin)
        ]
        for model in (Task, Tag, LoginSession):
            column = LoginSession.user_id if model is LoginSession else model.owner_id
            for obj in db.session.scalars(
                select(model).where(column == owner.id).order_by(model.id)
            ):
                rows.append(
                    tuple(
                        sorted((k, repr(v)) for k, v in vars(obj).items() if not k.startswith("_"))
                    )
                )
        return rows


def _fuzz(app, client, admin: bool, label: str):
    routes = _routes(app, admin)
    token = csrf_token(client, "/tasks")
    sent = {"requests": 0, "server_errors": 0}

    @settings(
        max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(data=st.data())
    def run(data):
        rule, method = data.draw(st.sampled_from(routes))
        path = rule.build({arg: data.draw(ids) for arg in rule.arguments}, append_unknown=False)[1]
        pairs = MultiDict(data.draw(params))
        if data.draw(st.integers(0, 29)) == 0:
            pairs.add(data.draw(st.sampled_from(FIELDS)), HUGE)
        headers = {"X-CSRFToken": token} if data.draw(st.booleans()) or method == "GET" else {}
        if data.draw(st.booleans()):
            headers["HX-Request"] = "true"
        if method == "GET":
            response = client.open(path, method=method, query_string=pairs, headers=headers)
        else:
            response = client.open(path, method=method, data=pairs, headers=headers)
        sent["requests"] += 1
        if response.status_code >= 500:
            sent["server_errors"] += 1
        shown = [
            (k, v[:40] + f"...({len(v)})" if len(v) > 40 else v) for k, v in pairs.items(multi=True)
        ]
        assert response.status_code < 500, (method, path, shown, response.status_code)
        assert b"Traceback" not in response.data

    run()
    add(f"fuzz.requests.{label}", sent["requests"])
    add("fuzz.requests.total", sent["requests"])
    add("fuzz.server_errors", sent["server_errors"])
    return sent


def _world(make_app):
    app = make_app(AUTH_RATE_LIMIT="100000/minute")
    create_user(app, email="ada@example.com", name="Ada")
    create_user(app, email="root@example.com", name="Root", admin=True)
    create_user(app, email="eve@example.com", name="Eve")
    for i in range(3):
        add_task(app, "eve@example.com", title=f"Eve's {i}", tags=["private"], notes="secret")
        add_task(app, title=f"Ada's {i}", tags=["mine"])
    eve = app.test_client()
    login(eve, email="eve@example.com")  # a live session of hers that must survive
    return app


def test_fuzz_every_user_route(make_app, database_url):
    app = _world(make_app)
    before = _snapshot(app, "eve@example.com")
    client = app.test_client()
    login(client)
    sent = _fuzz(app, client, admin=False, label="user")
    assert sent["requests"] >= EXAMPLES
    assert _snapshot(app, "eve@example.com") == before


def test_fuzz_every_admin_page(make_app, database_url):
    app = _world(make_app)
    before = [_snapshot(app, email) for email in ("eve@example.com", "ada@example.com")]
    client = app.test_client()
    login(client, email="root@example.com")
    _fuzz(app, client, admin=True, label="admin")
    assert [_snapshot(app, email) for email in ("eve@example.com", "ada@example.com")] == before
