"""Admin actions on one user: each works in place with htmx and as a plain form post, and the
guards answer 409 (nobody removes themself, the last active admin stays)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, func, select, text

from app import user_actions
from app.extensions import db
from app.models import AuditEntry, LoginSession, Tag, Task, User, task_tags
from tests.helpers import (
    HTMX,
    PASSWORD,
    add_task,
    admin_client,
    admin_post,
    change_password,
    count,
    create_user,
    get_user,
    login,
    logout,
    user_id,
)

TEMPORARY = "harbour-violet-engine-19"
OWN = "copper-lantern-meadow-88"


@pytest.fixture
def root(app):
    return admin_client(app)


@pytest.fixture
def ada(app, root):
    """Ada, signed in in her own browser."""
    create_user(app, email="ada@example.com", name="Ada")
    browser = app.test_client()
    assert login(browser).status_code == 302
    return browser


def sessions_of(app, email):
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(LoginSession).join(User).where(User.email == email)
        )


def last_entry(app) -> AuditEntry:
    """The newest admin action's entry (sign-ins are recorded too, but not looked at here)."""
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry)
            .where(AuditEntry.action.startswith("user_"))
            .order_by(AuditEntry.id.desc())
            .limit(1)
        )
        db.session.expunge(entry)
        return entry


def test_detail_page_shows_the_user_and_their_actions(app, root, ada):
    uid = user_id(app, "ada@example.com")
    body = root.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert "ada@example.com" in body and "Signed in on</dt><dd>1 browser" in body
    for action in ("deactivate", "promote", "password", "delete"):
        assert f'action="/admin/users/{uid}/{action}"' in body
        assert f'hx-post="/admin/users/{uid}/{action}"' in body
    assert root.get("/admin/users/9999").status_code == 404


@pytest.mark.security
def test_deactivate_ends_the_users_live_session_on_its_next_request(app, root, ada):
    assert ada.get("/tasks").status_code == 200
    uid = user_id(app, "ada@example.com")
    response = admin_post(root, f"/admin/users/{uid}/deactivate")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/users/{uid}"
    page = root.get(response.headers["Location"]).get_data(as_text=True)
    assert "ada@example.com was deactivated and signed out everywhere." in page
    assert not get_user(app, "ada@example.com").is_active
    assert sessions_of(app, "ada@example.com") == 0

    next_request = ada.get("/tasks")
    assert next_request.status_code == 302
    assert next_request.headers["Location"].startswith("/login")
    assert login(app.test_client()).status_code == 401

    entry = last_entry(app)
    assert (entry.action, entry.actor_email, entry.target_email) == (
        "user_deactivated",
        "root@example.com",
        "ada@example.com",
    )
    assert entry.target_id == uid and entry.ip == "127.0.0.1"
    assert entry.detail == "1 session(s) ended"


def test_deactivate_and_reactivate_in_place_with_htmx(app, root, ada):
    uid = user_id(app, "ada@example.com")
    response = admin_post(root, f"/admin/users/{uid}/deactivate", htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body and 'id="user-panel"' in body
    assert "badge-danger" in body and f'hx-post="/admin/users/{uid}/activate"' in body
    assert 'hx-swap-oob="true"' in body and "was deactivated" in body

    response = admin_post(root, f"/admin/users/{uid}/activate", htmx=True)
    assert response.status_code == 200
    assert "ada@example.com can sign in again." in response.get_data(as_text=True)
    assert get_user(app, "ada@example.com").is_active
    assert login(app.test_client()).status_code == 302


def test_promote_and_demote(app, root, ada):
    uid = user_id(app, "ada@example.com")
    assert admin_post(root, f"/admin/users/{uid}/promote").status_code == 303
    assert get_user(app, "ada@example.com").is_admin
    assert ada.get("/admin/users").status_code == 200  # her next request sees the new right
    response = admin_post(root, f"/admin/users/{uid}/demote", htmx=True)
    assert response.status_code == 200
    assert "ada@example.com is no longer an admin." in response.get_data(as_text=True)
    assert not get_user(app, "ada@example.com").is_admin
    assert ada.get("/admin/users").status_code == 403
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["user_promoted", "user_demoted"]


@pytest.mark.parametrize("action", ["deactivate", "demote", "delete"])
def test_an_admin_cannot_remove_themself(app, root, action):
    uid = user_id(app, "root@example.com")
    data = {"confirm_email": "root@example.com"} if action == "delete" else {}
    response = admin_post(root, f"/admin/users/{uid}/{action}", data)
    assert response.status_code == 409
    assert "your own account" in response.get_data(as_text=True)

    htmx = admin_post(root, f"/admin/users/{uid}/{action}", data, htmx=True)
    assert htmx.status_code == 409
    assert htmx.headers["HX-Retarget"] == "#user-action-message"
    assert "<html" not in htmx.get_data(as_text=True)
    root_user = get_user(app, "root@example.com")
    assert root_user.is_active and root_user.is_admin
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action.startswith("user_"))
            )
            == 0
        )


