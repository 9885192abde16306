"""What migrations make that no model describes, so that Alembic's autogenerate
(migrations/env.py) and the schema tests (tests/test_database.py) leave it out: SQLite's
search index tables (app/tasks/search.py), and PostgreSQL's tasks.tag_ids (a copy of each
task's task_tags rows kept by triggers for the tag filter, app/tasks/listing.tagged) and its
index (migration a3e7c1f9d4b2 says why no model describes them)."""

from __future__ import annotations

from app.tasks.search import is_index_table

COLUMNS = {("tasks", "tag_ids")}
INDEXES = {"ix_tasks_tag_ids"}


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's include_name hook: False for what no model describes."""
    if type_ == "table":
        return not is_index_table(name)
    if type_ == "column":
        return (parent_names.get("table_name"), name) not in COLUMNS
    if type_ == "index":
        return name not in INDEXES
    return True
