"""Two instances share everything a user's state lives in: sessions in PostgreSQL, rate
limits in Redis. Requests sent to each instance's own port, and through nginx."""

from __future__ import annotations

import uuid

from tests.live import Client
from tests.stack.helpers import in_log


def _clients(stack, cookies=None) -> dict[str, Client]:
    clients = {
        "web1": Client(f"127.0.0.1:{stack.web_ports['web1']}"),
        "web2": Client(f"127.0.0.1:{stack.web_ports['web2']}"),
        "nginx": Client(f"127.0.0.1:{stack.port}"),
    }
    for client in clients.values():
        client.cookies = cookies if cookies is not None else client.cookies
    return clients


def _signed_in(response) -> bool:
    """The task list itself, with its sign-out button (not a redirect to /login)."""
    return response.status == 200 and 'action="/logout"' in response.body


def test_a_session_made_on_one_instance_works_on_the_other(stack, account):
    email, password = account
    one = _clients(stack)
    assert one["web1"].login(email, password).status in (302, 303)
    shared = _clients(stack, cookies=one["web1"].cookies)
    for where in ("web2", "nginx", "web1"):
        assert _signed_in(shared[where].get("/tasks")), where


def test_signing_out_on_one_instance_ends_the_session_on_both(stack, account):
    email, password = account
    web1 = _clients(stack)["web1"]
    assert web1.login(email, password).status in (302, 303)
    shared = _clients(stack, cookies=web1.cookies)
    assert _signed_in(shared["web2"].get("/tasks"))
    assert shared["web2"].post("/logout", {}).status in (302, 303)
    for where in ("web1", "nginx"):
        page = shared[where].get("/tasks")
        assert page.status in (302, 303), where
        assert "/login" in page.headers["Location"], where


def test_sign_in_limits_count_once_across_instances(stack):
    """AUTH_RATE_LIMIT is 20/minute here: 20 failed sign-ins, alternating between the
    instances, and the next is refused by either. Counted per instance (memory:// storage),
    each would have seen 10 and let it through."""
    address = f"203.0.113.{uuid.uuid4().int % 250 + 1}"  # as nginx would report a client
    email = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    clients = _clients(stack)
    for attempt in range(20):
        client = clients["web1" if attempt % 2 else "web2"]
        assert client.login_from(address, email, "wrong-password").status == 401, attempt
    for where in ("web1", "web2"):
        assert clients[where].login_from(address, email, "wrong-password").status == 429, where


def test_requests_through_nginx_reach_both_instances(stack):
    ids = [f"both-{uuid.uuid4().hex}" for _ in range(8)]
    nginx = _clients(stack)["nginx"]
    for request_id in ids:
        assert nginx.get("/login", headers={"X-Request-ID": request_id}).status == 200
    answered = {
        name: [i for i in ids if in_log(stack.log(name), f"rid={i}")] for name in ("web1", "web2")
    }
    assert answered["web1"] and answered["web2"], answered
    assert sorted(answered["web1"] + answered["web2"]) == sorted(ids)