def test_own_page_offers_no_self_removal(app, root):
    uid = user_id(app, "root@example.com")
    body = root.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert "This is your own account." in body
    assert f"/admin/users/{uid}/deactivate" not in body


def test_the_last_active_admin_is_never_removed(app, root):
    """With no actor (the command line) only the last-admin guard stands in the way."""
    create_user(app, email="grace@example.com", admin=True)
    with app.app_context():
        grace = db.session.scalar(select(User).where(User.email == "grace@example.com"))
        root_user = db.session.scalar(select(User).where(User.email == "root@example.com"))
        user_actions.deactivate(grace, actor=None)  # two active admins: fine
        for action in (user_actions.demote, user_actions.deactivate, user_actions.delete_user):
            with pytest.raises(user_actions.ActionRefused, match="last active admin"):
                action(root_user, actor=None)
        # A deactivated admin does not count, and may be demoted or deleted.
        user_actions.demote(grace, actor=None)
    root_user = get_user(app, "root@example.com")
    assert root_user.is_admin and root_user.is_active


def test_the_admin_count_is_taken_under_a_lock(app, root):
    """The guard counts active admins inside the write transaction, locking their rows on
    PostgreSQL (SQLite has one writer at a time), so concurrent demotions cannot race."""
    create_user(app, email="grace@example.com", admin=True)
    statements = []
    with app.app_context():
        engine = db.engine
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            grace = db.session.scalar(select(User).where(User.email == "grace@example.com"))
            user_actions.demote(grace, actor=None)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        if engine.dialect.name == "postgresql":
            assert any("FOR UPDATE" in s and "is_admin" in s for s in statements), statements
    assert not get_user(app, "grace@example.com").is_admin


def test_set_temporary_password_forces_a_change_at_next_sign_in(app, root, ada):
    uid = user_id(app, "ada@example.com")
    weak = admin_post(
        root,
        f"/admin/users/{uid}/password",
        {"password": "password", "confirm": "password"},
        htmx=True,
    )
    assert weak.status_code == 422
    assert "commonly used" in weak.get_data(as_text=True)
    assert "<html" not in weak.get_data(as_text=True)

    response = admin_post(
        root, f"/admin/users/{uid}/password", {"password": TEMPORARY, "confirm": TEMPORARY}
    )
    assert response.status_code == 303
    assert get_user(app, "ada@example.com").must_change_password
    assert ada.get("/tasks").status_code == 302  # her sessions ended
    assert last_entry(app).action == "user_password_set"

    browser = app.test_client()
    assert login(browser, password=PASSWORD).status_code == 401
    assert login(browser, password=TEMPORARY).status_code == 302
    blocked = browser.get("/tasks")
    assert blocked.status_code == 302 and blocked.headers["Location"] == "/account"
    account = browser.get("/account").get_data(as_text=True)
    assert "An administrator set a temporary password for you." in account
    htmx = browser.get("/tasks", headers=HTMX)
    assert htmx.headers["HX-Redirect"] == "/account"
    assert browser.get("/static/css/app.css").status_code == 200

    changed = change_password(browser, TEMPORARY, OWN)
    assert changed.status_code == 302
    assert not get_user(app, "ada@example.com").must_change_password
    assert browser.get("/tasks").status_code == 200


def test_a_user_with_a_temporary_password_can_sign_out(app, root, ada):
    uid = user_id(app, "ada@example.com")
    admin_post(root, f"/admin/users/{uid}/password", {"password": TEMPORARY, "confirm": TEMPORARY})
    browser = app.test_client()
    login(browser, password=TEMPORARY)
    response = logout(browser)
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_delete_needs_the_users_email_typed(app, root, ada):
    add_task(app, title="Write the report", tags=["Work"])
    uid = user_id(app, "ada@example.com")
    for typed in ("", "root@example.com"):
        response = admin_post(root, f"/admin/users/{uid}/delete", {"confirm_email": typed})
        assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "This is not the user&#39;s email." in body
    assert get_user(app, "ada@example.com") is not None and count(app, Task) == 1


