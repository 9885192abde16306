"""Helpers for task tests: rows made directly, and SQL statements counted per request."""

from __future__ import annotations

import contextlib
from datetime import date

from sqlalchemy import event, select

from app.extensions import db
from app.models import Tag, Task, User
from app.tasks.dates import today


def user_id(app, email="ada@example.com") -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def add_task(app, email="ada@example.com", *, tags=(), **fields) -> int:
    with app.app_context():
        owner = db.session.scalar(select(User.id).where(User.email == email))
        task = Task(owner_id=owner, title=fields.pop("title", "A task"), **fields)
        # No autoflush: looking up a second existing tag would flush the first one's link to
        # a task not yet in the session (SQLAlchemy warns, and the suite makes that an error).
        with db.session.no_autoflush:
            for name in tags:
                tag = db.session.scalar(
                    select(Tag).where(Tag.owner_id == owner, Tag.name_key == name.casefold())
                ) or Tag(owner_id=owner, name=name, colour="#336699")
                task.tags.append(tag)
        db.session.add(task)
        db.session.commit()
        return task.id


def get_task(app, task_id) -> Task | None:
    with app.app_context():
        task = db.session.get(Task, task_id)
        if task is not None:
            task.tags  # noqa: B018 (load before the session closes)
            db.session.expunge(task)
        return task


@contextlib.contextmanager
def count_queries(app):
    """Count SQL statements sent while the block runs (a list, so it can be read after)."""
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def before(_conn, _cursor, statement, *_args):
        # SQLite's explicit BEGIN (app/database.py) is transaction control, not a query.
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def app_today(app) -> date:
    """Today as the app sees it (its TIMEZONE), never the machine's local date: a test that
    used date.today() would fail for hours a day on a machine far from the app's zone."""
    with app.app_context():
        return today()
