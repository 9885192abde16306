"""Admin actions on users and the admin pages' queries.

The actions are shared by the web console and `flask users ...`. Each one locks what its guards
depend on inside the caller's write transaction, checks the guards, changes the user, records
an audit entry and commits. A refused action raises ActionRefused (409 on the web, an error
message on the command line) after rolling back, so no lock outlives it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, exists, func, or_, select

from app import audit, login_sessions
from app.extensions import db
from app.models import AuditEntry, LoginSession, Task, User, utcnow
from app.passwords import hash_password

PER_PAGE = 50
SORTS = {
    "email": "Email",
    "-created": "Newest first",
    "-last_login": "Last login",
    "-tasks": "Most tasks",
}


class ActionRefused(Exception):
    """A guard refused the action; str(exc) is the message for the person who asked."""


# ---- Actions ----------------------------------------------------------------------------


def _lock(target: User) -> int:
    """Lock the active admins, then the target; return how many active admins there are.

    The count is taken inside the write transaction that acts on it: on PostgreSQL the row
    locks make a concurrent action wait and then see this one's outcome; SQLite runs writing
    transactions one at a time (BEGIN IMMEDIATE). So two admins demoting each other at once
    cannot leave nobody in charge. Locks are taken in one order (admins by id, then the
    target), so two actions cannot deadlock.
    """
    admins = db.session.scalars(
        select(User.id)
        .where(User.is_admin.is_(True), User.is_active.is_(True))
        .order_by(User.id)
        .with_for_update()
    ).all()
    db.session.refresh(target, with_for_update=True)
    return len(admins)


def _refuse(message: str):
    db.session.rollback()
    raise ActionRefused(message)


def _guard_self(actor: login_sessions.Actor | None, target: User, verb: str) -> None:
    if actor is not None and actor.id == target.id:
        _refuse(f"You cannot {verb} your own account. Ask another admin to do it.")


def _guard_last_admin(target: User, active_admins: int) -> None:
    if target.is_admin and target.is_active and active_admins <= 1:
        _refuse(
            f"{target.email} is the last active admin, and a Tasklane instance always keeps "
            "one. Make another user an admin first."
        )


def deactivate(target: User, *, actor: login_sessions.Actor | None) -> None:
    """The user can no longer sign in, and every session of theirs ends now."""
    admins = _lock(target)
    _guard_self(actor, target, "deactivate")
    _guard_last_admin(target, admins)
    target.is_active = False
    ended = login_sessions.end_all(target)
    audit.record("user_deactivated", actor=actor, target=target, detail=f"{ended} session(s) ended")
    db.session.commit()


def activate(target: User, *, actor: login_sessions.Actor | None) -> None:
    _lock(target)
    target.is_active = True
    audit.record("user_activated", actor=actor, target=target)
    db.session.commit()


def promote(target: User, *, actor: login_sessions.Actor | None) -> None:
    _lock(target)
    target.is_admin = True
    audit.record("user_promoted", actor=actor, target=target)
    db.session.commit()


def demote(target: User, *, actor: login_sessions.Actor | None) -> None:
    admins = _lock(target)
    _guard_self(actor, target, "remove admin rights from")
    _guard_last_admin(target, admins)
    target.is_admin = False
    audit.record("user_demoted", actor=actor, target=target)
    db.session.commit()


def set_password(
    target: User,
    password: str,
    *,
    actor: login_sessions.Actor | None,
    temporary: bool = True,
) -> None:
    """Set a password (already checked against the policy); a temporary one must be changed
    at the next sign-in. Every session of the user ends: whoever held them must sign in anew."""
    _lock(target)
    _guard_self(actor, target, "set a temporary password for")
    target.password_hash = hash_password(password)
    target.must_change_password = temporary
    ended = login_sessions.end_all(target)
    kind = "temporary" if temporary else "permanent"
    audit.record(
        "user_password_set", actor=actor, target=target, detail=f"{kind}; {ended} session(s) ended"
    )
    db.session.commit()


def delete_user(target: User, *, actor: login_sessions.Actor | None) -> None:
    """Delete the user with their tasks, tags and sessions (the database cascades)."""
    admins = _lock(target)
    _guard_self(actor, target, "delete")
    _guard_last_admin(target, admins)
    audit.record("user_deleted", actor=actor, target=target)
    # The entry is written first; deleting the user then sets its target key to NULL and
    # the email snapshot keeps saying who it was.
    db.session.flush()
    db.session.delete(target)
    db.session.commit()


# ---- Queries ----------------------------------------------------------------------------


class _Filters:
    """Query-string filters: args() gives the url_for() arguments for a changed copy, leaving
    out defaults so links stay short (changing anything but the page goes back to page 1)."""

    def args(self, **changes) -> dict:
        changed = replace(self, **{"page": 1, **changes})
        defaults = asdict(type(self)())
        return {k: v for k, v in asdict(changed).items() if v != defaults[k]}


@dataclass(frozen=True)
class UserFilters(_Filters):
    q: str = ""
    role: str = ""  # "" | "admin" | "user"
    status: str = ""  # "" | "active" | "deactivated"
    sort: str = "email"
    page: int = 1


def _task_totals():
    """Open and total task counts per owner: one grouped query, whatever the number of users."""
    return (
        select(
            Task.owner_id.label("owner_id"),
            func.count().filter(Task.done.is_(False)).label("open"),
            func.count().label("total"),
        )
        .group_by(Task.owner_id)
        .subquery()
    )


def _users_query(filters: UserFilters) -> Select:
    stmt = select(User)
    if filters.q:
        stmt = stmt.where(
            or_(
                User.email.icontains(filters.q, autoescape=True),
                User.display_name.icontains(filters.q, autoescape=True),
            )
        )
    if filters.role:
        stmt = stmt.where(User.is_admin.is_(filters.role == "admin"))
    if filters.status:
        stmt = stmt.where(User.is_active.is_(filters.status == "active"))
    if filters.sort == "-tasks":
        totals = _task_totals()
        stmt = stmt.outerjoin(totals, totals.c.owner_id == User.id).order_by(
            func.coalesce(totals.c.total, 0).desc()
        )
    elif filters.sort == "-created":
        stmt = stmt.order_by(User.created_at.desc())
    elif filters.sort == "-last_login":
        stmt = stmt.order_by(User.last_login_at.desc().nulls_last())
    else:
        stmt = stmt.order_by(User.email)
    return stmt.order_by(User.id)


def user_page(filters: UserFilters) -> tuple[Pagination, dict[int, tuple[int, int]]]:
    """One page of users and their (open, total) task counts, in a fixed number of queries."""
    page = db.paginate(_users_query(filters), page=filters.page, per_page=PER_PAGE, error_out=False)
    return page, task_counts([user.id for user in page.items])


def task_counts(user_ids: list[int]) -> dict[int, tuple[int, int]]:
    if not user_ids:
        return {}
    rows = db.session.execute(
        select(
            Task.owner_id,
            func.count().filter(Task.done.is_(False)),
            func.count(),
        )
        .where(Task.owner_id.in_(user_ids))
        .group_by(Task.owner_id)
    )
    return {owner: (open_, total) for owner, open_, total in rows}


@dataclass(frozen=True)
class AuditFilters(_Filters):
    actor: str = ""
    target: str = ""
    action: str = ""
    page: int = 1


def audit_page(filters: AuditFilters) -> Pagination:
    stmt = select(AuditEntry)
    if filters.actor:
        stmt = stmt.where(AuditEntry.actor_email == filters.actor)
    if filters.target:
        stmt = stmt.where(AuditEntry.target_email == filters.target)
    if filters.action:
        stmt = stmt.where(AuditEntry.action == filters.action)
    stmt = stmt.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    return db.paginate(stmt, page=filters.page, per_page=PER_PAGE, error_out=False)


def recent_events(target_email: str, limit: int = 10) -> list[AuditEntry]:
    """The newest entries about one user, for their page."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.target_email == target_email)
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    )


