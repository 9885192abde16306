"""Writing and reading notifications. Reminders write theirs in app/reminders.py (with the
reminder's key); assignments and invitations here."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update

from app.extensions import db
from app.models import Notification, Task, User, utcnow

PAGE_SIZE = 100  # the page lists the newest ones


def notify_assigned(task_ids: Iterable[int], assignee_id: int | None, actor_id: int) -> None:
    """Tell `assignee_id` they were assigned these tasks, unless they assigned themself."""
    ids = list(task_ids)
    if not ids or assignee_id is None or assignee_id == actor_id:
        return
    rows = db.session.execute(
        select(Task.id, Task.project_id, Task.title).where(
            Task.id.in_(ids), Task.assignee_id == assignee_id
        )
    ).all()
    for task_id, project_id, title in rows:
        db.session.add(
            Notification(
                user_id=assignee_id,
                kind="assignment",
                task_id=task_id,
                project_id=project_id,
                text=f"You were assigned “{title}”.",
            )
        )


def notify_invited(email: str, project_id: int, text: str) -> None:
    """Tell the account with `email`, if there is one and its address is verified (the
    invitations page shows nothing to anyone else), that it was invited. Nothing shows the
    inviter whether it found one: their answer was given before this runs."""
    user_id = db.session.scalar(
        select(User.id).where(
            User.email == email, User.is_active.is_(True), User.email_verified_at.is_not(None)
        )
    )
    if user_id is not None:
        db.session.add(
            Notification(user_id=user_id, kind="invitation", project_id=project_id, text=text[:300])
        )


def latest(user_id: int) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.id.desc())
            .limit(PAGE_SIZE)
        )
    )


def mark_read(notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = utcnow()
    db.session.commit()


def mark_all_read(user_id: int) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    return result.rowcount
