"""LOG_FORMAT=json: every log record as one JSON object per line, for a log collector.

Each line has the time (UTC, ISO 8601), level, logger, message and the instance that wrote
it (INSTANCE_NAME, else the host name: several instances share one log store), plus the
fields a record carries in `extra={"fields": {...}}` (the request log's method, path,
status, duration_ms, user, request_id) and the traceback of an exception. The same
formatter serves the app (configured in create_app) and gunicorn's own lines
(gunicorn.conf.py's logconfig_dict), so every line on stderr parses.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from datetime import UTC, datetime

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def instance_name() -> str:
    """This instance's name in the log: INSTANCE_NAME, else the host name."""
    return os.environ.get("INSTANCE_NAME", "").strip() or socket.gethostname()


class JsonFormatter(logging.Formatter):
    def __init__(self, instance: str | None = None):
        super().__init__()
        self.instance = instance or instance_name()

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "instance": self.instance,
            "pid": record.process,
        }
        line.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def handler(log_format: str, instance: str | None = None) -> logging.Handler:
    """A stderr handler writing `log_format` ("text" or "json")."""
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT: use one of {', '.join(FORMATS)}, not {log_format!r}")
    stream = logging.StreamHandler()
    formatter = JsonFormatter(instance) if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    stream.setFormatter(formatter)
    return stream


def gunicorn_config() -> dict:
    """gunicorn's logconfig_dict for JSON lines: its own loggers and the root logger (which
    the app's loggers reach) write through JsonFormatter to stderr, each line once."""
    stderr = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    own = {"level": "INFO", "handlers": ["stderr"], "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": own,
            # A logconfig_dict switches gunicorn's access log on, whose lines hold the query
            # string (a search, a token): the request log's line is the only one per request.
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
        "handlers": {"stderr": stderr},
        "formatters": {"json": {"()": "app.log_format.JsonFormatter"}},
    }
