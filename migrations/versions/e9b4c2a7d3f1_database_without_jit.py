"""the database plans without JIT compilation (jit = off for its sessions)

PostgreSQL compiles a plan with LLVM when its estimated cost passes jit_above_cost (100,000),
before running any of it. A project's search (app/tasks/search.py, probed_page) carries an
arm that reads every match from the trigram index, which runs only when the probe of the
list finds too few; for a term the planner takes for common that arm alone is estimated
above the threshold, and compiling it cost 60-75 ms on a search whose rows took 4.5 ms
(EXPLAIN ANALYZE at the bench's scale, "ent", in a quarter of the tasks). Tasklane's
statements each read a page, never enough rows for compiled expressions to pay back.

Set on the database (every connection to it, PgBouncer's too), not by a startup option
(PgBouncer refuses unknown startup parameters). Where the role may not alter the database
(it is not the owner), the migration logs a warning and goes on: searches answer the same
rows, and a common term's costs the compilation. Downgrade resets the setting.

Revision ID: e9b4c2a7d3f1
Revises: e4b1c7d2a9f3
Create Date: 2026-12-03 07:45:00

"""

import logging

from alembic import op
from sqlalchemy.exc import DBAPIError

# revision identifiers, used by Alembic.
revision = "e9b4c2a7d3f1"
down_revision = "e4b1c7d2a9f3"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def _alter(bind, clause: str) -> None:
    name = bind.exec_driver_sql("SELECT current_database()").scalar()
    quoted = bind.dialect.identifier_preparer.quote(name)
    bind.exec_driver_sql(f"ALTER DATABASE {quoted} {clause}")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():  # a SAVEPOINT: a refusal must not abort the migration
            _alter(bind, "SET jit = off")
    except DBAPIError as error:
        log.warning(
            "jit could not be turned off for this database (%s): a search for a common "
            "term may spend tens of milliseconds compiling its plan. Run ALTER DATABASE "
            "... SET jit = off as its owner.",
            str(error.orig).strip(),
        )
        return


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            _alter(bind, "RESET jit")
    except DBAPIError:
        pass  # never set here (the upgrade warned)
