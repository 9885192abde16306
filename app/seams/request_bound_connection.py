"""Reliability seam: a request waits a bounded time for each answer from PostgreSQL.

Protects: a worker thread from waiting forever on a database server (or a proxy in front of
it) that accepted a connection and then went silent. The connect timeout only bounds
opening a connection; once one is open, psycopg waits for an answer without limit. The bound
has to be kept here, on the client: PostgreSQL's statement_timeout is enforced by the
server, whose answer saying so is what never arrives; TCP keepalives and tcp_user_timeout
end a connection only when packets go unacknowledged, never when a proxy's kernel keeps
acknowledging them. Outside requests (`flask db upgrade`, CLI commands) nothing is bound: a
migration may rightly wait minutes.

Relies on (psycopg 3.2 and later, checked on 3.3): every execute, fetch, commit and
rollback waits through `Connection.wait(gen, *, interval, timeout)`, which raises the
private `psycopg.errors._WaitTimeout` when its timeout passes. Canaries: tests/test_seams.py
(the names and signature) and test_reliability.py's
test_a_request_waits_a_bounded_time_for_each_database_answer (the behaviour).
"""

from __future__ import annotations

import psycopg
from flask import Flask, has_request_context
from sqlalchemy import event


class RequestBoundConnection(psycopg.Connection):
    """A psycopg connection that, while serving a request, waits at most `answer_timeout`
    seconds for each answer from the server, then closes and raises OperationalError (503)."""

    answer_timeout: float = 0

    def wait(self, gen, **kwargs):
        bound = None
        if kwargs.get("timeout") is None and self.answer_timeout > 0 and has_request_context():
            bound = kwargs["timeout"] = self.answer_timeout
        try:
            return super().wait(gen, **kwargs)
        except psycopg.errors._WaitTimeout:
            if bound is None:  # psycopg's own timeout (a cancel, notifies): its own handling
                raise
            # Cut off mid-exchange, the connection's state is unknown: never use it again.
            # Closed, it also counts as a disconnect, so the pool drops its other connections.
            self.close()
            raise psycopg.OperationalError(
                f"the database did not answer within {bound} s"
            ) from None


def install(app: Flask) -> None:
    """PostgreSQL connections of `app`'s engine open as RequestBoundConnection.

    After database.configure, whose do_connect listener puts the connect timeout in
    `cparams` and returns nothing: SQLAlchemy calls do_connect listeners in order and
    connects with the first connection one returns."""
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        return
    answer_timeout = app.config["DATABASE_ANSWER_TIMEOUT"]

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect, _record, cargs, cparams):
        connection = RequestBoundConnection.connect(*cargs, **cparams)
        connection.answer_timeout = answer_timeout
        return connection
