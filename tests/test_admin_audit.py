"""The audit log records every security event, /admin/audit shows and filters it, and the
dashboard counts users and draws tasks per day."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import AuditEntry, LoginSession, Task, User, utcnow
from tests.helpers import (
    HTMX,
    PASSWORD,
    account_post,
    admin_client,
    admin_post,
    change_password,
    create_user,
    inbox_of,
    login,
    post_form,
    user_id,
)

NEW_PASSWORD = "quiet-meadow-lantern-77"


def entries(app, **where) -> list[AuditEntry]:
    with app.app_context():
        stmt = select(AuditEntry).filter_by(**where).order_by(AuditEntry.id)
        rows = db.session.scalars(stmt).all()
        db.session.expunge_all()
        return rows


def test_sign_in_and_failed_sign_ins_are_recorded(app, client, user):
    login(client, password="wrong-password-here")
    login(client, email="nobody@example.com", password="wrong-password-here")
    login(client)
    failed_known, failed_unknown = entries(app, action="login_failed")
    assert (failed_known.target_id, failed_known.target_email) == (user, "ada@example.com")
    assert failed_known.actor_id is None and failed_known.ip == "127.0.0.1"
    assert (failed_unknown.target_id, failed_unknown.target_email) == (None, "nobody@example.com")
    [signed_in] = entries(app, action="login")
    assert signed_in.actor_id == signed_in.target_id == user
    assert signed_in.actor_email == "ada@example.com"
    assert signed_in.created_at <= utcnow()


def test_a_rate_limit_lockout_is_recorded_once_per_window(app, client, user):
    for _ in range(5):
        assert login(client, password="wrong-password-here").status_code == 401
    for _ in range(3):
        assert login(client, password="wrong-password-here").status_code == 429
    [lockout] = entries(app, action="rate_limited")
    assert lockout.target_email == "ada@example.com" and lockout.target_id == user
    assert lockout.detail.startswith("/login: 5 per 1 minute per ")
    assert len(entries(app, action="login_failed")) == 5  # refused requests never ran


def test_a_lockout_with_a_nul_in_the_email_is_still_recorded(app, client):
    for i in range(5):
        post_form(client, "/register", {"email": f"r{i}@example.com"}, token_from="/register")
    response = post_form(
        client, "/register", {"email": "x\x00@example.com"}, token_from="/register"
    )
    assert response.status_code == 429
    [lockout] = entries(app, action="rate_limited")
    assert lockout.target_email == "" and lockout.detail.startswith("/register:")


def test_password_change_and_account_deletion_are_recorded(app, auth_client, user):
    response = change_password(auth_client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    [changed] = entries(app, action="password_changed")
    assert changed.actor_id == changed.target_id == user
    response = account_post(
        auth_client,
        "/account/delete",
        {"confirm_email": "ada@example.com", "password": NEW_PASSWORD},
    )
    assert response.status_code == 302
    [deleted] = entries(app, action="account_deleted")
    assert (deleted.actor_id, deleted.actor_email) == (None, "ada@example.com")
    assert (deleted.target_id, deleted.target_email) == (None, "ada@example.com")
    # Earlier entries outlive the user too, with their keys cleared.
    assert all(e.actor_id is None for e in entries(app, actor_email="ada@example.com"))
    assert len(entries(app, actor_email="ada@example.com")) == 3  # login, change, deletion


def test_entries_are_never_edited(app, user):
    with app.app_context():
        from app import audit

        audit.record("login", actor=None, target_email="ada@example.com")
        db.session.commit()
        entry = db.session.scalar(select(AuditEntry))
        entry.detail = "rewritten"
        with pytest.raises(ValueError, match="cannot be changed"):
            db.session.commit()
        db.session.rollback()
        assert db.session.scalar(select(AuditEntry.detail)) == "command line"
    # And no route offers to change them: /admin/audit only answers GET.
    rules = [r for r in app.url_map.iter_rules() if r.endpoint == "admin.audit_log"]
    assert [sorted(r.methods) for r in rules] == [["GET", "HEAD", "OPTIONS"]]


def test_unknown_actions_are_refused(app):
    from app import audit

    with app.app_context(), pytest.raises(ValueError, match="unknown audit action"):
        audit.record("made_up")


# ---- /admin/audit --------------------------------------------------------------------------


def _audit_rows(body: str) -> list[str]:
    return re.findall(r'<td data-label="Event">([^<]+)</td>', body)


def test_audit_page_lists_newest_first_and_filters(app, client, user):
    login(client, password="wrong-password-here")
    root = admin_client(app)
    uid = user_id(app, "ada@example.com")
    admin_post(root, f"/admin/users/{uid}/deactivate")

    body = root.get("/admin/audit").get_data(as_text=True)
    assert _audit_rows(body) == ["Deactivated user", "Signed in", "Sign-in failed"]
    assert "3 events" in body and "127.0.0.1" in body

    by_actor = root.get("/admin/audit?actor=ROOT@example.com").get_data(as_text=True)
    assert _audit_rows(by_actor) == ["Deactivated user", "Signed in"]
    about_ada = root.get("/admin/audit?target=ada@example.com").get_data(as_text=True)
    assert _audit_rows(about_ada) == ["Deactivated user", "Sign-in failed"]
    failed = root.get("/admin/audit?action=login_failed", headers=HTMX)
    assert "<html" not in failed.get_data(as_text=True)
    assert _audit_rows(failed.get_data(as_text=True)) == ["Sign-in failed"]
    bad = root.get("/admin/audit?action=everything")
    assert bad.status_code == 422 and "Not a valid choice" in bad.get_data(as_text=True)

    # The user's page shows the events about them, linking to the filtered log.
    detail = root.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert "Sign-in failed" in detail
    assert 'href="/admin/audit?target=ada@example.com"' in detail


def test_audit_page_is_paginated(app):
    root = admin_client(app)
    with app.app_context():
        from app import audit

        for _ in range(55):
            audit.record("login_failed", actor=None, target_email="x@example.com")
        db.session.commit()
    first = root.get("/admin/audit?action=login_failed").get_data(as_text=True)
    assert len(_audit_rows(first)) == 50 and "Page 1 of 2 · 55 events" in first
    assert 'href="/admin/audit?action=login_failed&amp;page=2"' in first
    second = root.get("/admin/audit?action=login_failed&page=2").get_data(as_text=True)
    assert len(_audit_rows(second)) == 5


def test_command_line_actions_name_their_source(app):
    from app import user_actions

    create_user(app, email="root@example.com", admin=True)
    create_user(app, email="ada@example.com")
    with app.app_context():
        ada = db.session.scalar(select(User).where(User.email == "ada@example.com"))
        user_actions.promote(ada, actor=None)
    [entry] = entries(app, action="user_promoted")
    assert (entry.actor_id, entry.actor_email, entry.ip) == (None, "", "")
    assert entry.detail == "command line"


# ---- Dashboard -----------------------------------------------------------------------------


def test_dashboard_counts_users_and_activity(app):
    root = admin_client(app)
    create_user(app, email="ada@example.com")  # never signed in
    create_user(app, email="grace@example.com")
    create_user(app, email="old@example.com")
    with app.app_context():
        now = utcnow()
        db.session.execute(
            update(User)
            .where(User.email == "grace@example.com")
            .values(last_login_at=now - timedelta(days=10))
        )
        db.session.execute(
            update(User)
            .where(User.email == "old@example.com")
            .values(last_login_at=now - timedelta(days=90), is_active=False)
        )
        db.session.commit()
    body = root.get("/admin").get_data(as_text=True)
    stats = dict(
        (label, int(value))
        for value, label in re.findall(
            r'<span class="stat-value">(\d+)</span> <span class="stat-label">([^<]+)</span>', body
        )
    )
    assert stats["users"] == 4
    assert stats["active in the last 7 days"] == 1  # root, just signed in
    assert stats["active in the last 30 days"] == 2  # and grace
    assert "3 active · 1 admin" in body


def test_a_used_session_counts_as_activity(app):
    root = admin_client(app)
    with app.app_context():
        old = utcnow() - timedelta(days=20)
        db.session.execute(update(User).values(last_login_at=old))
        db.session.execute(update(LoginSession).values(last_seen_at=utcnow()))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 1
    body = root.get("/admin").get_data(as_text=True)
    assert '<span class="stat-value">1</span> <span class="stat-label">active in the last 7' in body


def test_dashboard_draws_tasks_per_day_as_an_accessible_svg(app):
    root = admin_client(app)
    now = utcnow()
    with app.app_context():
        owner, inbox = inbox_of("root@example.com")
        mine = {"project_id": inbox, "created_by_id": owner}
        db.session.add_all(
            [Task(**mine, title="today", created_at=now) for _ in range(3)]
            + [
                Task(
                    **mine,
                    title="earlier",
                    created_at=now - timedelta(days=3),
                    done=True,
                    done_at=now - timedelta(days=1),
                ),
                Task(**mine, title="too old", created_at=now - timedelta(days=45)),
            ]
        )
        db.session.commit()
    response = root.get("/admin")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<svg class="chart"' in body and 'role="img"' in body
    assert "4 tasks created and 1 completed in the last 30 days; at most 3 in one day." in body
    today = now.date()
    assert f"{today.strftime('%b %-d')}: 3 created, 0 completed" in body
    yesterday = today - timedelta(days=1)
    assert f"{yesterday.strftime('%b %-d')}: 0 created, 1 completed" in body
    assert body.count('<g class="chart-day">') == 30
    assert f'<td data-label="Day">{today.isoformat()}</td><td data-label="Created">3</td>' in body
    assert " style=" not in body and "<script>" not in body
