from __future__ import annotations

from flask import jsonify

from app.extensions import limiter
from app.health import bp, readiness

NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """Liveness: this process answers requests. Touches nothing else (no database, no
    session), so a database outage never makes an orchestrator restart healthy processes."""
    return "ok\n", 200, {**NO_STORE, "Content-Type": "text/plain; charset=utf-8"}


@bp.get("/readyz")
@limiter.exempt
def readyz():
    """Readiness: this instance can serve, so the proxy may send it traffic."""
    checks = readiness.run()
    ready = all(result == "ok" for result in checks.values())
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    return jsonify(body), 200 if ready else 503, NO_STORE
