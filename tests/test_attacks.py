"""What an attacker sees: route-wide access rules driven by app.url_map, and stored XSS
payloads that must render inert everywhere."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Tag, User
from tests.helpers import (
    HTMX,
    PUBLIC_ENDPOINTS,
    add_project,
    add_task,
    create_user,
    csrf_token,
    login,
    post_form,
)

pytestmark = pytest.mark.security

# The only routes a visitor who is not signed in may use. Everything else sends them to
# the login page (or, for an unsafe method without a CSRF token, answers 400 first).
PUBLIC = PUBLIC_ENDPOINTS | {"static"}


def _get_rules(app):
    return [r for r in app.url_map.iter_rules() if "GET" in r.methods and r.endpoint != "static"]


def _url(rule, object_id=1):
    return rule.build({arg: object_id for arg in rule.arguments})[1]


def test_the_public_list_is_small_and_every_other_route_needs_login(app, client):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints >= PUBLIC
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            token = csrf_token(client, "/login")
            response = client.open(_url(rule), method=method, headers={"X-CSRFToken": token})
            assert response.status_code == 302, (method, rule.rule, response.status_code)
            assert response.headers["Location"].startswith("/login?next="), rule.rule


def test_every_page_carries_the_security_headers(app, client):
    create_user(app, admin=True)
    login(client)
    add_task(app, title="t", tags=["x"])
    checked = 0
    for rule in _get_rules(app):
        for headers in ({}, HTMX):
            response = client.get(_url(rule), headers=headers)
            assert response.status_code < 500, rule.rule
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Referrer-Policy"] == "same-origin"
            assert response.headers["X-Frame-Options"] == "DENY"
            if response.mimetype == "text/html":
                csp = response.headers["Content-Security-Policy"]
                assert "script-src 'self'" in csp and "unsafe" not in csp, rule.rule
                assert "frame-ancestors 'none'" in csp
            checked += 1
    assert checked >= 30


PAYLOADS = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "' autofocus onfocus=alert(1) x='",
    "javascript:alert(1)",
    "</textarea><svg onload=alert(1)>",
    "{{7*7}}",
]


def test_stored_xss_payloads_render_inert_everywhere(app, client):
    admin_client = app.test_client()
    create_user(app, email="root@example.com", name="Root", admin=True)
    evil = " ".join(PAYLOADS)
    create_user(app, email="mallory@example.com", name=("{{7*7}} " + evil)[:80])
    login(client, email="mallory@example.com")
    post_form(client, "/tasks", {"title": PAYLOADS[0] + " #evil"}, token_from="/tasks")
    task_id = add_task(
        app, "mallory@example.com", title=PAYLOADS[1], notes=evil, tags=[PAYLOADS[2][:50]]
    )
    # A project by a hostile name, in a colour of the palette and one picked by hand: its chip
    # on the views across projects is made in Python (row pieces), its name in the list.
    for colour, payload in (("#4f46e5", PAYLOADS[3]), ("#123456", PAYLOADS[1])):
        project = add_project(app, "mallory@example.com", payload[:40] + colour, colour=colour)
        add_task(app, "mallory@example.com", title=PAYLOADS[4], project_id=project, due_date=None)
    with app.app_context():
        tag_id = db.session.scalar(select(Tag.id).where(Tag.name == PAYLOADS[2][:50]))
        mallory = db.session.scalar(select(User.id).where(User.email == "mallory@example.com"))
    # A flash message that repeats the title.
    flashed = post_form(client, "/tasks", {"title": PAYLOADS[1]}, token_from="/tasks")
    pages = [
        client.get(flashed.headers["Location"]),
        client.get("/tasks?status=all"),
        client.get("/tasks?q=" + PAYLOADS[0]),
        client.get(f"/tasks/{task_id}"),
        client.get(f"/tasks/{task_id}/edit"),
        client.get(f"/tasks/{task_id}/edit", headers=HTMX),
        client.get(f"/tasks/{task_id}/row", headers=HTMX),
        client.get("/tags"),
        client.get("/tasks/all"),
        client.get("/projects"),
        client.get(f"/tags/{tag_id}/edit"),
        client.get("/account"),
    ]
    login(admin_client, email="root@example.com")
    pages += [
        admin_client.get("/admin/users"),
        admin_client.get(f"/admin/users/{mallory}"),
        admin_client.get("/admin/audit"),
        admin_client.get("/admin"),
    ]
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.id)) is not None
    for response in pages:
        assert response.status_code == 200, response.request.path
        assert_inert(response.get_data(as_text=True), response.request.path)
    assert "{{7*7}}" in pages[-5].get_data(as_text=True)  # shown as typed, never evaluated
    everything = client.get("/tasks/all").get_data(as_text=True)
    assert 'class="task-project tag-c0"' in everything  # the chips were on the page
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;#123456" in everything


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.script_text.append(data)


def assert_inert(html: str, where: str) -> None:
    """Parse the page as a browser would: no event handler attribute, no script but ours,
    no javascript:/data: URL, no element the payloads would have injected."""
    parser = _Elements()
    parser.feed(html)
    assert not parser.script_text, where
    for tag, attrs in parser.elements:
        assert not [a for a in attrs if a.startswith("on")], (where, tag, attrs)
        assert tag not in ("img", "iframe", "object", "embed"), (where, tag)  # our SVGs are fine
        if tag == "script":
            assert (attrs.get("src") or "").startswith("/static/"), (where, attrs)
        for name in ("href", "src", "action", "formaction"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), (where, tag, attrs)


@pytest.mark.parametrize(
    "notes",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](  javascript:alert(1))",
        "<javascript:alert(1)>",
        "![i](javascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<a href="javascript:alert(1)">raw</a>',
        "<div onclick=alert(1)>raw html</div>",
        "[x](vbscript:msgbox(1))",
        '[x](https://ok.example "title" onmouseover=alert(1))',
    ],
)
def test_markdown_notes_cannot_make_scripts_links_or_raw_html(app, auth_client, notes):
    task_id = add_task(app, title="md", notes=notes)
    body = auth_client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert_inert(body, notes)
    rendered = body.split('<div class="notes">')[1].split('<p class="detail-actions">')[0]
    assert "<div" not in rendered.replace("</div>", "")  # raw HTML stays text
