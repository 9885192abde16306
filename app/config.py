"""Configuration read once from the environment (and `.env`, loaded by create_app)."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from dotenv import load_dotenv

# Read before the class bodies below run; real environment variables win over .env.
load_dotenv(override=False)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def normalise_database_url(url: str) -> str:
    """Let people paste the URLs their hosting gives them (`postgres://`, `postgresql://`)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/.

    The file is created with O_EXCL so that two workers starting together agree on one key.
    """
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    path = Path(instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


class Config:
    """Production-safe defaults; every value can be set from the environment (.env.example)."""

    TESTING = False
    PRODUCTION = _env_bool("TASKLANE_PRODUCTION", False)

    SQLALCHEMY_DATABASE_URI = normalise_database_url(os.environ.get("DATABASE_URL", ""))
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # PostgreSQL (app/database.py): seconds to open a connection (at least 2), and seconds a
    # request waits for each answer before it gives up with a 503 (0: no limit).
    DATABASE_CONNECT_TIMEOUT = _env_int("DATABASE_CONNECT_TIMEOUT", 2)
    DATABASE_ANSWER_TIMEOUT = _env_int("DATABASE_ANSWER_TIMEOUT", 2)
    # PostgreSQL reached through PgBouncer in transaction mode (app/database.py says why).
    DATABASE_TRANSACTION_POOLING = _env_bool("DATABASE_TRANSACTION_POOLING", False)

    MAX_CONTENT_LENGTH = 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 1024 * 1024

    # Cookies: HttpOnly and SameSite=Lax always; Secure whenever served over HTTPS in production.
    SESSION_COOKIE_NAME = "tasklane_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = PRODUCTION
    REMEMBER_COOKIE_NAME = "tasklane_remember"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = PRODUCTION
    REMEMBER_COOKIE_REFRESH_EACH_REQUEST = False

    # Server-side login sessions (app/login_sessions.py): idle timeout and absolute lifetime.
    SESSION_IDLE_TIMEOUT = timedelta(minutes=_env_int("SESSION_IDLE_MINUTES", 12 * 60))
    SESSION_ABSOLUTE_LIFETIME = timedelta(hours=_env_int("SESSION_MAX_HOURS", 7 * 24))
    REMEMBER_COOKIE_DURATION = timedelta(days=min(_env_int("REMEMBER_DAYS", 30), 30))
    PERMANENT_SESSION_LIFETIME = REMEMBER_COOKIE_DURATION

    # The CSRF token lives as long as the login session, so a page left open for hours works.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_SSL_STRICT = PRODUCTION

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # Separates this instance's counters in a shared Redis.
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "tasklane")
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "5/minute;20/hour")
    # Invitations per inviting user: enough to set up a team, too few to probe many addresses.
    INVITE_RATE_LIMIT = os.environ.get("INVITE_RATE_LIMIT", "20/minute;100/day")
    # Messages about one's own address each signed-in user may ask for (a new verification
    # link, a change of address), together: each mails an address they name or own.
    ADDRESS_RATE_LIMIT = os.environ.get("ADDRESS_RATE_LIMIT", "5/hour;20/day")

    # argon2id parameters (RFC 9106 "low memory" profile, argon2-cffi's default).
    ARGON2_TIME_COST = _env_int("ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_COST = _env_int("ARGON2_MEMORY_COST", 65536)
    ARGON2_PARALLELISM = _env_int("ARGON2_PARALLELISM", 4)

    # How many reverse proxies sit in front of the app (0: trust no X-Forwarded-* header).
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)

    # The time zone that decides what "today" is for due dates (an IANA name).
    TIMEZONE = os.environ.get("TIMEZONE", "UTC")

    # The site's public address: every link in an email is built from it, never from the
    # request's Host header, which a client chooses (a forged one would put an attacker's
    # domain in a password reset link).
    # Unset: where `make run` serves (127.0.0.1 on PORT, 5000 by default).
    BASE_URL = os.environ.get("BASE_URL", "").strip() or (
        f"http://127.0.0.1:{os.environ.get('PORT', '').strip() or 5000}"
    )

    # The job queue (app/jobs): redis://... in production; empty, a SQLite file in instance/
    # whose consumer the web server starts itself; "immediate" runs each job inline (tests).
    QUEUE_URL = os.environ.get("QUEUE_URL", "").strip()
    # Its keys in Redis: instances sharing one Redis database need names of their own (the
    # tests do too).
    QUEUE_NAME = os.environ.get("QUEUE_NAME", "").strip() or "tasklane"

    # Outgoing mail (app/mail). No MAIL_HOST: messages are written to instance/mail/ as .eml
    # files and their links logged, so a fresh clone can reset a password.
    MAIL_HOST = os.environ.get("MAIL_HOST", "").strip()
    MAIL_PORT = _env_int("MAIL_PORT", 0)  # 0: 25, 587 or 465 by MAIL_SECURITY
    MAIL_SECURITY = os.environ.get("MAIL_SECURITY", "").strip().lower() or "starttls"
    MAIL_USER = os.environ.get("MAIL_USER", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "").strip() or "Tasklane <tasklane@localhost>"
    MAIL_TIMEOUT = 20  # seconds for each SMTP exchange; a failed send is retried by the queue
    MAIL_FILE_DIR = ""  # where messages go without MAIL_HOST; empty: instance/mail

    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    # "text" (one readable line per record) or "json" (one JSON object per line: app/log_format.py).
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "").strip().lower() or "text"
    # This instance's name when several serve one site: in each JSON log line (the host name
    # when empty) and, when set, in an X-Instance response header.
    INSTANCE_NAME = os.environ.get("INSTANCE_NAME", "").strip()


class TestConfig(Config):
    """Fixed values for the test suite. Every setting that Config (or Flask) reads from the
    environment is given here, so a developer's .env or shell (TIMEZONE, TRUSTED_PROXIES,
    AUTH_RATE_LIMIT, FLASK_DEBUG...) cannot change what the tests see; tests/test_config.py
    sets every variable the app reads and checks that nothing moves."""

    TESTING = True
    DEBUG = False  # Flask's default comes from FLASK_DEBUG
    PRODUCTION = False
    # Each test passes its own database; an app built without one gets an empty in-memory
    # SQLite, never a developer's DATABASE_URL.
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    SESSION_IDLE_TIMEOUT = timedelta(hours=12)
    SESSION_ABSOLUTE_LIFETIME = timedelta(days=7)
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    PERMANENT_SESSION_LIFETIME = REMEMBER_COOKIE_DURATION
    WTF_CSRF_SSL_STRICT = False
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_KEY_PREFIX = "tasklane-test"
    RATELIMIT_ENABLED = True
    AUTH_RATE_LIMIT = "5/minute;20/hour"
    INVITE_RATE_LIMIT = "20/minute;100/day"
    ADDRESS_RATE_LIMIT = "5/hour;20/day"
    # Cheap hashes keep the suite fast; the upgrade-on-login test raises them explicitly.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    ARGON2_PARALLELISM = 1
    TRUSTED_PROXIES = 0
    TIMEZONE = "UTC"
    LOG_LEVEL = "INFO"
    LOG_FORMAT = "text"
    INSTANCE_NAME = ""
    DATABASE_CONNECT_TIMEOUT = 2
    DATABASE_ANSWER_TIMEOUT = 2
    DATABASE_TRANSACTION_POOLING = False
    BASE_URL = "http://tasklane.test"
    # Jobs run inline, in the request that queues them; the queue's own tests bind others.
    QUEUE_URL = "immediate"
    QUEUE_NAME = "tasklane"  # as the worker processes some tests start have it
    # No SMTP unless a test starts its own server; .eml files go to the test's own folder
    # (tests/conftest.py's make_app), never to instance/.
    MAIL_HOST = ""
    MAIL_PORT = 0
    MAIL_SECURITY = "none"  # the tests' aiosmtpd speaks plain SMTP
    MAIL_USER = ""
    MAIL_PASSWORD = ""
    MAIL_SENDER = "Tasklane <tasklane@tasklane.test>"
    MAIL_TIMEOUT = 5
    SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105 (tests only)
