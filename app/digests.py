"""The daily digest: once a day, at the hour each user chose on /account (in their zone), a
mail of what is overdue, due today, and assigned to them, across the projects they can see.

Opt-in: users.digest_hour is None until the user picks an hour. A job on the queue's
scheduler runs every minute (`scan`). For each zone its opted-in users are in, it works
out the local hour and date there, and takes the users whose hour has come (up to
CATCH_UP hours late, so a scheduler that was down at 8:00 still sends at 9:15) and who have
not had that local date's digest. users.digest_sent_on is the once-a-day key: each digest
is claimed by a conditional UPDATE (... SET digest_sent_on = the local date WHERE it is not
that date yet), so two schedulers or workers scanning in the same minute send it once (on
PostgreSQL the second UPDATE waits on the row lock and then matches nothing; SQLite runs
writers one at a time). A worker killed between the claim and queueing the mail loses that
day's digest: it never doubles it.

Mail goes through send_to_user (verified addresses only) with a one-click unsubscribe link
(app/mail/unsubscribe.py). A day with nothing to say sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace

from huey import crontab
from sqlalchemy import and_, or_, select, update

from app import access, timezones
from app.extensions import db
from app.jobs import job
from app.models import Project, Task, User
from app.tasks.dates import is_overdue

# How many hours after the chosen one a digest may still go out (a scheduler that was down).
CATCH_UP = 2
SECTION_LIMIT = 25  # lines per section; "and N more" beyond
HOURS = range(24)


@dataclass(frozen=True)
class Line:
    title: str
    when: str
    project: str
    url: str


def hour_label(hour: int) -> str:
    return f"{hour:02d}:00"


def _zone(name: str | None):
    return timezones.zone_of(SimpleNamespace(timezone=name))


def due_user_ids(now: datetime) -> list[tuple[int, date]]:
    """(user id, their local date) for every opted-in user whose digest is due at `now`."""
    opted_in = and_(
        User.digest_hour.is_not(None),
        User.is_active.is_(True),
        User.email_verified_at.is_not(None),
    )
    zones = db.session.scalars(select(User.timezone).where(opted_in).distinct()).all()
    found = []
    for name in zones:
        local = now.astimezone(_zone(name))
        in_zone = User.timezone.is_(None) if name is None else User.timezone == name
        ids = db.session.scalars(
            select(User.id).where(
                opted_in,
                in_zone,
                User.digest_hour.between(local.hour - CATCH_UP, local.hour),
                or_(User.digest_sent_on.is_(None), User.digest_sent_on != local.date()),
            )
        ).all()
        found += [(user_id, local.date()) for user_id in ids]
    return found


def claim(user_id: int, local_date: date) -> bool:
    """Take `user_id`'s digest for `local_date`: True for the one caller that does."""
    db.session.connection(execution_options={"tasklane_write": True})
    claimed = db.session.execute(
        update(User)
        .where(
            User.id == user_id,
            User.digest_hour.is_not(None),
            or_(User.digest_sent_on.is_(None), User.digest_sent_on != local_date),
        )
        .values(digest_sent_on=local_date)
        .returning(User.id)
        .execution_options(synchronize_session=False)
    ).first()
    db.session.commit()
    return claimed is not None


def sections(user: User, local_now: datetime) -> dict[str, list[Line]]:
    """What the digest lists for `user`: open tasks of the projects they are a member of,
    overdue or due today, and the rest of those assigned to them (soonest first)."""
    from app.mail import external_url

    today = local_now.date()
    rows = db.session.execute(
        select(Task, Project.name)
        .join(Project, Project.id == Task.project_id)
        .where(
            *access.reachable(Task, user.id),
            Task.done.is_(False),
            Project.archived_at.is_(None),
            or_(Task.due_date <= today, Task.assignee_id == user.id),
        )
        .order_by(Task.due_date.is_(None), Task.due_date, Task.due_time, Task.id)
    ).all()
    found: dict[str, list[Line]] = {"overdue": [], "today": [], "assigned": []}
    for task, project in rows:
        if task.due_date and is_overdue(task.due_date, task.due_time, today, local_now.time()):
            section = "overdue"
        elif task.due_date == today:
            section = "today"
        else:
            section = "assigned"
        found[section].append(
            Line(
                title=task.title,
                when=_when(task),
                project=project,
                url=external_url("tasks.detail", task_id=task.id),
            )
        )
    return found


def _when(task: Task) -> str:
    if task.due_date is None:
        return "no due date"
    day = f"{task.due_date:%a %d %b}"
    return f"{day} {task.due_time:%H:%M}" if task.due_time else day


def send(user_id: int, local_date: date) -> bool:
    """Mail `user_id` their digest (already claimed); whether there was anything to say."""
    from app.mail import external_url, send_to_user
    from app.mail.unsubscribe import DIGEST, url_for_user

    user = db.session.get(User, user_id)
    found = sections(user, timezones.now_for(user))
    if not any(found.values()):
        return False
    context = {
        name: [line.__dict__ for line in lines[:SECTION_LIMIT]] for name, lines in found.items()
    }
    more = {name: max(0, len(lines) - SECTION_LIMIT) for name, lines in found.items()}
    return send_to_user(
        user,
        "digest",
        f"Your Tasklane day: {local_date:%A %d %B}",
        name=user.display_name,
        more=more,
        tasks_url=external_url("tasks.today"),
        account_url=external_url("account.page"),
        unsubscribe_url=url_for_user(user, DIGEST),
        unsubscribe_label="Stop the daily digest",
        **context,
    )


def send_due() -> int:
    """Send every digest due now; how many this call mailed (others may send some)."""
    due = due_user_ids(timezones.now())
    sent = 0
    for user_id, day in due:
        db.session.rollback()  # end the reads before each claim's own write transaction
        if claim(user_id, day):
            sent += send(user_id, day)
    db.session.rollback()
    return sent


@job(every=crontab(minute="*"))
def scan() -> None:
    """Every minute, on the queue's scheduler: send the digests whose hour has come."""
    send_due()
