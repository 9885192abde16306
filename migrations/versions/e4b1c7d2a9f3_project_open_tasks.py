"""projects: open_tasks, a counter of each project's open tasks, kept by triggers

The navigation showed each project's open tasks by counting them (up to counts.CAP + 1) in
a correlated subquery per project row, on every page: in 20 projects, 20 index walks of up
to 100 rows each. The counter counts what that subquery counted: the tasks of the project
not done and not deleted (deleted_at null; a deleted task waiting for "Undo" is not open).

It is kept exactly as c6d2e8f4a1b9 keeps the users' counters, for the same reasons (read
its docstring): triggers see every write (bulk statements, purges, ON DELETE CASCADE from
projects), in the writing transaction.
PostgreSQL: a statement-level trigger (transition tables) adds the statement's net change
per project to a transaction-local setting, tasklane.project_task_changes (JSON, {project
id: open}), and the one deferred constraint trigger of c6d2e8f4a1b9 applies it at commit:
its function, tasks_count_apply(), now applies the users' changes first and then the
projects', each in id order, so every committing transaction takes these row locks in the
same order and two cannot deadlock on them. Its trigger on UPDATE now also fires for a
change of deleted_at (delete, undo) or project_id (a move).
SQLite: row-level triggers. A batch migration that rebuilds `tasks` drops its triggers: such
a migration must create them again, as _SQLITE_TRIGGERS below (tests/test_project_counters.py
fails otherwise: the counters no longer follow writes).

Revision ID: e4b1c7d2a9f3
Revises: d7a3f1c9e5b2
Create Date: 2026-12-03 08:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4b1c7d2a9f3'
down_revision = 'd7a3f1c9e5b2'
branch_labels = None
depends_on = None

_PG_COUNT = """
CREATE FUNCTION tasks_count_for_projects() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes refcursor;
    change record;
    pending jsonb;
BEGIN
    -- Each project's net change of open tasks in this statement. Static queries, so their
    -- plans are prepared once per session.
    IF TG_OP = 'INSERT' THEN
        OPEN changes FOR
            SELECT project_id, count(*) AS open FROM new_tasks
            WHERE NOT done AND deleted_at IS NULL GROUP BY project_id;
    ELSIF TG_OP = 'DELETE' THEN
        OPEN changes FOR
            SELECT project_id, -count(*) AS open FROM old_tasks
            WHERE NOT done AND deleted_at IS NULL GROUP BY project_id;
    ELSE
        OPEN changes FOR
            SELECT project_id, sum(sign) AS open
            FROM (SELECT project_id, 1 AS sign FROM new_tasks
                  WHERE NOT done AND deleted_at IS NULL
                  UNION ALL SELECT project_id, -1 FROM old_tasks
                  WHERE NOT done AND deleted_at IS NULL) AS rows
            GROUP BY project_id;
    END IF;
    pending := coalesce(nullif(current_setting('tasklane.project_task_changes', true), ''), '{}');
    LOOP
        FETCH changes INTO change;
        EXIT WHEN NOT FOUND;
        CONTINUE WHEN change.open = 0;
        pending := jsonb_set(pending, ARRAY[change.project_id::text], to_jsonb(
            coalesce((pending ->> change.project_id::text)::bigint, 0) + change.open));
    END LOOP;
    CLOSE changes;
    PERFORM set_config('tasklane.project_task_changes', pending::text, true);
    RETURN NULL;
END
$$;
"""

# Users first, then projects, each in id order: the one order of every committing writer.
_PG_APPLY_BOTH = """
CREATE OR REPLACE FUNCTION tasks_count_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    users_pending text := nullif(current_setting('tasklane.task_count_changes', true), '');
    projects_pending text := nullif(current_setting('tasklane.project_task_changes', true), '');
    change record;
BEGIN
    -- Fired at commit once per changed task: the first firing applies everything, the
    -- others find nothing left to do.
    IF coalesce(users_pending, '{}') = '{}' AND coalesce(projects_pending, '{}') = '{}' THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('tasklane.task_count_changes', '', true);
    PERFORM set_config('tasklane.project_task_changes', '', true);
    FOR change IN
        SELECT key::integer AS user_id, (value ->> 0)::integer AS open,
               (value ->> 1)::integer AS total
        FROM jsonb_each(coalesce(users_pending, '{}')::jsonb) ORDER BY 1
    LOOP
        CONTINUE WHEN change.total = 0 AND change.open = 0;
        UPDATE users
        SET total_tasks = total_tasks + change.total, open_tasks = open_tasks + change.open
        WHERE id = change.user_id;
    END LOOP;
    FOR change IN
        SELECT key::integer AS project_id, value::integer AS open
        FROM jsonb_each_text(coalesce(projects_pending, '{}')::jsonb) ORDER BY 1
    LOOP
        CONTINUE WHEN change.open = 0;
        UPDATE projects SET open_tasks = open_tasks + change.open WHERE id = change.project_id;
    END LOOP;
    RETURN NULL;
END
$$;
"""

# c6d2e8f4a1b9's function, for the downgrade (a migration does not import another's module).
_PG_APPLY_USERS = """
CREATE OR REPLACE FUNCTION tasks_count_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    pending text := nullif(current_setting('tasklane.task_count_changes', true), '');
    change record;
