"""Reminders: when each one fires, and firing it exactly once.

A reminder belongs to a task with a due time and says how long before it to remind
(`offset_minutes`: 0 is "at the due time"). It reminds one person, the task's assignee, or
its creator when nobody is assigned: the one the task is for.

Whose zone: the recipient's. Due dates are floating calendar days (each member's "today"
decides overdue), and a due time is a floating wall-clock time of that day, so "Friday
9:00" reminds an Auckland assignee at 9:00 in Auckland. `reschedule` recomputes `fire_at`
whenever the date, time, assignee or offsets change (and when the recipient changes zone);
offsets of whole days are wall-clock days ("1 day before" 9:00 is 9:00 the day before, across
a DST change too), the rest is counted in minutes.

Firing (`fire_due`, every minute on the job queue's scheduler): each due reminder is claimed
by a conditional UPDATE (... WHERE sent_at IS NULL AND not freshly claimed), so two workers
or two schedulers scanning at once fire it once: on PostgreSQL the second UPDATE waits for
the first's row lock and then finds the row claimed; SQLite runs writers one at a time. Then
the notification is written under the reminder's key (a unique column: a retry cannot add a
second), the mail queued if that row is new, and the reminder marked sent. A worker killed
after its claim leaves a claim that goes stale after STALE_CLAIM and is taken again; if it
died after the notification was written, the retry finds the notification and neither
notifies nor mails again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

from huey import crontab
from sqlalchemy import and_, delete, func, or_, select, update

from app import timezones
from app.access import is_member
from app.extensions import db
from app.jobs import job
from app.models import Notification, Reminder, Task, User
from app.tagging import insert_ignoring_duplicates

# What the editor and /account offer: minutes before the due time.
OFFSETS: dict[int, str] = {
    0: "At the due time",
    10: "10 minutes before",
    30: "30 minutes before",
    60: "1 hour before",
    120: "2 hours before",
    1440: "1 day before",
    2880: "2 days before",
    10080: "1 week before",
}
MAX_OFFSET = 40320  # four weeks, the column's CHECK
# A claim older than this is a worker that died mid-send: taken again. Well above the mail
# job's queueing time (the SMTP conversation runs in the deliver job, not here).
STALE_CLAIM = timedelta(minutes=5)
SCAN_LIMIT = 500  # reminders fired per scan; the next minute takes the rest


# Whom a task's reminders are for.
_RECIPIENT = func.coalesce(Task.assignee_id, Task.created_by_id)


def describe(offset: int) -> str:
    if offset in OFFSETS:
        return OFFSETS[offset]
    hours, minutes = divmod(offset, 60)
    return f"{hours} h {minutes} min before" if hours else f"{minutes} minutes before"


def fire_instant(due: date, at: time, offset: int, zone) -> datetime:
    """When a reminder `offset` minutes before `due` `at` fires (UTC), on the wall clock of
    `zone`. A time that does not exist that day (a DST gap) is read as the clock shows it
    once moved on."""
    days, minutes = divmod(offset, 1440)
    local = datetime.combine(due - timedelta(days=days), at, tzinfo=zone)
    return local.astimezone(UTC) - timedelta(minutes=minutes)


def offsets_of(task_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(Reminder.offset_minutes)
            .where(Reminder.task_id == task_id)
            .order_by(Reminder.offset_minutes)
        )
    )


def set_offsets(task_id: int, offsets: Iterable[int]) -> None:
    """The task reminds at exactly these offsets (the caller checked the user may edit it and
    the offsets are in range). Unchanged ones keep their state (a sent one stays sent)."""
    wanted = sorted(set(offsets))
    db.session.execute(
        delete(Reminder).where(Reminder.task_id == task_id, Reminder.offset_minutes.not_in(wanted))
    )
    if wanted:
        rows = [{"task_id": task_id, "offset_minutes": offset} for offset in wanted]
        db.session.execute(insert_ignoring_duplicates(Reminder.__table__).values(rows))
    reschedule([task_id])


def add_default(task_id: int) -> None:
    """A task that just got a time, with no reminder of its own, gets the default reminder
    (/account) of the person its reminders are for: its assignee, or its creator."""
    offset = db.session.scalar(
        select(User.default_reminder).join(Task, User.id == _RECIPIENT).where(Task.id == task_id)
    )
    if offset is not None and not offsets_of(task_id):
        set_offsets(task_id, [offset])


def copy_reminders(new_id_of: dict[int, int]) -> None:
    """The next occurrences of repeating tasks remind as their sources did (`new_id_of`:
    source id -> new task id); the new instants are computed from the new dates."""
    if not new_id_of:
        return
    rows = db.session.execute(
        select(Reminder.task_id, Reminder.offset_minutes).where(Reminder.task_id.in_(new_id_of))
    ).all()
    if rows:
        db.session.execute(
            insert_ignoring_duplicates(Reminder.__table__).values(
                [{"task_id": new_id_of[task_id], "offset_minutes": o} for task_id, o in rows]
            )
        )
        reschedule(set(new_id_of.values()))


def reschedule(task_ids: Iterable[int]) -> None:
    """Recompute the reminders of these tasks: recipient, instant and key. A reminder whose
    firing changed is pending again, unless its new instant is already past (a reminder
    is not sent late for a time set in the past); one whose firing is the same is left as
    it is, sent or not."""
    ids = list(task_ids)
    if not ids:
        return
    rows = db.session.execute(
        select(
            Reminder.id,
            Reminder.task_id,
            Reminder.offset_minutes,
            Reminder.key,
            Task.due_date,
            Task.due_time,
            User.id,
            User.timezone,
        )
        .join(Task, Task.id == Reminder.task_id)
        # Only a member of the task's project: someone removed is never reminded of it.
        .outerjoin(User, and_(User.id == _RECIPIENT, is_member(Task.project_id, User.id)))
        .where(Reminder.task_id.in_(ids))
    ).all()
    now = timezones.now()
    for rid, task_id, offset, key, due, at, user_id, zone_name in rows:
        fire_at = new_key = None
        if due is not None and at is not None and user_id is not None:
            zone = timezones.zone_of(SimpleNamespace(timezone=zone_name))
            fire_at = fire_instant(due, at, offset, zone)
            new_key = f"r{task_id}-{offset}-u{user_id}-{fire_at:%Y%m%dT%H%MZ}"
        if new_key == key:
            continue
        past = fire_at is None or fire_at <= now
        db.session.execute(
            update(Reminder)
            .where(Reminder.id == rid)
            .values(
                user_id=user_id,
                fire_at=fire_at,
                key=new_key,
                claimed_at=None,
                sent_at=now if past else None,
            )
        )


def reschedule_user(user_id: int) -> None:
    """The user's zone changed: their pending reminders move with it."""
    task_ids = db.session.scalars(
        select(Reminder.task_id).where(Reminder.user_id == user_id, Reminder.sent_at.is_(None))
    ).all()
    reschedule(set(task_ids))


