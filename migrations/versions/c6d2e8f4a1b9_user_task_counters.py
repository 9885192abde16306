"""users: open_tasks and total_tasks, counters of the tasks each user added, kept by triggers

The admin list showed each user's task counts by counting their tasks per page view (27 ms
at 100,000 tasks). The counters count what it counted: every tasks row whose created_by_id is
the user, deleted ones waiting for "Undo" included, and of them the ones not done.

Why triggers and not increments in the services: tasks are written in many places (the
ORM, bulk UPDATE statements, INSERT ... RETURNING, purges, ON DELETE CASCADE from projects
and ON DELETE SET NULL from users), and SQLAlchemy's events do not see bulk statements nor
the database's own cascades. A trigger sees every row change, in the statement's own
transaction, so the counters are exact under concurrency by construction: the UPDATE of
the user's row takes its row lock, and a second writer's increment waits for the first's
commit and then adds to the committed value.

PostgreSQL: updating one users row many times in one transaction costs more each time
(PostgreSQL walks the chain of that row's versions the transaction made): with a row-level
trigger, one bulk UPDATE of 5,000 to 20,000 tasks had not finished after 9 minutes at bench
scale, and with a trigger per statement, 6,000 one-row INSERTs in one transaction took 1 s
for the first thousand and 6 s for the sixth. So each user's row is updated once per
transaction, at its commit: a statement-level trigger (transition tables) adds the
statement's net change per user to a transaction-local setting, tasklane.task_count_changes
(JSON, {user id: [open, total]}, gone with the transaction and with a rolled-back
savepoint), and a deferred constraint trigger applies it when the transaction commits, users
in id order, so two committing transactions cannot deadlock on the counters. An edit that
changes neither done nor the adder nets to zero and queues nothing.
SQLite: row-level triggers (it has no others); its writers are serialised by the database
lock, and repeated updates of one row cost nothing special there.

ix_users_total_tasks serves the admin list's sort "Most tasks".

Revision ID: c6d2e8f4a1b9
Revises: c8e2f4a6b1d9
Create Date: 2026-12-05 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c6d2e8f4a1b9'
down_revision = 'c8e2f4a6b1d9'
branch_labels = None
depends_on = None

_PG_FUNCTIONS = """
CREATE FUNCTION tasks_count_for_users() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes refcursor;
    change record;
    pending jsonb;
    was jsonb;
BEGIN
    -- Each user's net change in this statement. Static queries, so their plans are prepared
    -- once per session.
    IF TG_OP = 'INSERT' THEN
        OPEN changes FOR
            SELECT created_by_id AS user_id, count(*) AS total,
                   count(*) FILTER (WHERE NOT done) AS open
            FROM new_tasks WHERE created_by_id IS NOT NULL GROUP BY created_by_id;
    ELSIF TG_OP = 'DELETE' THEN
        OPEN changes FOR
            SELECT created_by_id AS user_id, -count(*) AS total,
                   -count(*) FILTER (WHERE NOT done) AS open
            FROM old_tasks WHERE created_by_id IS NOT NULL GROUP BY created_by_id;
    ELSE
        OPEN changes FOR
            SELECT created_by_id AS user_id, sum(sign) AS total,
                   coalesce(sum(sign) FILTER (WHERE NOT done), 0) AS open
            FROM (SELECT created_by_id, done, 1 AS sign FROM new_tasks
                  UNION ALL SELECT created_by_id, done, -1 FROM old_tasks) AS rows
            WHERE created_by_id IS NOT NULL GROUP BY created_by_id;
    END IF;
    pending := coalesce(nullif(current_setting('tasklane.task_count_changes', true), ''), '{}');
    LOOP
        FETCH changes INTO change;
        EXIT WHEN NOT FOUND;
        CONTINUE WHEN change.total = 0 AND change.open = 0;
        was := coalesce(pending -> change.user_id::text, '[0, 0]');
        pending := jsonb_set(pending, ARRAY[change.user_id::text], jsonb_build_array(
            (was ->> 0)::bigint + change.open, (was ->> 1)::bigint + change.total));
    END LOOP;
    CLOSE changes;
    PERFORM set_config('tasklane.task_count_changes', pending::text, true);
    RETURN NULL;
