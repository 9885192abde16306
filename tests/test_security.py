"""Route-wide guarantees: CSRF, headers, body limits, rate limits and error pages."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import Task, User
from tests.helpers import HTMX, PASSWORD, add_task, csrf_token, login, post_form

pytestmark = pytest.mark.security

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# The one state change without CSRF: RFC 8058's one-click unsubscribe, POSTed by a mail
# client that has the link's signed token and nothing else (app/unsubscribe/routes.py).
# Tested below: without a valid token it is refused all the same.
CSRF_EXEMPT = {"unsubscribe.apply"}


def unsafe_routes(app, exempt=False):
    """(method, url) for every state-changing route, with sample ids filled in: those CSRF
    protects, or (`exempt`) the ones it does not."""
    routes = []
    for rule in app.url_map.iter_rules():
        if (rule.endpoint in CSRF_EXEMPT) != exempt:
            continue
        for method in sorted(rule.methods & UNSAFE):
            # The rule's own URL: several rules may share one endpoint (POST /x/delete, DELETE /x).
            routes.append((method, rule.build({arg: 1 for arg in rule.arguments})[1]))
    return routes


def test_there_are_unsafe_routes_to_check(app):
    urls = {url for _, url in unsafe_routes(app)}
    assert {"/login", "/register", "/logout", "/account/password"} <= urls


def test_the_csrf_exempt_routes_refuse_a_post_without_their_signed_token(app, client, user):
    routes = unsafe_routes(app, exempt=True)
    assert routes, "CSRF_EXEMPT names no route"
    for method, url in routes:
        for data in ({}, {"token": "forged"}, {"List-Unsubscribe": "One-Click"}):
            response = client.open(url, method=method, data=data)
            assert response.status_code == 400, (method, url, data)
    with app.app_context():
        assert db.session.get(User, user).reminder_mail is True


@pytest.mark.parametrize("signed_in", [False, True])
def test_every_unsafe_route_rejects_missing_or_wrong_csrf(app, client, user, signed_in):
    if signed_in:
        login(client)
    for method, url in unsafe_routes(app):
        missing = client.open(url, method=method, data={"email": "ada@example.com"})
        assert missing.status_code == 400, (method, url)
        assert "form expired" in missing.get_data(as_text=True)
        wrong = client.open(
            url, method=method, data={"csrf_token": "forged"}, headers={"X-CSRFToken": "forged"}
        )
        assert wrong.status_code == 400, (method, url)
    if signed_in:
        assert client.get("/tasks").status_code == 200  # nothing above signed us out


def test_csrf_token_in_htmx_header_is_accepted(auth_client):
    token = csrf_token(auth_client, "/account")
    response = auth_client.post(
        "/account/profile",
        data={"display_name": "Via htmx"},
        headers={**HTMX, "X-CSRFToken": token},
    )
    assert response.status_code == 302


def test_csrf_failure_inside_an_htmx_swap_is_a_readable_fragment(auth_client):
    response = auth_client.post("/account/profile", data={"display_name": "x"}, headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<html" not in body
    assert "Reload the page and try again." in body


def test_csrf_token_has_no_time_limit(app):
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None


def test_base_template_sends_the_token_with_every_htmx_request(auth_client):
    body = auth_client.get("/tasks").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', body).group(1)
    assert f'hx-headers=\'{{"X-CSRFToken": "{token}"}}\'' in body


def test_every_form_on_the_list_carries_the_token_flask_wtf_accepts(app, auth_client):
    """Templates ask flask-wtf once per render (app/seams/csrf_per_render.py): the same token
    in the page head and in every row's forms, and a row's form posts with it."""
    task_id = add_task(app, title="Tick me")
    body = auth_client.get("/tasks").get_data(as_text=True)
    head = re.search(r'<meta name="csrf-token" content="([^"]+)"', body).group(1)
    in_forms = set(re.findall(r'name="csrf_token" value="([^"]+)"', body))
    assert in_forms == {head}
    response = auth_client.post(f"/tasks/{task_id}/toggle", data={"csrf_token": head, "done": "1"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Task, task_id).done


@pytest.mark.parametrize("path", ["/login", "/register", "/tasks", "/account", "/nope"])
def test_security_headers_on_pages(auth_client, path):
    response = auth_client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "HX-Request" in response.headers["Vary"]


def test_each_security_header_is_sent_once_and_pages_vary_on_htmx_and_cookie(auth_client):
    response = auth_client.get("/tasks")
    names = [name.lower() for name, _ in response.headers]
    assert len(names) == len(set(names)), sorted(names)
    vary = [v.strip() for v in response.headers["Vary"].split(",")]
    assert vary.count("HX-Request") == 1 and "Cookie" in vary, vary


def test_headers_on_non_html_responses_too(client):
    response = client.get("/healthz")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/login", "/register", "/tasks", "/account"])
def test_pages_have_no_inline_script_style_or_hx_on(auth_client, path):
    body = auth_client.get(path).get_data(as_text=True)
    for tag in re.findall(r"<script\b[^>]*>", body):
        assert "src=" in tag, tag
    assert all(
        not inline.strip() for inline in re.findall(r"<script\b[^>]*>(.*?)</script>", body, re.S)
    )
    assert " style=" not in body
    assert "hx-on" not in body


def test_htmx_is_configured_to_need_no_eval_or_inline_styles(client):
    body = client.get("/login").get_data(as_text=True)
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', body).group(1)
    import json

    parsed = json.loads(config)
    assert parsed["includeIndicatorStyles"] is False
    assert parsed["allowEval"] is False
    assert "style" not in parsed["attributesToSettle"]
    assert {"code": "[45]..", "swap": True, "error": True} in parsed["responseHandling"]
    assert re.search(r'<script src="/static/vendor/htmx\.min\.js\?v=[0-9a-f]{12}"', body)


def test_oversize_body_answers_413(client):
    response = client.post("/login", data={"email": "a@example.com", "password": "x" * 2_000_000})
    assert response.status_code == 413
    assert "1 MB" in response.get_data(as_text=True)


def test_nul_bytes_are_rejected_by_validation(client, user):
    response = post_form(client, "/login", {"email": "ada@example.com\x00", "password": PASSWORD})
    assert response.status_code == 422
    assert "control characters" in response.get_data(as_text=True)


def test_login_rate_limit_per_address(client, user):
    for i in range(5):
        assert (
            login(client, email=f"user{i}@example.com", password="wrong-password").status_code
            == 401
        )
    response = login(client, email="someone-else@example.com", password="wrong-password")
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert "Retry-After" in response.headers


def test_login_rate_limit_per_account_across_addresses(app, user):
    for i in range(5):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"203.0.113.{i + 1}"
        assert login(client, password="wrong-password").status_code == 401
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert login(attacker, password=PASSWORD).status_code == 429


def test_register_is_rate_limited(client):
    for i in range(5):
        post_form(client, "/register", {"email": f"r{i}@example.com"}, token_from="/register")
    response = post_form(client, "/register", {"email": "r9@example.com"}, token_from="/register")
    assert response.status_code == 429


def test_limits_the_limiter_would_not_apply_are_refused_at_start(make_app):
    # Only decorated limits are checked (app/seams/limiter.py): a default limit would be ignored.
    with pytest.raises(RuntimeError, match="RATELIMIT_DEFAULT"):
        make_app(RATELIMIT_DEFAULT="100/minute")


def test_forwarded_for_is_ignored_without_trusted_proxies(client, user):
    for i in range(5):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"192.0.2.{i}"
        login(client, email=f"u{i}@example.com", password="wrong-password")
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "192.0.2.99"
    assert login(client, email="u9@example.com", password="wrong-password").status_code == 429


def test_404_page_in_layout_and_fragment_for_htmx(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert "<html" in page.get_data(as_text=True)
    fragment = client.get("/no-such-page", headers=HTMX)
    assert fragment.status_code == 404
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and "Not found" in body


def test_405_keeps_the_allow_header(client):
    response = client.put("/healthz")
    assert response.status_code in (400, 405)  # CSRF runs first for unsafe methods
    response = client.get("/logout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_500_shows_no_stack_trace(make_app):
    app = make_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in body
    assert "Traceback" not in body and "secret internals" not in body


def test_request_log_has_one_line_without_secrets(client, user, caplog):
    caplog.set_level("INFO", logger="tasklane.request")
    login(client)
    lines = [r.getMessage() for r in caplog.records if r.name == "tasklane.request"]
    post = next(line for line in lines if line.startswith("POST /login"))
    assert re.match(r"POST /login 302 [\d.]+ms user=1 rid=[0-9a-f]{32}$", post)
    assert all(PASSWORD not in line and "csrf" not in line for line in lines)


def test_request_id_is_kept_from_a_proxy_only_when_well_formed(client):
    kept = client.get("/healthz", headers={"X-Request-ID": "proxy-id_0123.abc"})
    assert kept.headers["X-Request-ID"] == "proxy-id_0123.abc"
    for bad in (
        "",
        "short",
        "x" * 65,
        "id with spaces",
        "id\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9",
    ):
        fresh = client.get("/healthz", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers["X-Request-ID"]), bad


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_request_the_temporary_password_guard_turns_away_keeps_its_request_id(
    app, client, user, caplog, htmx
):
    # The guard is a before_request hook that answers: hooks after it do not run, so it must
    # come after request_log's, or the answer would carry no request id and log rid=-.
    with app.app_context():
        db.session.get(User, user).must_change_password = True
        db.session.commit()
    caplog.set_level("INFO", logger="tasklane.request")
    login(client)
    caplog.clear()
    headers = {"X-Request-ID": "proxy-id_0123.abc", **(HTMX if htmx else {})}
    response = client.get("/tasks", headers=headers)
    redirect = response.headers["HX-Redirect" if htmx else "Location"]
    assert redirect == "/account"
    assert response.headers["X-Request-ID"] == "proxy-id_0123.abc"
    [line] = [r.getMessage() for r in caplog.records if r.name == "tasklane.request"]
    assert line.startswith("GET /tasks ") and line.endswith(" rid=proxy-id_0123.abc")


@pytest.mark.parametrize("object_id", ["0", "2147483648", "9223372036854775808", "9" * 30])
def test_out_of_range_ids_are_404_not_a_database_error(auth_client, object_id):
    for path in (f"/tasks/{object_id}", f"/tasks/{object_id}/edit", f"/tags/{object_id}/edit"):
        assert auth_client.get(path).status_code == 404, path
    token = csrf_token(auth_client, "/tasks")
    response = auth_client.post(f"/tasks/{object_id}/toggle", headers={"X-CSRFToken": token})
    assert response.status_code == 404
    restore = auth_client.post(
        "/tasks/restore", data={"ids": object_id}, headers={"X-CSRFToken": token}
    )
    # A posted id list is parsed whole: an id no column can hold is a bad request.
    assert restore.status_code == 400 and "Unknown task." in restore.get_data(as_text=True)


def test_favicon_ico_points_at_the_icon_for_every_visitor(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    icon = client.get(response.headers["Location"])
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