# ---- Dashboard --------------------------------------------------------------------------

CHART_DAYS = 30


@dataclass(frozen=True)
class DayCount:
    day: date
    created: int
    completed: int


@dataclass(frozen=True)
class Dashboard:
    users: int
    active_users: int
    admins: int
    active_7: int
    active_30: int
    days: list[DayCount]

    @property
    def created_total(self) -> int:
        return sum(d.created for d in self.days)

    @property
    def completed_total(self) -> int:
        return sum(d.completed for d in self.days)

    @property
    def peak(self) -> int:
        return max([1, *(max(d.created, d.completed) for d in self.days)])


def _active_since(since) -> int:
    """Users who signed in, or used a session, since then."""
    used_session = exists().where(
        LoginSession.user_id == User.id, LoginSession.last_seen_at >= since
    )
    return db.session.scalar(
        select(func.count()).select_from(User).where(or_(User.last_login_at >= since, used_session))
    )


def _utc_day(column):
    """The UTC calendar day of a timestamp as 'YYYY-MM-DD', the same on both databases."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column)  # SQLite keeps UTC without an offset


def _per_day(column, since) -> dict[str, int]:
    day = _utc_day(column)
    rows = db.session.execute(select(day, func.count()).where(column >= since).group_by(day)).all()
    return dict(rows)


def dashboard() -> Dashboard:
    now = utcnow()
    first_day = now.date() - timedelta(days=CHART_DAYS - 1)
    since = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=CHART_DAYS - 1)
    users, active, admins = db.session.execute(
        select(
            func.count(),
            func.count().filter(User.is_active.is_(True)),
            func.count().filter(User.is_admin.is_(True), User.is_active.is_(True)),
        ).select_from(User)
    ).one()
    created = _per_day(Task.created_at, since)
    completed = _per_day(Task.done_at, since)
    days = []
    for offset in range(CHART_DAYS):
        day = first_day + timedelta(days=offset)
        key = day.isoformat()
        days.append(DayCount(day, created.get(key, 0), completed.get(key, 0)))
    return Dashboard(
        users=users,
        active_users=active,
        admins=admins,
        active_7=_active_since(now - timedelta(days=7)),
        active_30=_active_since(now - timedelta(days=30)),
        days=days,
    )
