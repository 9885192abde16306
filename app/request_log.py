"""One log line per request: method, path, status, duration, user id, request id (as JSON
with LOG_FORMAT=json), and the X-Request-ID and X-Instance response headers.

Only the path is logged, never the query string, form data, headers or cookies, so no
password, token or session can reach the log.
"""

from __future__ import annotations

import logging
import os
import re
import time

from flask import Flask, g, request

log = logging.getLogger("tasklane.request")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def init_app(app: Flask) -> None:
    @app.before_request
    def _start():
        g.request_started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID")
        # 32 hex digits like a UUID's, from os.urandom directly: uuid4() cost 6x as much.
        g.request_id = incoming if incoming and _VALID_ID.match(incoming) else os.urandom(16).hex()

    # Behind a proxy with several instances, which one answered (tests, debugging).
    instance = app.config["INSTANCE_NAME"]

    @app.after_request
    def _finish(response):
        request_id = g.get("request_id", "-")
        response.headers["X-Request-ID"] = request_id
        if instance:
            response.headers["X-Instance"] = instance
        if not log.isEnabledFor(logging.INFO):  # the line's values cost more than the check
            return response
        started = g.get("request_started")
        elapsed_ms = (time.perf_counter() - started) * 1000 if started else 0.0
        # Only a user flask-login already loaded: logging must not add a query (static files).
        user = g.get("_login_user")
        user_id = user.id if user is not None and user.is_authenticated else "-"
        method, path, status = request.method, request.path, response.status_code
        log.info(
            "%s %s %s %.1fms user=%s rid=%s",
            *(method, path, status, elapsed_ms, user_id, request_id),
            # The same values as fields of their own, for LOG_FORMAT=json (app/log_format.py).
            extra={
                "fields": {
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": round(elapsed_ms, 1),
                    "user": user_id,
                    "request_id": request_id,
                }
            },
        )
        return response
