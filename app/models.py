"""Database models: users, their login sessions and the links mailed to them, projects and
who may use them, tasks and tags, and the background jobs that failed."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time

from flask_login import UserMixin
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    and_,
    event,
    func,
    select,
    text,
)
from sqlalchemy.orm import (
    Mapped,
    column_property,
    deferred,
    mapped_column,
    relationship,
    synonym,
    validates,
)

from app.extensions import db
from app.palette import DEFAULT_COLOUR


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both databases (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime stored; use app.models.utcnow()")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Priority(enum.IntEnum):
    NONE = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.capitalize()


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalised (lower-case), so the unique constraint is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(80))
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An IANA zone name ("Europe/Paris"): where "today" is for this user (app/timezones.py).
    # NULL follows the instance's TIMEZONE. 64: twice the longest IANA name.
    timezone: Mapped[str | None] = mapped_column(String(64))
    # When the user proved that mail to `email` reaches them (opened a link sent there);
    # None until then. Mail other than recovery goes only to a verified address
    # (app/mail/sending.py), and invitations wait for one (app/sharing).
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Minutes before the due time that a new task with a time reminds its assignee (or its
    # creator); None: no reminder unless one is chosen (app/reminders).
    default_reminder: Mapped[int | None] = mapped_column(Integer)
    # The daily digest (app/digests.py): the local hour (0-23, in the user's zone) it is
    # mailed at, None when off; and the local date of the last one, its once-a-day key.
    digest_hour: Mapped[int | None] = mapped_column(SmallInteger)
    digest_sent_on: Mapped[date | None]
    # Whether reminders are mailed as well as shown in the app (unsubscribe turns it off).
    reminder_mail: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    # Random, signed into every unsubscribe link (app/unsubscribe.py): a new value voids
    # the links mailed before. Filled the first time a link is made.
    mail_key: Mapped[str | None] = mapped_column(String(32))
    # The tasks this user added (tasks.created_by_id; deleted ones waiting for "Undo"
    # included) and how many of them are open: what the admin pages show and sort by. Kept by
    # the database's triggers on tasks (migration c6d2e8f4a1b9 says why and how), in the
    # transaction of every write (on PostgreSQL, as it commits), so the app never writes them
    # and a page never counts tasks.
    open_tasks: Mapped[int] = mapped_column(Integer, server_default="0")
    total_tasks: Mapped[int] = mapped_column(Integer, server_default="0")

    login_sessions: Mapped[list[LoginSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    # Set by the user loader: the login session this request belongs to.
    current_login_session = None  # login_sessions.CurrentLogin or a new LoginSession (not a column)

    @property
    def email_verified(self) -> bool:
        """As login_sessions.SignedIn has it, so views read either alike."""
        return self.email_verified_at is not None

    def get_id(self) -> str:
        # flask-login keeps this in the session and remember cookies: it is the login-session
        # token, not the user id, so that ending the server-side record ends the cookie too.
        if self.current_login_session is None or self.current_login_session.token is None:
            raise RuntimeError("user has no login session")
        return self.current_login_session.token

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


# The admin list's sort "Most tasks": read in order from the index, ties by id.
Index("ix_users_total_tasks", User.total_tasks.desc(), User.id)


class LoginSession(db.Model):
    """One signed-in browser: ended by logout, password change, deactivation or expiry."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the token: a copy of the database does not hand out live sessions.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remember: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")

    user: Mapped[User] = relationship(back_populates="login_sessions")
    owner_id = synonym("user_id")  # so access.get_or_404 works on login sessions too

    # The raw token exists only in memory, for the request that created or presented it.
    token = None  # str | None (not a column)


