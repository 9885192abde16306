"""search index of open tasks: ix_tasks_search_open, the trigram index of open tasks alone

A project's search lists its open tasks unless asked otherwise, but ix_tasks_search holds
every task's trigrams, done ones too: at the bench's scale (100,000 tasks in the searched
project, 30% of them done) "zephyr" found 949 candidates, fetched 791 heap blocks, and threw
300 done rows away. This partial index (WHERE done IS false) finds the 649 open ones: 572
heap blocks, and the search's page statement took 2.26 ms against 2.85 ms (pgbench -M
prepared, the page's statement as the app sends it, 2026-12-05); in process (make
bench-database-cpu) the search page's PostgreSQL CPU fell 0.7-0.8 ms a request. A search of
done tasks, or of all, still reads ix_tasks_search.

What it costs: a toggle re-files the task's trigrams here too (GIN's pending list, kept
small as d7a3f1c9e5b2's): an UPDATE of `done` went from 0.62 to 0.73 ms, of a title from
0.56 to 0.63 ms (pgbench, one task at random a transaction, commit included). The index is
about two thirds the size of ix_tasks_search. CREATE INDEX blocks writes to tasks while it
builds (about 2.5 s at the bench's 326,000 tasks).

Like ix_tasks_search it needs pg_trgm, and leads with project_id where btree_gin exists
(trigrams only where it does not, as ix_tasks_search then is); without pg_trgm there is no
index to add (c8e2f4a6b1d9 warned) and search answers the same rows. SQLite: nothing changes
(its FTS5 table holds every task; the list's own condition leaves out the done ones).

Revision ID: b8f1d3a5c7e2
Revises: f6c2a8d4e1b7
Create Date: 2026-12-05 08:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "b8f1d3a5c7e2"
down_revision = "f6c2a8d4e1b7"
branch_labels = None
depends_on = None

OPEN_INDEX = (
    "CREATE INDEX ix_tasks_search_open ON tasks USING gin "
    "({columns}) WITH (gin_pending_list_limit = 256) "
    "WHERE deleted_at IS NULL AND done IS false"
)
TRIGRAMS = "lower(title) gin_trgm_ops, lower(notes) gin_trgm_ops"


def _has_extension(bind, name: str) -> bool:
    sql = "SELECT 1 FROM pg_extension WHERE extname = %(name)s"
    return bind.exec_driver_sql(sql, {"name": name}).scalar() is not None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not _has_extension(bind, "pg_trgm"):
        return
    columns = ("project_id, " if _has_extension(bind, "btree_gin") else "") + TRIGRAMS
    bind.exec_driver_sql(OPEN_INDEX.format(columns=columns))


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql("DROP INDEX IF EXISTS ix_tasks_search_open")
