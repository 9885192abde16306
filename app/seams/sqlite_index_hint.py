"""SQLite's `tasks INDEXED BY ix_name`, rendered from `select().with_hint(tasks, text, "sqlite")`.

SQLAlchemy's SQLite compiler drops table hints: `SQLiteCompiler.get_from_hint_text` is the
base compiler's, which returns None (SQLAlchemy 2.1). SQLite does have one, INDEXED BY, and
the cross-project views (app/tasks/views.py) need it: SQLite runs no ANALYZE here, and without
statistics it reads an "... AND id > ?" keyset piece through the `created` index and filters
(a range on id beats four equalities in its heuristics). Named, a piece reads its sort's
index, and a plan that cannot use that index is an error rather than a slow page.

Relies on: `SQLiteCompiler.get_from_hint_text(self, table, text)` being called for each
FROM table with a dialect hint (tests/test_seams.py has the canary).
"""

from __future__ import annotations

from sqlalchemy.dialects.sqlite.base import SQLiteCompiler


def _hint_text(_compiler, _table, text: str) -> str:
    return text


def install() -> None:
    SQLiteCompiler.get_from_hint_text = _hint_text
