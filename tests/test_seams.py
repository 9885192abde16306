"""The framework seams (app/seams/): for each, an upgrade canary that fails naming the
library and the private name or behaviour the seam relies on, and a test that it is active.

A failing canary after an upgrade means: read the seam's module docstring, then fix the seam
or drop it (plain library use, re-measured with `make bench-instructions`).
"""

from __future__ import annotations

import inspect

import flask_limiter
import huey
import psycopg
import pytest
from flask import Flask, flash, render_template_string, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_wtf.csrf import generate_csrf
from huey import Huey
from huey.storage import MemoryStorage, SqliteStorage
from sqlalchemy.engine import make_url
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import create_environ
from werkzeug.wrappers import Response

from app import session_cookie
from app.extensions import db, limiter
from app.seams import csrf_per_render, huey_storage, row_urls
from app.seams.limiter import DecoratedLimitsOnly
from app.seams.request_bound_connection import RequestBoundConnection
from app.seams.row_urls import ServingRoot, row_url
from app.seams.session_cookie import BoundedCookieSession
from app.seams.wsgi_headers import SecurityHeaders
from tests.helpers import login


def _parameters(func) -> list[tuple[str, object]]:
    return [(p.name, p.default) for p in inspect.signature(func).parameters.values()]


def _middlewares(app: Flask) -> list[type]:
    """The WSGI middlewares around Flask's own wsgi_app, outermost first."""
    chain, layer = [], app.wsgi_app
    while not inspect.ismethod(layer):  # Flask.wsgi_app, bound to the app, ends the chain
        chain.append(type(layer))
        layer = layer.app if isinstance(layer, ProxyFix) else layer.wsgi_app
    return chain


def test_one_install_puts_the_wsgi_seams_inside_any_proxy_fix(make_app):
    assert _middlewares(make_app()) == [SecurityHeaders, ServingRoot]
    assert _middlewares(make_app(TRUSTED_PROXIES=1)) == [ProxyFix, SecurityHeaders, ServingRoot]


# ---- row_urls ------------------------------------------------------------------------------


def _id_routes(app: Flask) -> list[tuple[str, str]]:
    """Every route with one id in its path, and that id's name."""
    return sorted(
        {
            (r.endpoint, next(iter(r.arguments)))
            for r in app.url_map.iter_rules()
            if r.arguments in ({"task_id"}, {"project_id"})
        }
    )


def test_canary_werkzeug_builds_every_task_route_as_row_url_assumes(app):
    """row_url relies on Werkzeug 3.1's MapAdapter.build: a path depends on the endpoint,
    the id and the application root only, the id spelled as its decimal digits."""
    assert not app.url_map.host_matching and not app.subdomain_matching
    endpoints = _id_routes(app)
    assert ("tasks.toggle", "task_id") in endpoints
    assert ("projects.show", "project_id") in endpoints
    for root in ("", "/prefix"):
        with app.test_request_context("/", base_url=f"http://example.com{root}"):
            for endpoint, argument in endpoints:
                for row_id in (1, 907, 2**31 - 1):
                    assert row_url(endpoint, row_id) == url_for(endpoint, **{argument: row_id}), (
                        f"Werkzeug: url_for({endpoint!r}) no longer builds what "
                        "app/seams/row_urls.py fills in from one cached build"
                    )


def test_canary_flask_serves_requests_through_the_wsgi_app_attribute():
    assert "self.wsgi_app(" in inspect.getsource(Flask.__call__), (
        "Flask: app.__call__ no longer calls self.wsgi_app, where app/seams/row_urls.py "
        "and app/seams/wsgi_headers.py install their middleware"
    )


def test_each_request_notes_its_root_and_row_urls_are_built_once(app, client):
    app.add_url_rule("/_root", "root_probe", lambda: row_urls.serving_root.get() or "(unset)")
    for root in ("/prefix", "", "/other"):
        assert client.get("/_root", base_url=f"http://localhost{root}").text == (root or "(unset)")
    assert row_urls.serving_root.get() is None  # reset after each request
    with app.test_request_context("/"):
        row_url("tasks.edit", 1)
        before = row_urls._url_parts.cache_info()
        assert row_url("tasks.edit", 2) == url_for("tasks.edit", task_id=2)
        after = row_urls._url_parts.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)


# ---- csrf_per_render -----------------------------------------------------------------------


