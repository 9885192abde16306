"""The tags page's queries: each tag with its task counts."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Tag, Task, task_tags


def tag_counts(owner_id: int, tag_id: int | None = None) -> list[tuple[Tag, int, int]]:
    """The owner's tags (or one) with open and total task counts, in one grouped query."""

    live = select(task_tags.c.tag_id, Task.done).join(Task, Task.id == task_tags.c.task_id)
    live = live.where(Task.deleted_at.is_(None)).subquery()
    stmt = (
        select(
            Tag,
            func.count(live.c.tag_id).filter(live.c.done.is_(False)),
            func.count(live.c.tag_id),
        )
        .outerjoin(live, live.c.tag_id == Tag.id)
        .where(Tag.owner_id == owner_id, *([Tag.id == tag_id] if tag_id else []))
        .group_by(Tag.id)
        .order_by(Tag.name_key)
    )
    return [(tag, open_count, total) for tag, open_count, total in db.session.execute(stmt)]
