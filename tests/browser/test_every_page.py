"""Every GET route in real Chromium, anonymous, as a user and as an admin: no CSP violation,
no console error, no failed asset. Routes come from app.url_map, so a new page is covered."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Tag, User
from tests.browser.helpers import sign_in
from tests.helpers import add_task, create_user

pytestmark = [pytest.mark.browser, pytest.mark.security]

PUBLIC = {"main.index", "main.healthz", "main.favicon", "auth.login", "auth.register"}
# Listens before any page script runs; Playwright injects it outside the page's CSP.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""
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
            urls.append(rule.build({a: ids[a] for a in rule.arguments})[1])
    return sorted(urls)


def _seed(app):
    create_user(app, email="ada@example.com", name="Ada " + HOSTILE[:40])
    create_user(app, email="root@example.com", name="Root", admin=True)
    ids = {}
    for email in ("ada@example.com", "root@example.com"):
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
            ids[email] = {"task_id": task_id, "tag_id": tag_id, "user_id": user.id}
    ids["admin-target"] = ids["ada@example.com"]["user_id"]
    return ids


@pytest.mark.parametrize("visitor", ["anonymous", "ada@example.com", "root@example.com"])
def test_every_page_loads_without_csp_violation_or_console_error(app, page, visitor):
    ids = _seed(app)
    page.add_init_script(RECORD_VIOLATIONS)
    admin = visitor == "root@example.com"
    if visitor != "anonymous":
        sign_in(page, visitor)
        own = dict(ids[visitor], user_id=ids["admin-target"])
    else:
        own = {"task_id": 0, "tag_id": 0, "user_id": 0}
    urls = _urls(app, visitor, own, admin)
    assert len(urls) >= (4 if visitor == "anonymous" else 12 if not admin else 16)
    failed = []
    # ERR_ABORTED is the browser dropping a favicon fetch when the next goto starts.
    page.on(
        "requestfailed",
        lambda r: r.failure != "net::ERR_ABORTED" and failed.append(f"{r.url} {r.failure}"),
    )
    for url in urls:
        response = page.goto(url)
        assert response is not None and response.status < 400, (url, response.status)
        page.wait_for_load_state("load")
        violations = page.evaluate("() => window.__cspViolations")
        assert violations == [], (url, violations)
        assert page.evaluate("() => typeof window.__xss") == "undefined", url
        assert not page.problems, (url, page.problems)
    assert failed == []
