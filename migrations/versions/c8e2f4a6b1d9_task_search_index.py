"""task search index: ?q= substring search over titles and notes served by an index

PostgreSQL: the pg_trgm extension and a GIN trigram index on (lower(title), lower(notes))
of listed tasks, which serves the list's `lower(...) LIKE '%term%'` as it is written, and
statistics on both expressions, by which the planner tells a rare term (read the index) from
a common one (read the list index in order and stop at a page). Where
the extension cannot be created (a role without the privilege, a server without contrib),
the migration logs a warning and leaves the index out: search answers the same rows, by
reading the list's rows as before (README, "Performance"). To add the index later, have a
superuser run `CREATE EXTENSION pg_trgm` in the database, then create ix_tasks_search as
POSTGRESQL_INDEX below does.

SQLite: an FTS5 table with the trigram tokenizer (SQLite 3.34+) over tasks' title and
notes, an external-content table (it stores only the index; the text stays in tasks), kept
in step by triggers on insert, delete and update of title or notes, and filled from the
existing rows here. A batch migration that rebuilds `tasks` drops its triggers: such a
migration must create them again, as f6c2a8d4e1b7's TRIGGERS (which key the index by project
and replace SQLITE_TRIGGERS below; tests/test_search.py fails otherwise: the index no longer
follows writes).

Revision ID: c8e2f4a6b1d9
Revises: b2d6f8a4c1e9
Create Date: 2026-12-02 09:40:00

"""

import logging

from alembic import op
from sqlalchemy.exc import DBAPIError


# revision identifiers, used by Alembic.
revision = "c8e2f4a6b1d9"
down_revision = "b2d6f8a4c1e9"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

# Statistics on the searched expressions, so that the planner estimates how many rows a
# LIKE '%term%' matches from a sample of the text (without them it guesses from the
# pattern's length alone, and at 100,000 tasks read a term in half of them from the index
# and sorted 50,000 rows: 45 ms, against 0.2 ms reading the list index in order). The list
# index on lower(title) is partial, and PostgreSQL ignores partial indexes' statistics.
POSTGRESQL_STATISTICS = {
    "st_tasks_lower_title": "lower(title)",
    "st_tasks_lower_notes": "lower(notes)",
}
POSTGRESQL_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_tasks_search ON tasks USING gin "
    "(lower(title) gin_trgm_ops, lower(notes) gin_trgm_ops) WHERE deleted_at IS NULL"
)
SQLITE_TABLE = (
    "CREATE VIRTUAL TABLE tasks_search USING fts5(title, notes, content='tasks', "
    "content_rowid='id', tokenize='trigram')"
)
# An external-content table is told what it indexed: 'delete' with the old values.
SQLITE_TRIGGERS = {
    "tasks_search_insert": (
        "AFTER INSERT ON tasks BEGIN "
        "INSERT INTO tasks_search (rowid, title, notes) VALUES (new.id, new.title, new.notes); "
        "END"
    ),
    "tasks_search_delete": (
        "AFTER DELETE ON tasks BEGIN "
        "INSERT INTO tasks_search (tasks_search, rowid, title, notes) "
        "VALUES ('delete', old.id, old.title, old.notes); "
        "END"
    ),
    "tasks_search_update": (
        "AFTER UPDATE OF title, notes ON tasks BEGIN "
        "INSERT INTO tasks_search (tasks_search, rowid, title, notes) "
        "VALUES ('delete', old.id, old.title, old.notes); "
        "INSERT INTO tasks_search (rowid, title, notes) VALUES (new.id, new.title, new.notes); "
        "END"
    ),
}


def ensure_postgresql_index(bind) -> bool:
    """Create pg_trgm (if allowed) and the index; False, with a warning, when not allowed."""
    try:
        with bind.begin_nested():  # a SAVEPOINT: a refusal must not abort the migration
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError as error:
        log.warning(
            "pg_trgm could not be created (%s): no search index; ?q= search reads the "
            "list's rows instead. Create the extension as a superuser and run this "
            "migration again to add it.",
            str(error.orig).strip(),
        )
        return False
    bind.exec_driver_sql(POSTGRESQL_INDEX)
    return True


def create_sqlite_triggers(bind) -> None:
    for name, body in SQLITE_TRIGGERS.items():
        bind.exec_driver_sql(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for name, expression in POSTGRESQL_STATISTICS.items():
            bind.exec_driver_sql(f"CREATE STATISTICS IF NOT EXISTS {name} ON ({expression}) FROM tasks")
        ensure_postgresql_index(bind)
    elif bind.dialect.name == "sqlite":
        bind.exec_driver_sql(SQLITE_TABLE)
        bind.exec_driver_sql("INSERT INTO tasks_search (tasks_search) VALUES ('rebuild')")
        create_sqlite_triggers(bind)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # The extension stays: other databases' objects may use it, and dropping it needs the
        # privilege creating it did.
        bind.exec_driver_sql("DROP INDEX IF EXISTS ix_tasks_search")
        for name in POSTGRESQL_STATISTICS:
            bind.exec_driver_sql(f"DROP STATISTICS IF EXISTS {name}")
    elif bind.dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        bind.exec_driver_sql("DROP TABLE IF EXISTS tasks_search")
