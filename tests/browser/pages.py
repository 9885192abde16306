"""Every GET page of the app, for the browser tests that walk them all: a seed with a task
and a tag for a user and for an admin, and the pages each visitor may open. The pages come
from app.url_map, so a new route is walked by every such test without being listed here."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.mail.unsubscribe import DIGEST, token_for
from app.models import Invitation, Role, Tag, User
from tests.browser.helpers import sign_in
from tests.helpers import PUBLIC_ENDPOINTS, add_member, add_project, add_task, create_user

VISITORS = ["anonymous", "ada@example.com", "root@example.com"]
PUBLIC = PUBLIC_ENDPOINTS
HOSTILE = '<img src=x onerror="window.__xss=1"> "><script>window.__xss=2</script> javascript:x'


def _urls(app, visitor: str, ids: dict[str, int], admin: bool) -> list[str]:
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            if rule.endpoint.startswith("admin.") and not admin:
                continue
            if visitor == "anonymous" and rule.endpoint not in PUBLIC:
                continue
            url = rule.build({a: ids[a] for a in rule.arguments})[1]
            if rule.endpoint == "unsubscribe.confirm":  # opened from a mail: its signed token
                url += f"?token={ids['unsubscribe_token']}"
            urls.append(url)
    return sorted(urls)


def _seed(app):
    create_user(app, email="ada@example.com", name="Ada " + HOSTILE[:40])
    create_user(app, email="root@example.com", name="Root", admin=True)
    ids = {}
    for email in ("ada@example.com", "root@example.com"):
        project_id = add_project(app, email, name="Project " + HOSTILE[:40])
        add_task(app, email, project_id=project_id, title="In a project " + HOSTILE[:40])
        task_id = add_task(
            app,
            email,
            title="Plan " + HOSTILE[:60],
            notes="**bold** [link](javascript:alert(4)) " + HOSTILE,
            tags=["work", HOSTILE[:30]],
        )
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == email))
            tag_id = db.session.scalar(
                select(Tag.id).where(Tag.owner_id == user.id).order_by(Tag.id)
            )
            ids[email] = {
                "task_id": task_id,
                "tag_id": tag_id,
                "user_id": user.id,
                "project_id": project_id,
            }
    # Ada shares her project with Root, and is invited to Root's: both member lists and
    # Ada's invitations page show the other's (hostile) names.
    add_member(app, ids["ada@example.com"]["project_id"], "root@example.com", Role.EDITOR)
    with app.app_context():
        invitation = Invitation(
            project_id=ids["root@example.com"]["project_id"], email="ada@example.com", role=1
        )
        db.session.add(invitation)
        db.session.commit()
    ids["admin-target"] = ids["ada@example.com"]["user_id"]
    with app.app_context():
        ada = db.session.get(User, ids["admin-target"])
        ids["unsubscribe_token"] = token_for(ada, DIGEST)
    return ids


def every_page(app, page, visitor: str) -> list[str]:
    """Seed, sign `page` in as `visitor` (unless "anonymous"), and return the path of every
    GET page that visitor may open: their own task, tag and project, and (for the admin)
    Ada's user page."""
    ids = _seed(app)
    admin = visitor == "root@example.com"
    if visitor != "anonymous":
        sign_in(page, visitor)
        own = dict(ids[visitor], user_id=ids["admin-target"])
    else:
        own = {"task_id": 0, "tag_id": 0, "user_id": 0, "project_id": 0}
    own.update(kind=DIGEST, unsubscribe_token=ids["unsubscribe_token"])
    urls = _urls(app, visitor, own, admin)
    assert len(urls) >= (4 if visitor == "anonymous" else 12 if not admin else 16)
    return urls