def test_delete_removes_the_user_and_their_data_and_keeps_the_audit_trail(app, root, ada):
    add_task(app, title="Write the report", tags=["Work"])
    uid = user_id(app, "ada@example.com")
    ada_logged_in = admin_post(root, f"/admin/users/{uid}/promote")  # an entry naming her
    assert ada_logged_in.status_code == 303
    response = admin_post(
        root, f"/admin/users/{uid}/delete", {"confirm_email": " ADA@example.com "}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/admin/users"
    assert "ada@example.com and all their data were deleted." in root.get("/admin/users").get_data(
        as_text=True
    )
    assert get_user(app, "ada@example.com") is None
    for model in (Task, Tag, task_tags, LoginSession):
        assert count(app, model) == (1 if model is LoginSession else 0)  # root's session
    assert ada.get("/tasks").status_code == 302
    with app.app_context():
        entries = db.session.execute(
            select(AuditEntry.action, AuditEntry.target_id, AuditEntry.target_email).where(
                AuditEntry.target_email == "ada@example.com"
            )
        ).all()
    assert ("user_deleted", None, "ada@example.com") in entries
    assert all(target_id is None for _, target_id, _ in entries)  # SET NULL, email kept


def test_delete_with_htmx_sends_the_browser_to_the_list(app, root, ada):
    uid = user_id(app, "ada@example.com")
    response = admin_post(
        root, f"/admin/users/{uid}/delete", {"confirm_email": "ada@example.com"}, htmx=True
    )
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/admin/users"
    assert get_user(app, "ada@example.com") is None


def _lock_waiters(app) -> int:
    """How many PostgreSQL backends of this database wait for a lock right now."""
    with db.engine.connect() as conn:
        return conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, root, monkeypatch):
    """A real race, ordered by events: the first demotion passes its guards and holds its
    locks; only then does the second start, and the first commits only once the second is
    seen waiting (by PostgreSQL for a row lock, at the write queue on SQLite) or, were the
    locks missing, has already finished. The second must see one admin left and refuse."""
    from app import audit
    from app.database import sqlite_writer

    create_user(app, email="grace@example.com", admin=True)
    first_holds_locks = threading.Event()
    second_waits = threading.Event()
    second_done = threading.Event()
    real_record = audit.record

    def record_when_second_waits(*args, **kwargs):
        if threading.current_thread().name == "first":
            first_holds_locks.set()  # guards passed, locks held, not yet committed
            postgres = db.engine.dialect.name == "postgresql"
            deadline = time.monotonic() + 30
            while not (second_waits.is_set() or second_done.is_set()):
                if postgres and _lock_waiters(app):
                    break
                assert time.monotonic() < deadline, "the second demotion never started"
                second_waits.wait(0.01)  # a poll interval, not an ordering
        return real_record(*args, **kwargs)

    monkeypatch.setattr(audit, "record", record_when_second_waits)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            writer = sqlite_writer(db.engine)
            real_acquire = writer.acquire

            def acquire(timeout):
                if threading.current_thread().name == "second":
                    second_waits.set()  # the first holds the queue until it commits
                return real_acquire(timeout)

            monkeypatch.setattr(writer, "acquire", acquire)
    outcomes = {}

    def demote(name, actor_email, target_email):
        try:
            if name == "second":
                assert first_holds_locks.wait(30), "the first demotion never took its locks"
            with app.app_context():
                # As a web request does: SQLite's write lock from the first statement on.
                db.session.connection(execution_options={"tasklane_write": True})
                actor = db.session.scalar(select(User).where(User.email == actor_email))
                target = db.session.scalar(select(User).where(User.email == target_email))
                try:
                    user_actions.demote(target, actor=actor)
                    outcomes[name] = "demoted"
                except user_actions.ActionRefused as refused:
                    outcomes[name] = str(refused)
                finally:
                    db.session.remove()
        except Exception as error:  # reported by the asserts below
            outcomes[name] = repr(error)
        finally:
            if name == "second":
                second_done.set()

    first = threading.Thread(
        target=demote, name="first", args=("first", "root@example.com", "grace@example.com")
    )
    second = threading.Thread(
        target=demote, name="second", args=("second", "grace@example.com", "root@example.com")
    )
    first.start()
    second.start()
    first.join(60)
    second.join(60)
    assert outcomes["first"] == "demoted"
    assert "root@example.com is the last active admin" in outcomes["second"]
    assert get_user(app, "root@example.com").is_admin
    assert not get_user(app, "grace@example.com").is_admin