task_tags = Table(
    "task_tags",
    db.metadata,
    Column("task_id", ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Role(enum.IntEnum):
    """What a member may do in a project; each role can do everything the ones below it can.

    Compared as numbers (`role >= Role.EDITOR`) in Python and in SQL alike."""

    VIEWER = 1  # sees everything, changes nothing
    EDITOR = 2  # adds, edits, ticks, deletes, tags and assigns tasks
    ADMIN = 3  # also manages members and the project's settings
    OWNER = 4  # also deletes the project or hands it to an admin; one per project

    @property
    def label(self) -> str:
        return self.name.capitalize()


# A project name's length in characters (the column, its check and the form).
PROJECT_NAME_MAX = 80


class Project(db.Model):
    """A list of tasks that its members share. Every user has one Inbox (`inbox_of`), which
    is theirs alone: it cannot be shared, renamed, archived or deleted."""

    __tablename__ = "projects"
    __table_args__ = (CheckConstraint("length(name) BETWEEN 1 AND 80", name="name_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(PROJECT_NAME_MAX))
    # casefold(name): what `+name` in quick add compares.
    name_key: Mapped[str] = mapped_column(String(PROJECT_NAME_MAX))
    colour: Mapped[str] = mapped_column(String(7), default=DEFAULT_COLOUR)
    inbox_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Its tasks not done and not deleted: what the navigation shows. Kept by the database's
    # triggers on tasks (migration e4b1c7d2a9f3 says why and how), like User.open_tasks, so
    # the app never writes it and a page never counts tasks.
    open_tasks: Mapped[int] = mapped_column(Integer, server_default="0")

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="project", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_inbox(self) -> bool:
        return self.inbox_of_id is not None

    @validates("name")
    def _keep_key_in_step(self, _key: str, name: str) -> str:
        self.name_key = name.casefold()
        return name


class Membership(db.Model):
    """A user's role in a project: the one thing every access check reads (app/access.py).
    The owner is a member too, with the role OWNER."""

    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint("role BETWEEN 1 AND 4", name="role_range"),
        # The navigation and every cross-project view start from one user's memberships.
        Index("ix_memberships_user", "user_id", "project_id", "role"),
        # One owner per project, whatever two concurrent hand-overs try.
        Index(
            "ix_memberships_one_owner",
            "project_id",
            unique=True,
            postgresql_where=text("role = 4"),
            sqlite_where=text("role = 4"),
        ),
    )

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship()


class Invitation(db.Model):
    """An invitation to a project, waiting for whoever signs in with `email` to accept or
    decline it. A row of its own (not a membership) so that the mail issue can send from it
    and an invitation to an address with no account reveals nothing."""

    __tablename__ = "invitations"
    __table_args__ = (
        UniqueConstraint("project_id", "email"),
        CheckConstraint("role BETWEEN 1 AND 3", name="role_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # Normalised like users.email; what sign-in and registration look invitations up by.
    email: Mapped[str] = mapped_column(String(254), index=True)
    role: Mapped[int] = mapped_column(SmallInteger)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship()


class Task(db.Model):
    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("priority BETWEEN 0 AND 3", name="priority_range"),
        CheckConstraint("length(title) BETWEEN 1 AND 200", name="title_length"),
        # The users.id SET NULL, and the backfill of the users' task counters (migration
        # c6d2e8f4a1b9).
        Index("ix_tasks_created_by_done", "created_by_id", "done"),
        Index("ix_tasks_assignee", "assignee_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    done: Mapped[bool] = mapped_column(default=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    priority: Mapped[int] = mapped_column(SmallInteger, default=Priority.NONE)
    due_date: Mapped[date | None]
    # An iCalendar RRULE (RFC 5545), e.g. "FREQ=WEEKLY;BYDAY=MO,WE".
    recurrence: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Optimistic locking: a save names the version it edited (UPDATE ... WHERE version = ?).
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Deleted tasks wait here for "Undo" until they are purged (app/tasks/services.py).
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # (Declared last, as the migration that added them left them in the table.)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # Who added it: kept when they leave the project, NULL once their account is deleted.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Who the row shows as assigned: read with the task, in the same statement (a lookup by
    # the users' primary key), so a row never costs a query of its own for it.
    assignee_name: Mapped[str | None] = column_property(
        select(User.display_name).where(User.id == assignee_id).scalar_subquery()
    )
    # The wall-clock time of the due day, or None for "some time that day". Like the date, a
    # floating time: 9:00 is 9:00 wherever each member is (app/reminders computes each
    # reminder's instant in its recipient's zone). None without a due date (the services
    # clear it: no CHECK, which SQLite could only add by rebuilding the table).
    due_time: Mapped[time | None]

    tags: Mapped[list[Tag]] = relationship(
        secondary=task_tags, back_populates="tasks", passive_deletes=True, order_by="Tag.name_key"
    )

    @property
    def has_notes(self) -> bool:
        """What the list row shows of the notes (the row template's name for it, which
        app/tasks/listing.ListedTask shares)."""
        return bool(self.notes)


# The task list's indexes (app/tasks/listing.py, app/tasks/views.py): one per sort order, each
# on (project, done, the sort's keys, id) so that one project's open (or done) tasks are read in
# list order from the cursor on, and a page costs the same at row 50 and row 50,000. Partial:
# deleted tasks are never listed. The expressions ("no due date last" as `due_date IS NULL`,
# "highest priority first" as `-priority`) are ones both databases index; descending orders
# read an index backwards. The status "all" has no index of its own (it sorts the project's
# tasks). The same keys on (assignee, done, ...) serve "Assigned to me"; partial on assigned
# tasks, so unassigned ones cost nothing there.
#
# PostgreSQL INCLUDEs the column behind an expression key: a cross-project view's arms return
# (id, keys) only, and PostgreSQL computes -priority or lower(title) from an included column
# in an index-only scan (it cannot return an expression's value from the index itself);
# measured, "All" by priority read 222 buffers instead of 1,086 at 100,000 tasks.
_listed = Task.deleted_at.is_(None)
_assigned = and_(Task.deleted_at.is_(None), Task.assignee_id.is_not(None))
_no_due = Task.due_date.is_(None)
LIST_INDEX_KEYS = (
    ("due", _no_due, Task.due_date, Task.id),
    ("due_desc", Task.due_date.is_not(None), Task.due_date, Task.id),
    ("priority", -Task.priority, _no_due, Task.due_date, Task.id),
    ("priority_asc", Task.priority, _no_due, Task.due_date, Task.id),
    ("title", func.lower(Task.title), Task.id),
    ("created", Task.id),
)
_INCLUDE = {"priority": ["priority"], "title": ["title"]}
for _name, *_keys in LIST_INDEX_KEYS:
    for _lead, _where in (("list", _listed), ("assigned", _assigned)):
        Index(
            f"ix_tasks_{_lead}_{_name}",
            Task.project_id if _lead == "list" else Task.assignee_id,
            Task.done,
            *_keys,
            postgresql_where=_where,
            sqlite_where=_where,
            postgresql_include=_INCLUDE.get(_name, []),
        )

# ?q= search on PostgreSQL (app/tasks/search.py): pg_trgm's GIN index serves the list's
# `lower(title) LIKE '%term%' OR lower(notes) LIKE ...`, led by project_id (btree_gin) so that
# a project's search finds that project's matches only. PostgreSQL only (SQLite has an FTS5
# table instead, which no model describes), and only where the extensions could be created
# (migrations c8e2f4a6b1d9 and d7a3f1c9e5b2 warn otherwise; the latter says why the pending
# list is small). ix_tasks_search_open holds the open tasks alone, which a search lists
# unless asked otherwise: it finds no done task only to throw it away (b8f1d3a5c7e2).
for _name, _where in (
    ("ix_tasks_search", _listed),
    ("ix_tasks_search_open", and_(_listed, Task.done.is_(False))),
):
    Index(
        _name,
        Task.project_id,
        func.lower(Task.title).label("title_lower"),
        func.lower(Task.notes).label("notes_lower"),
        postgresql_using="gin",
        postgresql_ops={"title_lower": "gin_trgm_ops", "notes_lower": "gin_trgm_ops"},
        postgresql_with={"gin_pending_list_limit": 256},
        postgresql_where=_where,
    ).ddl_if(dialect="postgresql")


class Tag(db.Model):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("owner_id", "name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(50))
    # casefold(name): what uniqueness and lookups compare, so "Work" and "work" are one tag.
    name_key: Mapped[str] = mapped_column(String(50))
    colour: Mapped[str] = mapped_column(String(7), default=DEFAULT_COLOUR)

    tasks: Mapped[list[Task]] = relationship(
        secondary=task_tags, back_populates="tags", passive_deletes=True
    )

    @validates("name")
    def _keep_key_in_step(self, _key: str, name: str) -> str:
        self.name_key = name.casefold()
        return name


class AuditEntry(db.Model):
    """One security-relevant event: who did what to whom, when and from where.

    Entries are written once and never edited (an ORM guard below refuses updates). Actor and
    target keep an email snapshot next to their nullable foreign key, so an entry still says
    who it was about after that user is deleted (the key is then set to NULL).
    """

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_email: Mapped[str] = mapped_column(String(254), default="", index=True)
    target_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    target_email: Mapped[str] = mapped_column(String(254), default="", index=True)
    ip: Mapped[str] = mapped_column(String(45), default="")
    detail: Mapped[str] = mapped_column(String(255), default="")


class UserToken(db.Model):
    """A link mailed about an account, waiting to be opened (app/user_tokens.py): a password
    reset, an address to verify, or a new address to confirm. Single-use (deleted when
    used), valid until `expires_at`, and revoked by what app/user_tokens.py lists."""

    __tablename__ = "user_tokens"
    __table_args__ = (
        CheckConstraint("purpose IN ('reset', 'verify', 'email')", name="purpose"),
        # Revoking a user's links of one purpose; the users.id cascade.
        Index("ix_user_tokens_user", "user_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(10))
    # The address the link was mailed to: the one it verifies, or the new one it confirms.
    email: Mapped[str] = mapped_column(String(254))
    # SHA-256 of the token: a copy of the database does not hand out working links.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobFailure(db.Model):
    """A background job that failed on its last try (app/jobs): what it was, for an admin to
    see and act on. What it carried stays out (a reset link, say); `summary` is what the job
    chose to tell (e.g. "mail to ada@example.com: Reset your password")."""

    __tablename__ = "job_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    job: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(String(255), default="")
    error: Mapped[str] = mapped_column(String(500), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=1)


class Activity(db.Model):
    """One event in a project's activity log (app/projects/activity.py): who did what to
    which task, when. Written once, in the transaction of the change it records.

    Names are snapshots next to nullable keys, as in the audit log: the actor's name stays
    after they leave the project or delete their account (the key is then NULL), and the
    task's title stays after the task is purged (task_id has no foreign key for that reason:
    a purged task leaves its events behind)."""

    __tablename__ = "activity"
    __table_args__ = (
        # The page reads one project's newest events: (project_id, id) backwards.
        Index("ix_activity_project", "project_id", "id"),
        # The users.id SET NULL when an account goes, the projects.id one when a project does.
        Index("ix_activity_actor", "actor_id"),
        Index(
            "ix_activity_other_project",
            "other_project_id",
            postgresql_where=text("other_project_id IS NOT NULL"),
            sqlite_where=text("other_project_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(80), default="")
    task_id: Mapped[int | None]
    task_title: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A move's other end (where the task went, or came from): named on the page only to
    # someone who is a member there too, so a move never shows a project's name to outsiders.
    other_project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL")
    )


# The user's Inbox, for a mapped User (the request that signs in); later requests read it
# from login_sessions.SignedIn, which the loader's one query fills.
User.inbox_id = deferred(select(Project.id).where(Project.inbox_of_id == User.id).scalar_subquery())


@event.listens_for(AuditEntry, "before_update")
def _audit_entries_are_never_edited(_mapper, _connection, entry: AuditEntry) -> None:
    raise ValueError(f"audit entry {entry.id} cannot be changed")


class Reminder(db.Model):
    """A task's reminder, `offset_minutes` before its due time, for the task's assignee (its
    creator when nobody is assigned): app/reminders.

    `fire_at` is that instant in UTC, computed from the due date and time in the recipient's
    zone (NULL while the task has no time); `key` names that one firing (task, offset,
    recipient, instant), so a save that changes nothing keeps a sent reminder sent and the
    notification it made is never made twice. `claimed_at`: a worker took it and is sending;
    a claim older than reminders.STALE_CLAIM is a worker that died, and is taken again."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("task_id", "offset_minutes"),
        CheckConstraint("offset_minutes BETWEEN 0 AND 40320", name="offset_range"),
        # The every-minute scan: unsent reminders by instant.
        Index(
            "ix_reminders_due",
            "fire_at",
            postgresql_where=text("sent_at IS NULL"),
            sqlite_where=text("sent_at IS NULL"),
        ),
        Index("ix_reminders_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    offset_minutes: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    fire_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    key: Mapped[str | None] = mapped_column(String(100), unique=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Notification(db.Model):
    """Something the user is told in the app (the header's count, /notifications): a reminder
    that fired, a task someone assigned them, an invitation. `text` is a snapshot (the task
    may be renamed or purged). `key` makes a reminder's notification once-only."""

    __tablename__ = "notifications"
    __table_args__ = (
        # The header's count and the page: one user's, unread first, newest first.
        Index("ix_notifications_user", "user_id", "read_at", "id"),
        Index("ix_notifications_task", "task_id"),
        Index("ix_notifications_project", "project_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # reminder, assignment, invitation
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(String(300))
    key: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner_id = synonym("user_id")  # so access.get_or_404 finds only the user's own