BEGIN
    -- Fired at commit once per changed task: the first firing applies everything, the
    -- others find nothing left to do.
    IF pending IS NULL OR pending = '{}' THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('tasklane.task_count_changes', '', true);
    FOR change IN
        SELECT key::integer AS user_id, (value ->> 0)::integer AS open,
               (value ->> 1)::integer AS total
        FROM jsonb_each(pending::jsonb) ORDER BY 1
    LOOP
        CONTINUE WHEN change.total = 0 AND change.open = 0;
        UPDATE users
        SET total_tasks = total_tasks + change.total, open_tasks = open_tasks + change.open
        WHERE id = change.user_id;
    END LOOP;
    RETURN NULL;
END
$$;
"""

_PG_APPLY_UPDATE = (
    "CREATE CONSTRAINT TRIGGER tasks_count_apply_update AFTER UPDATE OF {columns} ON tasks"
    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ({when})"
    " EXECUTE FUNCTION tasks_count_apply()"
)
_PG_APPLY_UPDATE_BOTH = _PG_APPLY_UPDATE.format(
    columns="done, created_by_id, deleted_at, project_id",
    when="OLD.done IS DISTINCT FROM NEW.done"
    " OR OLD.created_by_id IS DISTINCT FROM NEW.created_by_id"
    " OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at"
    " OR OLD.project_id IS DISTINCT FROM NEW.project_id",
)
_PG_APPLY_UPDATE_USERS = _PG_APPLY_UPDATE.format(
    columns="done, created_by_id",
    when="OLD.done IS DISTINCT FROM NEW.done"
    " OR OLD.created_by_id IS DISTINCT FROM NEW.created_by_id",
)

_PG_TRIGGER = {
    "INSERT": "REFERENCING NEW TABLE AS new_tasks",
    "DELETE": "REFERENCING OLD TABLE AS old_tasks",
    "UPDATE": "REFERENCING OLD TABLE AS old_tasks NEW TABLE AS new_tasks",
}

_SQLITE_OPEN = "NOT {row}.done AND {row}.deleted_at IS NULL"
_SQLITE_TRIGGERS = {
    "insert": f"AFTER INSERT ON tasks WHEN {_SQLITE_OPEN.format(row='NEW')} BEGIN"
    " UPDATE projects SET open_tasks = open_tasks + 1 WHERE id = NEW.project_id; END",
    "delete": f"AFTER DELETE ON tasks WHEN {_SQLITE_OPEN.format(row='OLD')} BEGIN"
    " UPDATE projects SET open_tasks = open_tasks - 1 WHERE id = OLD.project_id; END",
    "update": "AFTER UPDATE OF done, deleted_at, project_id ON tasks"
    f" WHEN ({_SQLITE_OPEN.format(row='OLD')}) IS NOT ({_SQLITE_OPEN.format(row='NEW')})"
    " OR OLD.project_id IS NOT NEW.project_id BEGIN"
    f" UPDATE projects SET open_tasks = open_tasks - ({_SQLITE_OPEN.format(row='OLD')})"
    " WHERE id = OLD.project_id;"
    f" UPDATE projects SET open_tasks = open_tasks + ({_SQLITE_OPEN.format(row='NEW')})"
    " WHERE id = NEW.project_id; END",
}

# Every existing open task counted once, on both databases (the list's indexes lead with
# project_id).
_BACKFILL = """
UPDATE projects SET open_tasks = (
    SELECT count(*) FROM tasks
    WHERE tasks.project_id = projects.id AND tasks.done = false AND tasks.deleted_at IS NULL)
"""


def upgrade():
    # A plain ADD COLUMN on both databases: batch mode would rebuild projects on SQLite.
    op.add_column(
        'projects', sa.Column('open_tasks', sa.Integer(), server_default='0', nullable=False)
    )
    if op.get_bind().dialect.name == "postgresql":
        # Nobody writes tasks between the triggers' creation and the backfill: the lock
        # taken here lasts until the migration's transaction commits.
        op.execute("LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE")
        op.execute(_PG_COUNT)
        op.execute(_PG_APPLY_BOTH)
        op.execute("DROP TRIGGER tasks_count_apply_update ON tasks")
        op.execute(_PG_APPLY_UPDATE_BOTH)
        for kind, referencing in _PG_TRIGGER.items():
            op.execute(
                f"CREATE TRIGGER tasks_count_projects_{kind.lower()} AFTER {kind} ON tasks"
                f" {referencing} FOR EACH STATEMENT"
                " EXECUTE FUNCTION tasks_count_for_projects()"
            )
    else:
        for kind, body in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER tasks_count_projects_{kind} {body}")
    op.execute(_BACKFILL)


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for kind in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER tasks_count_projects_{kind}" + (" ON tasks" if postgresql else ""))
    if postgresql:
        op.execute("DROP TRIGGER tasks_count_apply_update ON tasks")
        op.execute(_PG_APPLY_UPDATE_USERS)
        op.execute(_PG_APPLY_USERS)
        op.execute("DROP FUNCTION tasks_count_for_projects()")
    # Plain DROP COLUMN (SQLite has it since 3.35), as the due_time migration explains.
    op.drop_column('projects', 'open_tasks')
