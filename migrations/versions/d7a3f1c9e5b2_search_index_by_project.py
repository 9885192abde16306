"""task search index by project: ix_tasks_search leads with project_id (btree_gin)

A search is one project's tasks (or one user's projects'), but the trigram index of
c8e2f4a6b1d9 finds every project's matches. At the bench's scale (100,000 tasks in the
searched project, 326,000 in all) "zephyr" matched 3,320 tasks, 2,671 of them in other
projects, each a heap fetch and a recheck. Led by project_id (btree_gin's operator class for
integers) the index finds the project's 949: 738 heap blocks instead of 2,530. Measured with
EXPLAIN ANALYZE on the page's statement (median of 20, interleaved, both databases vacuumed):
"zephyr r" (55 open matches) 2.8 ms against 5.4 ms with the old index; "zephyr" (649 open
matches, 1%) 3.5 ms against 6.3 ms, where walking the list index costs 7.5-9.4 ms. Which of
the two the planner picks for a 1% term depends on ANALYZE's sample (it estimated 0.9% to 3%
of the project's rows on different samples): it costs the walk's heap reads as nearly
sequential (the project's rows lie together), so it walks from about 1% up. A search across several projects reads the trigram columns alone, as before.

gin_pending_list_limit = 256 (kB): GIN queues new entries in a pending list until a vacuum
or the limit (4 MB by default) merges them, and every search reads the whole list: after
the bench's seed, 430 pages, read twice a search (title and notes). Measured on 200 toggles
in one statement (each writes the task's entries anew): about 75 us a task with the old
index alone (4 MB), 120 us with this one beside it at 256 kB, 300 us with this one and no
list (fastupdate off). A search then reads at most 32 pages of it.

Where btree_gin cannot be created (like pg_trgm, a trusted extension: a role without CREATE
on its database, a server without contrib), the migration logs a warning and leaves the
index as it was: search answers the same rows. Downgrade puts back c8e2f4a6b1d9's index.

Revision ID: d7a3f1c9e5b2
Revises: c6d2e8f4a1b9
Create Date: 2026-12-02 12:40:00

"""

import logging

from alembic import op
from sqlalchemy.exc import DBAPIError

# revision identifiers, used by Alembic.
revision = "d7a3f1c9e5b2"
down_revision = "c6d2e8f4a1b9"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

BY_PROJECT = (
    "CREATE INDEX ix_tasks_search ON tasks USING gin "
    "(project_id, lower(title) gin_trgm_ops, lower(notes) gin_trgm_ops) "
    "WITH (gin_pending_list_limit = 256) WHERE deleted_at IS NULL"
)
# c8e2f4a6b1d9's POSTGRESQL_INDEX (a migration does not import another's module).
TRIGRAMS_ONLY = (
    "CREATE INDEX IF NOT EXISTS ix_tasks_search ON tasks USING gin "
    "(lower(title) gin_trgm_ops, lower(notes) gin_trgm_ops) WHERE deleted_at IS NULL"
)


def _has_extension(bind, name: str) -> bool:
    sql = "SELECT 1 FROM pg_extension WHERE extname = %(name)s"
    return bind.exec_driver_sql(sql, {"name": name}).scalar() is not None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not _has_extension(bind, "pg_trgm"):
        return  # SQLite's FTS5 table, or no trigram index to improve (c8e2f4a6b1d9 warned)
    try:
        with bind.begin_nested():  # a SAVEPOINT: a refusal must not abort the migration
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS btree_gin")
    except DBAPIError as error:
        log.warning(
            "btree_gin could not be created (%s): the search index stays trigrams only, "
            "and a search reads every project's matches. Create the extension as a "
            "superuser and run this migration again to lead the index with project_id.",
            str(error.orig).strip(),
        )
        return
    bind.exec_driver_sql("DROP INDEX IF EXISTS ix_tasks_search")
    bind.exec_driver_sql(BY_PROJECT)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not _has_extension(bind, "pg_trgm"):
        return
    # btree_gin stays, as pg_trgm does: dropping it needs the privilege creating it did.
    bind.exec_driver_sql("DROP INDEX IF EXISTS ix_tasks_search")
    bind.exec_driver_sql(TRIGRAMS_ONLY)
