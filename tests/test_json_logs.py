"""LOG_FORMAT=json under gunicorn: every line on stderr is a JSON object (gunicorn's own
lines too), the request log's line carries its fields and the instance, and INSTANCE_NAME
shows in an X-Instance header."""

from __future__ import annotations

import json
import logging
import sys
import uuid

from app.log_format import JsonFormatter
from tests.helpers import PASSWORD, create_user
from tests.live import Client, gunicorn


def test_gunicorn_writes_every_line_as_json_with_the_request_fields(app, database_url, tmp_path):
    create_user(app)
    log = tmp_path / "stderr.log"
    request_id = f"json-log-{uuid.uuid4().hex[:16]}"
    env = {"LOG_FORMAT": "json", "INSTANCE_NAME": "web-a", "LOG_LEVEL": "INFO"}
    with gunicorn(database_url, workers=1, threads=2, log=log, **env) as base:
        client = Client(base)
        assert client.login("ada@example.com", PASSWORD).status == 302
        response = client.get("/tasks?q=secret-query", headers={"X-Request-ID": request_id})
        assert response.status == 200
        assert response.headers["X-Instance"] == "web-a"
        assert response.headers["X-Request-ID"] == request_id
    lines = log.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # each line parses, or this fails
    assert any(r["logger"].startswith("gunicorn") for r in records), lines[:5]
    mine = [r for r in records if r.get("request_id") == request_id]
    assert len(mine) == 1, lines
    line = mine[0]
    assert line["logger"] == "tasklane.request" and line["level"] == "INFO"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/tasks", 200)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["user"] == 1 and line["instance"] == "web-a"
    assert line["time"].endswith("+00:00") and "T" in line["time"]
    assert "secret-query" not in log.read_text() and PASSWORD not in log.read_text()
    sign_in = next(r for r in records if r.get("path") == "/login" and r["method"] == "POST")
    assert sign_in["status"] == 302


def test_no_instance_header_unless_named(client):
    assert "X-Instance" not in client.get("/healthz").headers


def test_json_lines_carry_the_exception_and_default_to_the_host_name():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.getLogger("tasklane.x").makeRecord(
            "tasklane.x", logging.ERROR, __file__, 1, "failed %s", ("here",), True
        )
        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "failed here" and line["level"] == "ERROR"
    assert "RuntimeError: boom" in line["exception"]
    assert line["instance"]  # the host name when INSTANCE_NAME is unset
