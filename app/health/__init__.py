"""Probes for the proxy, the orchestrator and the container: /healthz (the process is alive)
and /readyz (it can serve: its database, migrations, Redis and job queue answer)."""

from flask import Blueprint

bp = Blueprint("health", __name__)

# The probes' endpoints: app-wide request hooks that would look up who is signed in (the
# temporary-password guard) leave them alone, so a probe never touches the database through
# a session cookie it happens to carry.
PROBES = frozenset({"health.healthz", "health.readyz"})

from app.health import routes  # noqa: E402,F401
