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

PostgreSQL: one statement-level trigger per kind of change, with transition tables, that
adds each user's net change once per statement. A bulk change of 100,000 tasks updates each
user's row once; a row-level trigger would update it once per task in one transaction, and
PostgreSQL walks an ever longer chain of that row's versions each time (measured at bench
scale: one such UPDATE of 5,000 to 20,000 tasks had not finished after 9 minutes). Users are
updated in id order, so two statements that change the same users cannot deadlock on the
counters. Measured with pgbench at bench scale, a toggle costs about 0.2 to 0.3 ms more of
PostgreSQL's time; an edit that changes neither done nor the adder, too little to tell from
the noise.
SQLite: row-level triggers (it has no others); its writers are serialised by the database
lock, and repeated updates of one row cost nothing special there.

ix_users_total_tasks serves the admin list's sort "Most tasks".

Revision ID: c6d2e8f4a1b9
Revises: a9c4e2f7b1d3
Create Date: 2026-12-05 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c6d2e8f4a1b9'
down_revision = 'a9c4e2f7b1d3'
branch_labels = None
depends_on = None

_PG_FUNCTION = """
CREATE FUNCTION tasks_count_for_users() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes refcursor;
    change record;
BEGIN
    -- Each user's net change in this statement, in id order. Static queries, so their plans
    -- are prepared once per session; an edit that changes neither the adder nor done nets to
    -- zero and writes nothing.
    IF TG_OP = 'INSERT' THEN
        OPEN changes FOR
            SELECT created_by_id AS user_id, count(*) AS total,
                   count(*) FILTER (WHERE NOT done) AS open
            FROM new_tasks WHERE created_by_id IS NOT NULL
            GROUP BY created_by_id ORDER BY created_by_id;
    ELSIF TG_OP = 'DELETE' THEN
        OPEN changes FOR
            SELECT created_by_id AS user_id, -count(*) AS total,
                   -count(*) FILTER (WHERE NOT done) AS open
            FROM old_tasks WHERE created_by_id IS NOT NULL
            GROUP BY created_by_id ORDER BY created_by_id;
    ELSE
        OPEN changes FOR
            SELECT created_by_id AS user_id, sum(sign) AS total,
                   coalesce(sum(sign) FILTER (WHERE NOT done), 0) AS open
            FROM (SELECT created_by_id, done, 1 AS sign FROM new_tasks
                  UNION ALL SELECT created_by_id, done, -1 FROM old_tasks) AS rows
            WHERE created_by_id IS NOT NULL
            GROUP BY created_by_id ORDER BY created_by_id;
    END IF;
    LOOP
        FETCH changes INTO change;
        EXIT WHEN NOT FOUND;
        IF change.total <> 0 OR change.open <> 0 THEN
            UPDATE users
            SET total_tasks = total_tasks + change.total, open_tasks = open_tasks + change.open
            WHERE id = change.user_id;
        END IF;
    END LOOP;
    CLOSE changes;
    RETURN NULL;
END
$$
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
        op.execute(_PG_FUNCTION)
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
        op.execute("DROP FUNCTION tasks_count_for_users()")
    op.drop_index('ix_users_total_tasks', table_name='users')
    # Plain DROP COLUMN (SQLite has it since 3.35), as the due_time migration explains.
    op.drop_column('users', 'total_tasks')
    op.drop_column('users', 'open_tasks')