# ---- firing -----------------------------------------------------------------------------


def _write() -> None:
    """Begin a write transaction (SQLite: the write lock up front, app/database.py)."""
    db.session.connection(execution_options={"tasklane_write": True})


def _claimable(now: datetime):
    return and_(
        Reminder.sent_at.is_(None),
        or_(Reminder.claimed_at.is_(None), Reminder.claimed_at < now - STALE_CLAIM),
    )


def due_ids(now: datetime) -> list[int]:
    """The reminders due at `now`, of tasks still open, earliest first."""
    return list(
        db.session.scalars(
            select(Reminder.id)
            .join(Task, Task.id == Reminder.task_id)
            .where(
                Reminder.fire_at <= now,
                Reminder.user_id.is_not(None),
                _claimable(now),
                Task.done.is_(False),
                Task.deleted_at.is_(None),
            )
            .order_by(Reminder.fire_at, Reminder.id)
            .limit(SCAN_LIMIT)
        )
    )


def fire_due() -> int:
    """Fire every reminder due now; how many this call fired (others may fire some)."""
    now = timezones.now()
    ids = due_ids(now)
    db.session.rollback()  # end the read before each claim's own write transaction
    return sum(fire(rid) for rid in ids)


def fire(reminder_id: int) -> bool:
    """Claim, notify (and mail), mark: whether this call fired it."""
    now = timezones.now()
    _write()
    claimed = db.session.execute(
        update(Reminder)
        .where(Reminder.id == reminder_id, _claimable(now))
        .values(claimed_at=now)
        .returning(Reminder.id)
        .execution_options(synchronize_session=False)
    ).first()
    db.session.commit()
    if claimed is None:
        return False
    _write()
    # (Not one statement with User: the task's assignee_name subquery would correlate to it.)
    reminder, task = db.session.execute(
        select(Reminder, Task)
        .join(Task, Task.id == Reminder.task_id)
        .where(Reminder.id == reminder_id)
    ).one()
    user = db.session.get(User, reminder.user_id)
    text = f"Reminder: “{task.title}” is due {_when(task, user)}."
    created = db.session.scalar(
        insert_ignoring_duplicates(Notification.__table__)
        .values(
            user_id=user.id,
            kind="reminder",
            task_id=task.id,
            project_id=task.project_id,
            text=text[:300],
            key=reminder.key,
            created_at=now,
        )
        .returning(Notification.id)
    )
    db.session.commit()
    if created is not None:
        _mail(user, task)
        db.session.rollback()  # end its reads (and the unsubscribe key's) before the write
    _write()
    db.session.execute(
        update(Reminder)
        .where(Reminder.id == reminder_id, Reminder.sent_at.is_(None))
        .values(sent_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return True


def _when(task: Task, user: User) -> str:
    today = timezones.today_for(user)
    day = "today" if task.due_date == today else f"{task.due_date:%a %d %b}"
    return f"{day} at {task.due_time:%H:%M}"


def _mail(user: User, task: Task) -> None:
    """Through the one rule for mail to an account's owner: only to a verified address; and
    only if they did not turn reminder mail off (/account, or its unsubscribe link)."""
    from app.mail import external_url, send_to_user
    from app.mail.unsubscribe import REMINDERS, url_for_user

    if not user.reminder_mail:
        return
    send_to_user(
        user,
        "reminder",
        f"Reminder: {task.title}",
        name=user.display_name,
        title=task.title,
        when=_when(task, user),
        task_url=external_url("tasks.detail", task_id=task.id),
        unsubscribe_url=url_for_user(user, REMINDERS),
        unsubscribe_label="Stop reminder emails",
    )


@job(every=crontab(minute="*"))
def scan() -> None:
    """Every minute, on the queue's scheduler (`make worker`, or the consumer gunicorn
    starts): fire what is due."""
    fire_due()
