"""The list's text search (?q=): a case-insensitive substring of a task's title or notes,
served by an index on each database (migration c8e2f4a6b1d9; README, "Performance").

What matches is always decided by the same LIKE on lower(title) and lower(notes), LIKE's
metacharacters escaped; the indexes only find the candidates sooner:

- PostgreSQL reads that LIKE from the pg_trgm GIN index ix_tasks_search when the planner
  expects few matches, and walks the list index in order when it expects many. Nothing in
  the statement differs, so a database without pg_trgm answers the same rows, by scanning.
- SQLite cannot index LIKE '%term%'. There the FTS5 trigram table tasks_search narrows the
  rows to the task ids whose title or notes contain the term's trigrams (case folded): a
  superset of the LIKE's matches, which the LIKE then checks. A trigram query needs three
  characters, so shorter terms are the LIKE alone (they match most tasks anyway).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, case, column, func, literal_column, or_, select, table

from app.models import Task

# The FTS5 table (and, on SQLite, its shadow tables tasks_search_data, _idx, _docsize and
# _config): made by the migration, not by the models.
SQLITE_TABLE = "tasks_search"
_fts = table(SQLITE_TABLE, column("rowid"))
_fts_match = literal_column(SQLITE_TABLE).op("MATCH")
MIN_INDEXED = 3  # characters: the trigram tokenizer matches nothing shorter

# Up to this many tasks in the whole database containing the term, SQLite reads their ids
# from the index into a set and the list checks each row against it (cheap); beyond it the
# term is common, most rows match, and the list's LIKE finds a page sooner than collecting
# every match would. Measured on the bench's data (326,000 tasks, 100,000 in the listed
# project; README, "Performance"): "zephyr" (3,320 matches) went from 12-15 ms to 1.5-2 ms,
# a term that matches nothing from 200-280 ms to 6-20 ms (the list is still read, each row
# a cheap check), and "report" (19,000 matches: the LIKE) from ~1 ms to ~2 ms, the count.
COMMON = 5_000


def is_index_table(name: str) -> bool:
    """A table of the search index, which the models do not describe (Alembic's
    autogenerate and the schema tests leave them out)."""
    return name == SQLITE_TABLE or name.startswith(SQLITE_TABLE + "_")


def terms(q: str) -> dict:
    """The values a search for `q` binds: the LIKE pattern, and the FTS5 phrase when the
    term is long enough for the trigram index (else None)."""
    lowered = q.lower()
    phrase = None
    if len(lowered) >= MIN_INDEXED:
        phrase = '"' + lowered.replace('"', '""') + '"'  # one FTS5 string: no operators
    return {"pattern": "%" + escape_like(lowered) + "%", "phrase": phrase}


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def condition(dialect: str, pattern, phrase=None) -> ColumnElement[bool]:
    """Tasks whose title or notes contain the search term: `pattern` and `phrase` are the
    values of terms() or bound parameters standing for them (phrase None: no index term)."""
    like = or_(
        func.lower(Task.title).like(pattern, escape="\\"),
        func.lower(Task.notes).like(pattern, escape="\\"),
    )
    if dialect != "sqlite" or phrase is None:
        return like
    matches = select(_fts.c.rowid).where(_fts_match(phrase))
    # Uncorrelated: SQLite counts, and collects the set, once per statement.
    rare = select(func.count()).select_from(matches.limit(COMMON).subquery()).scalar_subquery()
    in_index = case((rare < COMMON, Task.id.in_(matches)), else_=True)
    return and_(in_index, like)
