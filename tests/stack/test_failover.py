"""Instances come and go under load without the users noticing: one killed outright, each
restarted in turn, one stopped while it serves a request. Traffic goes through nginx."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import time
from pathlib import Path
from urllib.parse import urlencode

from deploy.stack import wait_gone, wait_serving
from tests.live import Client
from tests.stack.helpers import Load, wait_in_log


def _stored(database, titles: list[str]) -> int:
    rows = database.execute("SELECT count(*) FROM tasks WHERE title = ANY(%s)", (titles,))
    return rows.fetchone()[0]


def test_an_instance_killed_under_load_loses_no_read_and_no_acknowledged_write(
    stack, account, database
):
    access_log = stack.run / "nginx" / "nginx-access.log"
    with Load.signed_in(f"127.0.0.1:{stack.port}", *account) as load:
        load.wait_for(30)
        killed_at = access_log.stat().st_size
        stack.kill("web1")  # SIGKILL, its workers with it
        load.wait_for(60)  # web2 alone
        log = stack.log("web1")
        mark = log.stat().st_size
        stack.start_instance("web1")
        wait_serving(stack.web_ports["web1"], stack.pid("web1"))
        # nginx tries it again after fail_timeout (5 s) and it takes its share once more.
        wait_in_log(log, "GET /tasks 200", after=mark, seconds=60)
    assert load.failures("GET") == {}, load.outcomes
    # nginx did retry: a request it tried on the dead instance, then on the other.
    web1, web2 = (f"127.0.0.1:{stack.web_ports[n]}" for n in ("web1", "web2"))
    wait_in_log(access_log, f"upstream={web1}, {web2} ", after=killed_at, seconds=1)
    # A POST in flight when its instance died may have failed (502, not retried: it may have
    # been stored); every one that was acknowledged was stored.
    assert set(load.failures("POST")) <= {502}, load.outcomes
    assert load.stored and _stored(database, load.stored) == len(load.stored)


def test_a_rolling_restart_under_load_fails_no_request(stack, account, database):
    with Load.signed_in(f"127.0.0.1:{stack.port}", *account) as load:
        load.wait_for(30)
        stack.reload()
        load.wait_for(30)
    assert load.failures("GET") == {} and load.failures("POST") == {}, load.outcomes
    assert load.stored and _stored(database, load.stored) == len(load.stored)


def _waiting_to_be_accepted(port: int) -> int:
    """Connections in the accept queue of the socket listening on `port` (for a listening
    socket, /proc/net/tcp's rx_queue counts them)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, queues = fields[1], fields[3], fields[4]
        if state == "0A" and int(local.split(":")[1], 16) == port:  # 0A: LISTEN
            return int(queues.split(":")[1], 16)
    return 0


def _serves_new_requests(port: int) -> bool:
    """Whether a new request is answered. gunicorn stopping gracefully no longer accepts,
    but its workers keep the listening socket open until they exit, so the kernel still
    completes connections (that nobody answers): a silent second means no."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/login")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def test_sigterm_lets_the_request_in_flight_finish(stack, account):
    """A sign-in whose body is still arriving when the instance is told to stop: the
    instance stops taking new requests, and answers that one before it exits."""
    email, password = account
    port = stack.web_ports["web2"]
    client = Client(f"127.0.0.1:{port}")
    token = client.csrf("/login")
    body = urlencode({"email": email, "password": password, "csrf_token": token}).encode()
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    head = (
        f"POST /login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    pid = stack.pid("web2")
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head + body[:10])
        deadline = time.monotonic() + 30
        while _waiting_to_be_accepted(port):  # until a worker has taken the connection
            assert time.monotonic() < deadline, "no worker took the connection"
            time.sleep(0.05)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while _serves_new_requests(port):
            assert time.monotonic() < deadline, "the instance kept serving new requests"
            time.sleep(0.1)
        sock.sendall(body[10:])
        answer = sock.makefile("rb").readline()
    assert answer.split()[1] in (b"302", b"303"), answer
    assert wait_gone(pid, 30)
    stack.start_instance("web2")
    wait_serving(port, stack.pid("web2"))


def test_make_stack_again_starts_what_died_and_only_that(stack, monkeypatch, capsys):
    """`make stack` on a stack that lost an instance and its worker starts those two again
    (with the first start's ports and database), leaves the rest running, and nginx sends
    the instance its share once more; on a whole stack it starts nothing.

    The restart goes through the fixture's own Stack (Stack.mend, what `make stack` calls):
    a stack loaded from stack.json takes the caller's environment, and the tests' settings
    (a looser sign-in limit) are the fixture's, not this process's."""
    untouched = {name: stack.pid(name) for name in ("web2",)}
    for name in ("web1", "worker"):
        stack.kill(name)
    assert stack.mend() == ["web1", "worker"]
    assert {name: stack.pid(name) for name in untouched} == untouched
    nginx = Client(f"127.0.0.1:{stack.port}")
    deadline = time.monotonic() + 60  # nginx tries web1 again after its fail_timeout (5 s)
    while nginx.get("/healthz").headers.get("X-Instance") != "web1":
        assert time.monotonic() < deadline, "nginx never reached the restarted web1"
        time.sleep(0.2)

    from deploy.stack import main

    monkeypatch.setenv("STACK_DIR", str(stack.run))
    monkeypatch.setenv("STACK_PORT", "1")  # ignored: a running stack keeps its own ports
    main(["stack", "start"])
    assert "it was all running" in capsys.readouterr().out