END
$$;

CREATE FUNCTION tasks_count_apply() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE CONSTRAINT TRIGGER tasks_count_apply AFTER INSERT OR DELETE ON tasks
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tasks_count_apply();
CREATE CONSTRAINT TRIGGER tasks_count_apply_update AFTER UPDATE OF done, created_by_id ON tasks
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.done IS DISTINCT FROM NEW.done OR OLD.created_by_id IS DISTINCT FROM NEW.created_by_id)
    EXECUTE FUNCTION tasks_count_apply();
"""

_PG_TRIGGER = {
    "INSERT": "REFERENCING NEW TABLE AS new_tasks",
    "DELETE": "REFERENCING OLD TABLE AS old_tasks",
    "UPDATE": "REFERENCING OLD TABLE AS old_tasks NEW TABLE AS new_tasks",
}

_SQLITE_ADD = (
    "UPDATE users SET total_tasks = total_tasks + 1, open_tasks = open_tasks + (NOT NEW.done)"
    " WHERE id = NEW.created_by_id;"
)
_SQLITE_REMOVE = (
    "UPDATE users SET total_tasks = total_tasks - 1, open_tasks = open_tasks - (NOT OLD.done)"
    " WHERE id = OLD.created_by_id;"
)
_SQLITE_TRIGGERS = {
    "insert": f"AFTER INSERT ON tasks BEGIN {_SQLITE_ADD} END",
    "delete": f"AFTER DELETE ON tasks BEGIN {_SQLITE_REMOVE} END",
    "update": "AFTER UPDATE OF done, created_by_id ON tasks"
    " WHEN OLD.done IS NOT NEW.done OR OLD.created_by_id IS NOT NEW.created_by_id"
    f" BEGIN {_SQLITE_REMOVE} {_SQLITE_ADD} END",
}

# Every existing task counted once, on both databases (ix_tasks_created_by_done serves both).
_BACKFILL = """
UPDATE users SET
    total_tasks = (SELECT count(*) FROM tasks WHERE tasks.created_by_id = users.id),
    open_tasks = (SELECT count(*) FROM tasks
                  WHERE tasks.created_by_id = users.id AND tasks.done = false)
"""


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('open_tasks', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('total_tasks', sa.Integer(), server_default='0', nullable=False))
    op.create_index('ix_users_total_tasks', 'users', [sa.text('total_tasks DESC'), 'id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # Nobody writes tasks between the triggers' creation and the backfill: the lock
        # taken here lasts until the migration's transaction commits.
        op.execute("LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE")
        op.execute(_PG_FUNCTIONS)
        for kind, referencing in _PG_TRIGGER.items():
            op.execute(
                f"CREATE TRIGGER tasks_count_{kind.lower()} AFTER {kind} ON tasks"
                f" {referencing} FOR EACH STATEMENT"
                " EXECUTE FUNCTION tasks_count_for_users()"
            )
    else:
        for kind, body in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER tasks_count_{kind} {body}")
    op.execute(_BACKFILL)


def downgrade():
    for kind in ("insert", "delete", "update"):
        op.execute(
            f"DROP TRIGGER tasks_count_{kind}"
            + (" ON tasks" if op.get_bind().dialect.name == "postgresql" else "")
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER tasks_count_apply ON tasks")
        op.execute("DROP TRIGGER tasks_count_apply_update ON tasks")
        op.execute("DROP FUNCTION tasks_count_apply()")
        op.execute("DROP FUNCTION tasks_count_for_users()")
    op.drop_index('ix_users_total_tasks', table_name='users')
    # Plain DROP COLUMN (SQLite has it since 3.35), as the due_time migration explains.
    op.drop_column('users', 'total_tasks')
    op.drop_column('users', 'open_tasks')
