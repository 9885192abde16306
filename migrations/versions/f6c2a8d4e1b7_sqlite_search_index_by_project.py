"""SQLite's search index by project: the FTS5 table's rowid leads with the task's project

A search is one project's tasks (or one user's projects'), but c8e2f4a6b1d9's FTS5 table is
keyed by task id alone, so a project's search read every project's matches: at the bench's
scale (100,000 tasks in the searched project, 326,000 in all) "zephyr" read 3,320 ids to
use the project's 949, and the page's statement cost 2.2-2.6 ms. This is SQLite's side of
what d7a3f1c9e5b2 did for PostgreSQL's index.

The index's rowid is now (project_id << 32) | id. FTS5 keeps each term's rows in rowid
order and seeks to a rowid range, so a project's search reads its own project's matches:
`rowid BETWEEN project << 32 AND (project << 32) + 0xFFFFFFFF` (app/tasks/search.py). The
same statement then cost 1.45 ms against 2.58 ms (bench database, median of 300, both
statements on one connection, 2026-12-04). Task ids stay below 2**32 (four billion tasks).

It is still an external-content table (it stores only the index; the text stays in tasks),
now over the view tasks_search_source, which gives each task's text under its key: FTS5's
'rebuild' and 'integrity-check' read it. The triggers key rows the same way, and an UPDATE
of project_id (a task moved to another project) moves its entry. A batch migration that
rebuilds `tasks` drops its triggers: such a migration must create them again, as TRIGGERS
below (tests/test_search.py fails otherwise: the index no longer follows writes).

PostgreSQL: nothing changes.

Revision ID: f6c2a8d4e1b7
Revises: a3e7c1f9d4b2
Create Date: 2026-12-04 21:00:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "f6c2a8d4e1b7"
down_revision = "a3e7c1f9d4b2"
branch_labels = None
depends_on = None

KEY = "(({row}.project_id << 32) | {row}.id)"
VIEW = (
    "CREATE VIEW tasks_search_source AS "
    "SELECT (project_id << 32) | id AS key, title, notes FROM tasks"
)
TABLE = (
    "CREATE VIRTUAL TABLE tasks_search USING fts5(title, notes, "
    "content='tasks_search_source', content_rowid='key', tokenize='trigram')"
)
_NEW, _OLD = KEY.format(row="new"), KEY.format(row="old")
# An external-content table is told what it indexed: 'delete' with the old values.
TRIGGERS = {
    "tasks_search_insert": (
        "AFTER INSERT ON tasks BEGIN "
        f"INSERT INTO tasks_search (rowid, title, notes) VALUES ({_NEW}, new.title, new.notes); "
        "END"
    ),
    "tasks_search_delete": (
        "AFTER DELETE ON tasks BEGIN "
        "INSERT INTO tasks_search (tasks_search, rowid, title, notes) "
        f"VALUES ('delete', {_OLD}, old.title, old.notes); "
        "END"
    ),
    "tasks_search_update": (
        "AFTER UPDATE OF title, notes, project_id ON tasks BEGIN "
        "INSERT INTO tasks_search (tasks_search, rowid, title, notes) "
        f"VALUES ('delete', {_OLD}, old.title, old.notes); "
        f"INSERT INTO tasks_search (rowid, title, notes) VALUES ({_NEW}, new.title, new.notes); "
        "END"
    ),
}

# c8e2f4a6b1d9's table and triggers, which downgrade puts back (a migration does not import
# another's module).
OLD_TABLE = (
    "CREATE VIRTUAL TABLE tasks_search USING fts5(title, notes, content='tasks', "
    "content_rowid='id', tokenize='trigram')"
)
OLD_TRIGGERS = {
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


def _replace(bind, table: str, triggers: dict, view: str | None) -> None:
    for name in TRIGGERS:
        bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    bind.exec_driver_sql("DROP TABLE IF EXISTS tasks_search")
    bind.exec_driver_sql("DROP VIEW IF EXISTS tasks_search_source")
    if view:
        bind.exec_driver_sql(view)
    bind.exec_driver_sql(table)
    bind.exec_driver_sql("INSERT INTO tasks_search (tasks_search) VALUES ('rebuild')")
    for name, body in triggers.items():
        bind.exec_driver_sql(f"CREATE TRIGGER {name} {body}")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _replace(bind, TABLE, TRIGGERS, VIEW)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _replace(bind, OLD_TABLE, OLD_TRIGGERS, None)
