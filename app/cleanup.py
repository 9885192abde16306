"""The hourly clean-up job: rows kept only for a while, deleted once their while is over.

- Deleted tasks, once past the undo window (app/tasks/services.UNDO_WINDOW, an hour): until
  then "Undo" brings them back. A delete in a project purges that project's old ones too;
  this job catches projects where nobody deletes again.
- Mailed links (user_tokens) past their expiry: a used link is deleted when it is used;
  an unused one would otherwise stay for ever.
- Notifications read more than READ_NOTIFICATIONS_KEPT ago: the page lists the newest 100,
  and a read one older than that is history nobody comes back to. Unread ones are kept.
- A project's activity events past its newest activity.SHOWN: the page never reaches them.

Each step is its own short transaction, so a purge never holds locks for long, and running
it twice at once (two schedulers) deletes each row once: a DELETE of rows already gone
deletes nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from huey import crontab
from sqlalchemy import delete, func, select

from app import activity, timezones
from app.extensions import db
from app.jobs import job
from app.models import Activity, Notification, UserToken
from app.tasks.services import UNDO_WINDOW, purge_deleted

log = logging.getLogger("tasklane.jobs")

READ_NOTIFICATIONS_KEPT = timedelta(days=30)


def purge() -> dict[str, int]:
    """Delete what has outlived its use, as of now; how many of each went."""
    now = timezones.now()
    steps = {
        "deleted tasks": lambda: purge_deleted(now - UNDO_WINDOW),
        "expired links": lambda: (
            db.session.execute(delete(UserToken).where(UserToken.expires_at <= now)).rowcount
        ),
        "read notifications": lambda: (
            db.session.execute(
                delete(Notification).where(Notification.read_at < now - READ_NOTIFICATIONS_KEPT)
            ).rowcount
        ),
    }
    steps["activity past the page"] = _purge_unseen_activity
    counts = {}
    for name, step in steps.items():
        db.session.connection(execution_options={"tasklane_write": True})
        counts[name] = step()
        db.session.commit()
    log.info("clean-up: %s", ", ".join(f"{n} {name}" for name, n in counts.items()))
    return counts


def _purge_unseen_activity() -> int:
    """Each project's events older than its newest activity.SHOWN: one pass over the
    (project_id, id) index, ranking each project's events newest first."""
    ranked = select(
        Activity.id,
        func.row_number()
        .over(partition_by=Activity.project_id, order_by=Activity.id.desc())
        .label("rank"),
    ).subquery()
    unseen = select(ranked.c.id).where(ranked.c.rank > activity.SHOWN)
    return db.session.execute(delete(Activity).where(Activity.id.in_(unseen))).rowcount


@job(every=crontab(minute="7"))
def hourly() -> None:
    """At seven past each hour (off the hour, when digests and reminders are busiest)."""
    purge()
