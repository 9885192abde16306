"""Seam: flask-limiter checks only the limits set with its decorator.

Saves 6.8% of a toggle's instructions (5.79 M a toggle with it, 6.19 M with a plain Limiter)
and 0.6% of a list page's (`make bench-instructions`, PostgreSQL, 2026-12-01).
flask-limiter also checks every request before it is dispatched, for default, application
and blueprint limits; Tasklane sets none (only sign-in and registration are
limited, by decorator), so that check was pure cost on every request.

Relies on (Flask-Limiter 4.1): `Limiter.init_app` registers `self._check_request_limit` as
a before_request hook, which calls it with the default `in_middleware=True`; a decorated
view calls `_check_request_limit(in_middleware=False, callable_name=...)` itself. The
signature `_check_request_limit(self, callable_name=None, in_middleware=True)` is what
tests/test_seams.py's canary checks.

What this gives up, and the guard for it: default and application limits from the config
are refused at start (`init_app` raises), and a limit put on a whole blueprint
(`limiter.limit(...)(bp)`) would be ignored; Tasklane has none.
"""

from __future__ import annotations

from flask_limiter import Limiter

REFUSED_SETTINGS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION")


class DecoratedLimitsOnly(Limiter):
    """A Limiter for limits set with its decorator only (see the module)."""

    def init_app(self, app) -> None:
        for key in REFUSED_SETTINGS:
            if app.config.get(key):
                raise RuntimeError(f"{key}: Tasklane's limiter applies decorated limits only")
        super().init_app(app)

    def _check_request_limit(self, callable_name=None, in_middleware=True) -> None:
        if not in_middleware:
            super()._check_request_limit(callable_name, in_middleware)
