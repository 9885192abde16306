"""TASKLANE_PRODUCTION=1 end to end: real gunicorn with the production config behind a
(simulated) TLS-terminating proxy, checked from outside over HTTP: HSTS, cookie flags, and
the strict CSRF referrer check that only HTTPS turns on."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.engine import make_url

from app.models import Task
from tests.helpers import PASSWORD, count, create_user
from tests.live import Client, gunicorn
from tests.security_figures import record

pytestmark = pytest.mark.security
HX = {"HX-Request": "true"}
HSTS_MIN_SECONDS = 180 * 24 * 3600  # six months: shorter lets a lapse reopen the downgrade
PRODUCTION = {"TASKLANE_PRODUCTION": "1", "TRUSTED_PROXIES": "1"}
# What the TLS-terminating proxy adds to every request it passes on.
HTTPS = {"X-Forwarded-Proto": "https"}


@pytest.fixture
def production(app, database_url):
    """The production server's base address ("127.0.0.1:<port>")."""
    if make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("headers, cookies and CSRF do not depend on the database; one is enough")
    create_user(app)
    with gunicorn(database_url, workers=2, threads=2, **PRODUCTION) as base:
        yield base


def _set_cookies(response) -> dict[str, list[str]]:
    """Set-Cookie headers by cookie name: the attributes, lower-cased, without values."""
    cookies = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        cookies[name] = [part.strip().lower() for part in rest.split(";")[1:]]
    return cookies


def _token(client, path) -> str:
    page = client.get(path, HTTPS).body
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def test_production_sends_hsts_and_marks_both_cookies_secure(production):
    client = Client(production)
    page = client.get("/login", HTTPS)
    hsts = page.headers["Strict-Transport-Security"]
    assert hsts is not None, "no Strict-Transport-Security header"
    assert int(re.fullmatch(r"max-age=(\d+).*", hsts).group(1)) >= HSTS_MIN_SECONDS, hsts

    form = {"email": "ada@example.com", "password": PASSWORD, "remember": "y"}
    form["csrf_token"] = _token(client, "/login")
    same_origin = {**HTTPS, "Referer": f"https://{production}/login"}
    signed_in = client.request("POST", "/login", form, same_origin)
    assert signed_in.status == 302, signed_in.body
    cookies = _set_cookies(signed_in)
    for name in ("tasklane_session", "tasklane_remember"):
        assert name in cookies, cookies
        assert {"secure", "httponly", "samesite=lax"} <= set(cookies[name]), (name, cookies)
    assert "Strict-Transport-Security" in signed_in.headers
    record(
        "production",
        {
            "hsts": hsts,
            "secure_httponly_lax_cookies": sorted(cookies),
        },
    )


@pytest.mark.parametrize(
    ("case", "referer"),
    [
        ("no Referer", None),
        ("another site", "https://evil.example/tasks"),
        ("same host over plain HTTP", "http://{base}/tasks"),
        ("same origin", "https://{base}/tasks"),
    ],
)
def test_https_posts_need_a_same_origin_referer(app, production, case, referer):
    client = Client(production)
    form = {"email": "ada@example.com", "password": PASSWORD}
    form["csrf_token"] = _token(client, "/login")
    login = {**HTTPS, "Referer": f"https://{production}/login"}
    assert client.request("POST", "/login", form, login).status == 302

    title = f"Posted with {case}"
    headers = {**HX, **HTTPS}
    if referer is not None:
        headers["Referer"] = referer.format(base=production)
    # A valid token from this session: only the Referer decides.
    form = {"title": title, "csrf_token": _token(client, "/tasks")}
    response = client.request("POST", "/tasks", form, headers)
    if case == "same origin":
        assert response.status == 200, response.body
        assert count(app, Task, Task.title == title) == 1
    else:
        assert response.status == 400, (case, response.status)
        assert "sent from another site" in response.body
        assert count(app, Task, Task.title == title) == 0
