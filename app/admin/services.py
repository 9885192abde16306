"""The admin pages' queries: the user list, the audit log and the dashboard.

The actions on a user live in app/user_actions.py, below the features: the console,
`flask users ...` and the account page share them and their guards.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, exists, func, or_, select

from app.extensions import db
from app.models import AuditEntry, LoginSession, Task, User, utcnow

PER_PAGE = 50
SORTS = {
    "email": "Email",
    "-created": "Newest first",
    "-last_login": "Last login",
    "-tasks": "Most tasks",
}


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
        stmt = stmt.order_by(User.total_tasks.desc())  # ix_users_total_tasks, with the id
    elif filters.sort == "-created":
        stmt = stmt.order_by(User.created_at.desc())
    elif filters.sort == "-last_login":
        stmt = stmt.order_by(User.last_login_at.desc().nulls_last())
    else:
        stmt = stmt.order_by(User.email)
    return stmt.order_by(User.id)


def user_page(filters: UserFilters) -> Pagination:
    """One page of users, each with its task counters (User.open_tasks, User.total_tasks):
    no task is counted to show them."""
    return db.paginate(_users_query(filters), page=filters.page, per_page=PER_PAGE, error_out=False)


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