def test_canary_flask_wtf_puts_the_csrf_token_function_we_shadow(app):
    """flask-wtf 1.3's CSRFProtect.init_app gives templates `csrf_token` = generate_csrf,
    as a jinja global and from a context processor registered before ours."""
    message = "flask-wtf: CSRFProtect.init_app no longer provides csrf_token = generate_csrf "
    assert app.jinja_env.globals.get("csrf_token") is generate_csrf, message + "(globals)"
    processors = app.template_context_processors[None]
    ours = processors.index(csrf_per_render.csrf_token_per_render)
    with app.test_request_context("/"):
        theirs = [i for i, p in enumerate(processors) if p().get("csrf_token") is generate_csrf]
        assert theirs and max(theirs) < ours, message + "(context processor, before ours)"
        assert generate_csrf() == generate_csrf(), "flask-wtf: a new token on each call"


def test_templates_ask_flask_wtf_once_per_render(app, monkeypatch):
    calls = []

    def counted():
        calls.append(1)
        return generate_csrf()

    monkeypatch.setattr(csrf_per_render, "generate_csrf", counted)
    with app.test_request_context("/"):
        assert render_template_string("{{ csrf_token() }}") == generate_csrf()
        assert len(calls) == 1
        text = render_template_string("{{ csrf_token() }} {{ csrf_token() }} {{ csrf_token() }}")
        assert len(set(text.split())) == 1
        # Flask: later context processors win; else flask-wtf's own function would answer.
        assert len(calls) == 2, "Flask: our context processor no longer shadows flask-wtf's"
        render_template_string("no form here")
        assert len(calls) == 2  # lazily: no token for a render that shows none


# ---- limiter -------------------------------------------------------------------------------


def test_canary_flask_limiter_checks_requests_where_the_seam_overrides():
    version = flask_limiter.__version__
    assert _parameters(Limiter._check_request_limit) == [
        ("self", inspect.Parameter.empty),
        ("callable_name", None),
        ("in_middleware", True),
    ], f"flask-limiter {version}: Limiter._check_request_limit changed its signature"
    init = inspect.getsource(Limiter.init_app)
    assert "before_request(self._check_request_limit)" in init, (
        f"flask-limiter {version}: init_app no longer hooks _check_request_limit before "
        "every request (app/seams/limiter.py skips that call)"
    )
    from flask_limiter import _limits

    assert "_check_request_limit(in_middleware=False" in inspect.getsource(_limits), (
        f"flask-limiter {version}: decorated limits no longer call "
        "_check_request_limit(in_middleware=False, ...), which the seam lets through"
    )


def test_only_decorated_views_check_limits(app, client, monkeypatch):
    assert isinstance(limiter, DecoratedLimitsOnly)
    checks = []
    monkeypatch.setattr(
        Limiter,
        "_check_request_limit",
        lambda _self, callable_name=None, in_middleware=True: checks.append(in_middleware),
    )
    assert client.get("/tasks").status_code == 302  # an undecorated view: no check at all
    assert client.get("/").status_code in (200, 302)
    assert checks == []
    login(client, password="wrong-password")
    assert checks and not any(checks), checks  # the decorator's own check(s), and only those


# ---- wsgi_headers --------------------------------------------------------------------------


def test_canary_werkzeug_starts_responses_with_a_mutable_header_list():
    seen = []
    Response("x")(create_environ(), lambda _status, headers: seen.append(headers))
    assert type(seen[0]) is list, (
        "Werkzeug: Response.__call__ no longer passes start_response a plain list; "
        "app/seams/wsgi_headers.py appends its headers to it"
    )


def test_headers_are_added_once_at_the_wsgi_layer(app, client):
    page, script = client.get("/login"), client.get("/static/js/app.js")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" not in script.headers
    for response in (page, script):
        names = [name.lower() for name, _ in response.headers]
        assert len(names) == len(set(names)), names
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Vary"].split(", ").count("HX-Request") == 1


# ---- request_bound_connection --------------------------------------------------------------


def test_canary_psycopg_waits_through_the_method_the_seam_overrides():
    """The behaviour's canary is test_reliability.py's
    test_a_request_waits_a_bounded_time_for_each_database_answer (PostgreSQL)."""
    version = psycopg.__version__
    assert _parameters(psycopg.Connection.wait) == [
        ("self", inspect.Parameter.empty),
        ("gen", inspect.Parameter.empty),
        ("interval", psycopg.Connection.wait.__defaults__[0]),
        ("timeout", None),
    ], f"psycopg {version}: Connection.wait(gen, interval, timeout) changed"
    assert issubclass(getattr(psycopg.errors, "_WaitTimeout", type(None)), Exception), (
        f"psycopg {version}: errors._WaitTimeout, raised when Connection.wait times out, is gone"
    )


