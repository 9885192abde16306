"""tasks.tag_ids on PostgreSQL: each task's tag ids on its own row, kept by triggers

The tag filter (app/tasks/listing.tagged) walked the list index in order and probed
task_tags' key for every task it passed: a page of a tag on one task in 18 probed about 900
times (2,750 buffers, 2.9 ms of the page's 3.2 ms in the database at 100,000 tasks). With
the ids on the row, the walk checks each task on the row it fetches anyway: 0.4 ms (EXPLAIN
ANALYZE on the bench's data). A GIN index on the array serves a rare tag: its few tasks,
then a sort of just those, not a walk of the whole list.

PostgreSQL only, and described by no model (app/unmodelled.py): SQLite's tag filter joins
per row, which costs it little (listing.tagged says why). The column is a copy of task_tags,
never written by the app: statement-level triggers on task_tags add and remove ids, in the
writing statement's transaction, including the deletes that ON DELETE CASCADE makes when a
tag or a task goes. Each changes a task's array relative to its current value (|| and a
filter of it), never by reading task_tags again: two transactions tagging one task at once
then both count, as the second's UPDATE works on the row the first committed. The tasks are
locked in id order first, so that two statements tagging the same tasks cannot deadlock.

Revision ID: a3e7c1f9d4b2
Revises: e9b4c2a7d3f1
Create Date: 2026-12-04 18:00:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "a3e7c1f9d4b2"
down_revision = "e9b4c2a7d3f1"
branch_labels = None
depends_on = None

_PG_KEEP = """
CREATE FUNCTION task_tag_ids_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM 1 FROM tasks WHERE id IN (SELECT task_id FROM old_links)
        ORDER BY id FOR NO KEY UPDATE;
        UPDATE tasks
        SET tag_ids = ARRAY(SELECT kept FROM unnest(tasks.tag_ids) AS kept WHERE kept <> ALL (gone.ids))
        FROM (SELECT task_id, array_agg(tag_id) AS ids FROM old_links GROUP BY task_id) AS gone
        WHERE tasks.id = gone.task_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM 1 FROM tasks WHERE id IN (SELECT task_id FROM new_links)
        ORDER BY id FOR NO KEY UPDATE;
        UPDATE tasks SET tag_ids = tasks.tag_ids || added.ids
        FROM (SELECT task_id, array_agg(tag_id) AS ids FROM new_links GROUP BY task_id) AS added
        WHERE tasks.id = added.task_id;
    END IF;
    RETURN NULL;
END
$$;
"""

_PG_TRIGGER = {
    "INSERT": "REFERENCING NEW TABLE AS new_links",
    "DELETE": "REFERENCING OLD TABLE AS old_links",
    "UPDATE": "REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links",
}

_BACKFILL = """
UPDATE tasks SET tag_ids = links.ids
FROM (SELECT task_id, array_agg(tag_id ORDER BY tag_id) AS ids FROM task_tags GROUP BY task_id)
    AS links
WHERE tasks.id = links.task_id
"""


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    # A constant default: PostgreSQL adds the column without rewriting the table.
    op.execute("ALTER TABLE tasks ADD COLUMN tag_ids integer[] NOT NULL DEFAULT '{}'")
    # Nobody tags between the triggers' creation and the backfill: the lock lasts until the
    # migration's transaction commits.
    op.execute("LOCK TABLE task_tags IN SHARE ROW EXCLUSIVE MODE")
    op.execute(_PG_KEEP)
    for kind, referencing in _PG_TRIGGER.items():
        op.execute(
            f"CREATE TRIGGER task_tag_ids_{kind.lower()} AFTER {kind} ON task_tags"
            f" {referencing} FOR EACH STATEMENT EXECUTE FUNCTION task_tag_ids_keep()"
        )
    op.execute(_BACKFILL)
    # A rare tag's tasks, without a walk of the whole list (listing.tagged). A small
    # pending list (64 kB, 4 MB by default): every read of the index reads all of it, and
    # the planner costs it so (after the bench's seed a rare tag's read cost the planner's
    # estimate of a walk of the list; migration d7a3f1c9e5b2 measured the same for search).
    op.execute(
        "CREATE INDEX ix_tasks_tag_ids ON tasks USING gin (tag_ids)"
        " WITH (gin_pending_list_limit = 64) WHERE deleted_at IS NULL"
    )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for kind in _PG_TRIGGER:
        op.execute(f"DROP TRIGGER task_tag_ids_{kind.lower()} ON task_tags")
    op.execute("DROP FUNCTION task_tag_ids_keep()")
    op.execute("DROP INDEX ix_tasks_tag_ids")
    op.execute("ALTER TABLE tasks DROP COLUMN tag_ids")
