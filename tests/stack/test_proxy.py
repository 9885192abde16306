"""What nginx adds in front of the instances: compression, static files with the app's
caching, one request id in both logs, the body limit; and the stack's worker runs the jobs
the instances queue."""

from __future__ import annotations

import gzip
import http.client
import re
import uuid
from pathlib import Path

from tests.helpers import PASSWORD
from tests.live import Client
from tests.stack.helpers import in_log, wait_in_log

GZIP = {"Accept-Encoding": "gzip"}


def _get(stack, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


def _static_urls(stack) -> list[str]:
    page = Client(f"127.0.0.1:{stack.port}").get("/login").body
    return re.findall(r'"(/static/[^"?]+\?v=[0-9a-f]{12})"', page)


def test_html_css_and_javascript_are_compressed(stack):
    page, body = _get(stack, "/login", GZIP)
    assert page.status == 200 and page.headers["Content-Encoding"] == "gzip"
    assert b"<html" in gzip.decompress(body)
    for url in _static_urls(stack):
        if url.split("?")[0].endswith((".css", ".js")):
            response, body = _get(stack, url, GZIP)
            assert response.headers["Content-Encoding"] == "gzip", url
            assert gzip.decompress(body) == (Path("static") / url[8:].split("?")[0]).read_bytes()


def test_static_files_are_served_by_nginx_with_the_apps_caching(stack):
    urls = _static_urls(stack)
    assert any(".css" in url for url in urls) and any(".js" in url for url in urls), urls
    for url in urls:
        response, _ = _get(stack, url)
        assert response.status == 200, url
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        stale, _ = _get(stack, url.split("?")[0] + "?v=000000000000")
        assert stale.status == 200 and stale.headers["Cache-Control"] == "no-cache", url
    # nginx answered them itself: no instance logged a static file.
    for name in ("web1", "web2"):
        assert not in_log(stack.log(name), "GET /static/"), name


def test_a_request_has_the_same_id_in_nginx_log_and_the_apps(stack):
    mine = f"client-{uuid.uuid4().hex}"
    response, _ = _get(stack, "/login", {"X-Request-ID": mine})
    assert response.headers["X-Request-ID"] == mine
    made, _ = _get(stack, "/login", {"X-Request-ID": "bad id!"})  # refused: nginx makes one
    generated = made.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    for request_id in (mine, generated):
        wait_in_log(stack.run / "nginx" / "nginx-access.log", f"rid={request_id}")
        assert any(in_log(stack.log(n), f"rid={request_id}") for n in ("web1", "web2"))


def test_a_body_over_the_apps_limit_is_refused_by_nginx(stack):
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    body = b"x" * (1024 * 1024 + 1)
    try:
        conn.request("POST", "/login", body=body, headers={"Content-Type": "text/plain"})
        assert conn.getresponse().status == 413
    finally:
        conn.close()


def test_the_stacks_worker_sends_the_mail_an_instance_queues(stack):
    email = f"mail-{uuid.uuid4().hex[:8]}@example.com"
    client = Client(f"127.0.0.1:{stack.port}")
    form = {"email": email, "display_name": "Mail", "password": PASSWORD, "confirm": PASSWORD}
    token = client.csrf("/register")
    assert client.request("POST", "/register", {**form, "csrf_token": token}).status in (302, 303)
    line = wait_in_log(stack.log("worker"), f"mail to {email} written to", seconds=60)
    path = Path(re.search(r"written to (\S+\.eml)", line).group(1))
    message = path.read_text()
    path.unlink()
    assert f"To: {email}" in message
    assert stack.url in message  # its links point at nginx (BASE_URL)