def test_postgresql_connections_are_request_bound(make_app, database_url):
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("the answer timeout is PostgreSQL's")
    app = make_app(DATABASE_ANSWER_TIMEOUT=7, DATABASE_CONNECT_TIMEOUT=3)
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            psycopg_connection = connection.driver_connection
            assert isinstance(psycopg_connection, RequestBoundConnection)
            assert psycopg_connection.answer_timeout == 7
            # database.configure's connect timeout still reaches the connection.
            assert psycopg_connection.info.get_parameters()["connect_timeout"] == "3"
        finally:
            connection.close()


# ---- session_cookie ------------------------------------------------------------------------


def test_canary_flask_keeps_flashes_where_the_bound_looks(app):
    """The bound trims session[FLASHES], where flask.flash() puts them today."""
    with app.test_request_context():
        flash("hello", "info")
        assert session_cookie.FLASHES in session, (
            f"Flask: flash() no longer writes session[{session_cookie.FLASHES!r}]"
        )


def test_canary_flask_session_interface_as_the_seam_extends_it():
    interface = SecureCookieSessionInterface
    assert [name for name, _ in _parameters(interface.save_session)] == [
        "self",
        "app",
        "session",
        "response",
    ], "Flask: SecureCookieSessionInterface.save_session(app, session, response) changed"
    for name in ("get_signing_serializer", "get_cookie_name"):
        assert callable(getattr(interface, name, None)), f"Flask: SessionInterface.{name} gone"


def test_the_session_is_trimmed_before_flask_writes_it(app):
    assert isinstance(app.session_interface, BoundedCookieSession)
    with app.test_request_context():
        for i in range(10):
            flash(f"message {i}")
        response = app.response_class()
        app.session_interface.save_session(app, session, response)
        kept = [message for _, message in session[session_cookie.FLASHES]]
    assert kept == ["message 7", "message 8", "message 9"]
    assert "tasklane_session=" in response.headers["Set-Cookie"]


def test_canary_sqlalchemy_asks_the_sqlite_compiler_for_table_hints(app):
    """app/seams/sqlite_index_hint.py: SQLAlchemy's SQLite compiler must call
    get_from_hint_text for a FROM table with a "sqlite" hint; the seam renders the hint there."""
    from sqlalchemy import select
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.dialects.sqlite.base import SQLiteCompiler

    from app.models import Task
    from app.seams.sqlite_index_hint import _hint_text

    assert SQLiteCompiler.get_from_hint_text is _hint_text, "seams.install() installs the hint"
    stmt = select(Task.id).with_hint(Task, "INDEXED BY ix_tasks_list_due", "sqlite")
    sql = str(stmt.compile(dialect=sqlite.dialect()))
    assert "FROM tasks INDEXED BY ix_tasks_list_due" in sql, (
        "SQLAlchemy no longer renders SQLite table hints through get_from_hint_text: " + sql
    )


def test_canary_huey_builds_its_storage_from_the_attributes_the_seam_sets(tmp_path):
    version = huey.__version__
    queue = Huey("before", results=False, immediate=True)
    assert isinstance(queue.storage, MemoryStorage), f"huey {version}: immediate is not memory"

    def to_file(name: str, filename: str) -> None:
        kwargs = {"filename": filename}
        huey_storage.rebind(
            queue, name=name, storage_class=SqliteStorage, storage_kwargs=kwargs, immediate=False
        )

    # From immediate: the `immediate` setter must build the new storage.
    to_file("after", str(tmp_path / "queue.sqlite3"))
    assert isinstance(queue.storage, SqliteStorage), (
        f"huey {version}: the immediate setter no longer rebuilds the storage from "
        "storage_class/storage_kwargs (app/seams/huey_storage.py)"
    )
    assert queue.storage.name == "after", f"huey {version}: create_storage() ignores name"
    assert queue.storage.filename == str(tmp_path / "queue.sqlite3"), (
        f"huey {version}: create_storage() no longer reads storage_kwargs"
    )
    # Same mode, another file: create_storage() alone must build the new one.
    to_file("again", str(tmp_path / "other.sqlite3"))
    assert queue.storage.filename == str(tmp_path / "other.sqlite3")
    assert queue.storage.name == "again"
    huey_storage.rebind(
        queue, name="again", storage_class=SqliteStorage, storage_kwargs={}, immediate=True
    )
    assert isinstance(queue.storage, MemoryStorage), (
        f"huey {version}: immediate mode no longer swaps in a MemoryStorage"
    )


def test_the_app_queue_is_the_configured_one(app):
    from app.jobs.queue import huey as app_huey

    # TestConfig runs jobs inline: the storage the seam swapped in is memory.
    assert app_huey.immediate and isinstance(app_huey.storage, MemoryStorage)
    assert app_huey.name == app.config["QUEUE_NAME"]
