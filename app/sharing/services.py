"""Who shares a project: members and their roles, invitations, and what happens to a deleted
user's projects.

The rules, in one place:
- Admins (and the owner) manage every member below the owner, other admins included: they
  change roles among viewer, editor and admin, remove members and invite people. Nobody
  changes the owner's role or removes the owner here: the owner hands the project over to an
  admin member (and becomes an admin), and only then may leave.
- Anyone but the owner may leave. Whoever leaves or is removed stops being the assignee of
  the project's tasks; the tasks they added stay.
- An Inbox is its user's alone: it is never shared, handed over or left.
- An invitation answers the same whether or not its address has an account (nothing here
  looks users up by email), and mails the address the same message either way; whoever
  signs in with that address sees it, once they have verified the address (an account
  registered with someone else's address must not collect their invitations).

Every change is one transaction with its audit entry. The ones that race (two admins, two
tabs) are conditional writes whose row counts say whether they won, and the database's
constraints (one owner per project, one invitation per address) settle the rest.
"""

from __future__ import annotations

from typing import NamedTuple

from flask import abort, session
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from app import access, activity, audit, login_sessions, mail, reminders
from app.database import PROJECT_NAMES, one_at_a_time
from app.extensions import db
from app.models import (
    PROJECT_NAME_MAX,
    Invitation,
    Membership,
    Project,
    Reminder,
    Role,
    Task,
    User,
)
from app.notifications.services import notify_invited
from app.projects.services import name_taken

# Most invitations one project may have waiting: past that, cancel some first.
MAX_PENDING = 100
# The session's note that invitations wait (set at sign-in, read by the task list).
PENDING_KEY = "pending_invitations"

INBOX_REFUSED = "Your Inbox is yours alone: it cannot be shared, handed over or left."
OWNER_FIXED = "The owner's role does not change here: the owner hands the project over to an admin."
OWNER_STAYS = "You own this project: hand it over to an admin member before you leave."
GONE = "This invitation was answered or cancelled already."
UNVERIFIED = "Verify your email address first: invitations are for whoever reads mail sent to it."


class Member(NamedTuple):
    user_id: int
    display_name: str
    email: str
    role: Role


def refuse(message: str, status: int = 409):
    """Roll back whatever the action began and answer `status` with `message`."""
    db.session.rollback()
    abort(status, description=message)


def refuse_inbox(project: Project) -> None:
    if project.is_inbox:
        refuse(INBOX_REFUSED)


def members(project_id: int) -> list[Member]:
    """The project's members, the owner first, then by role and name."""
    rows = db.session.execute(
        select(User.id, User.display_name, User.email, Membership.role)
        .join(Membership, access.membership_join(project_id, User.id))
        .order_by(Membership.role.desc(), func.lower(User.display_name), User.id)
    )
    return [Member(uid, name, email, Role(role)) for uid, name, email, role in rows]


def pending(project_id: int) -> list[Invitation]:
    return list(
        db.session.scalars(
            select(Invitation)
            .where(Invitation.project_id == project_id)
            .order_by(Invitation.created_at, Invitation.id)
        )
    )


def _target(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _unassign(project_id: int, user_id: int) -> None:
    """Someone who is no longer a member is no longer anyone's assignee in the project."""
    db.session.execute(
        update(Task)
        .where(Task.project_id == project_id, Task.assignee_id == user_id)
        .values(assignee_id=None)
    )


def _reschedule_reminders(project_id: int, user_id: int) -> None:
    """The reminders that were for someone who left: those of tasks they were assigned go to
    the task's creator; those of their own tasks go to nobody (a former member is never
    reminded of a task they can no longer see: app/reminders.py)."""
    task_ids = db.session.scalars(
        select(Reminder.task_id)
        .join(Task, Task.id == Reminder.task_id)
        .where(Task.project_id == project_id, Reminder.user_id == user_id)
    ).all()
    reminders.reschedule(set(task_ids))


def _explain_miss(project_id: int, user_id: int) -> None:
    """After a conditional write matched nothing: 404 when `user_id` is not a member, else
    409 (they are the owner)."""
    role = db.session.scalar(access.role_in(project_id, user_id))
    if role is None:
        refuse("That person is not a member of this project.", 404)
    refuse(OWNER_FIXED)


def change_role(project: Project, user_id: int, role: Role) -> User:
    """Give member `user_id` the role `role` (viewer, editor or admin), unless they own it."""
    target = _target(user_id)
    changed = db.session.execute(
        update(Membership)
        .where(access.membership_join(project.id, user_id), Membership.role < Role.OWNER)
        .values(role=int(role))
    ).rowcount
    if not changed:
        _explain_miss(project.id, user_id)
    audit.record("member_role_changed", target=target, detail=f"{_name(project)}: now {role.label}")
    activity.record(project.id, "role_changed", detail=f"{target.display_name}: now {role.label}")
    db.session.commit()
    return target


def remove_member(project: Project, user_id: int) -> User:
    """Take member `user_id` (anyone but the owner) out of the project."""
    target = _target(user_id)
    _leave_or_remove(project, user_id, "member_removed", target)
    return target


def leave(project: Project, user: User) -> None:
    """The signed-in member leaves; the owner must hand the project over first."""
    refuse_inbox(project)
    role = db.session.scalar(access.role_in(project.id, user.id))
    if role == Role.OWNER:
        refuse(OWNER_STAYS)
    _leave_or_remove(project, user.id, "member_left", user)


def _leave_or_remove(project: Project, user_id: int, action: str, target: User) -> None:
    gone = db.session.execute(
        delete(Membership).where(
            access.membership_join(project.id, user_id), Membership.role < Role.OWNER
        )
    ).rowcount
    if not gone:
        _explain_miss(project.id, user_id)
    _unassign(project.id, user_id)
    _reschedule_reminders(project.id, user_id)
    audit.record(action, target=target, detail=_name(project))
    if action == "member_left":
        activity.record(project.id, "left")
    else:
        activity.record(project.id, "removed", detail=target.display_name)
    db.session.commit()


def transfer(project: Project, owner_id: int, new_owner_id: int) -> User:
    """The owner hands the project to admin member `new_owner_id` and becomes an admin.

    The old owner steps down first, then the admin steps up, so the project never has two
    owners (the one-owner index would refuse it). Each step names the role it expects: a
    second hand-over racing this one finds no owner to demote (PostgreSQL re-reads the row
    after the first commits; SQLite runs one writer at a time) and is refused.
    """
    refuse_inbox(project)
    if new_owner_id == owner_id:
        refuse("You own this project already.")
    target = _target(new_owner_id)
    # Names are unique among one owner's projects, and this one joins the new owner's.
    one_at_a_time(PROJECT_NAMES, new_owner_id)
    if name_taken(new_owner_id, project.name):
        refuse(
            f"{target.display_name} already owns a project called “{project.name}”: rename"
            " this one (or ask them to rename theirs) before you hand it over."
        )
    stepped_down = db.session.execute(
        update(Membership)
        .where(access.membership_join(project.id, owner_id), Membership.role == Role.OWNER)
        .values(role=int(Role.ADMIN))
    ).rowcount
    if not stepped_down:
        refuse("You no longer own this project.")
    stepped_up = db.session.execute(
        update(Membership)
        .where(access.membership_join(project.id, new_owner_id), Membership.role == Role.ADMIN)
        .values(role=int(Role.OWNER))
    ).rowcount
    if not stepped_up:
        refuse("The project passes only to an admin member: make them an admin first.")
    audit.record("ownership_transferred", target=target, detail=_name(project))
    activity.record(project.id, "ownership", detail=f"to {target.display_name}")
    db.session.commit()
    return target


def _free_name(user_id: int, name: str) -> str:
    """`name`, or `name 2`, `name 3`…, the first the user owns no project by, within the
    length a name may have: what a project passing to someone who owns one by its name is
    called, since a deletion cannot be refused for it."""
    candidate, n = name[:PROJECT_NAME_MAX], 1
    while name_taken(user_id, candidate):
        n += 1
        suffix = f" {n}"
        candidate = name[: PROJECT_NAME_MAX - len(suffix)] + suffix
    return candidate


def _name(project: Project) -> str:
    return f"project #{project.id} “{project.name}”"


# ---- invitations -------------------------------------------------------------------------


def invite(project: Project, email: str, role: Role) -> bool:
    """Invite `email` (normalised) with `role`; an invitation already waiting for it takes
    the new role. False when someone with that address is a member already (members' emails
    are on the page the inviter sees, so saying so reveals nothing); otherwise the same work
    and the same answer whether or not the address has an account."""
    refuse_inbox(project)
    member = db.session.scalar(
        select(User.id).where(User.email == email, access.is_member(project.id, User.id))
    )
    if member is not None:
        return False
    for attempt in (1, 2):
        invitation = db.session.scalar(
            select(Invitation).where(Invitation.project_id == project.id, Invitation.email == email)
        )
        if invitation is None:
            _check_room(project.id)
            invitation = Invitation(project_id=project.id, email=email)
            db.session.add(invitation)
        invitation.role = int(role)
        invitation.invited_by_id = login_sessions.current_actor().id
        audit.record(
            "member_invited", target_email=email, detail=f"{_name(project)}: as {role.label}"
        )
        try:
            db.session.commit()
        except IntegrityError:
            # Another admin invited the same address a moment ago: update theirs instead.
            db.session.rollback()
            if attempt == 2:
                raise
            continue
        _mail_invitation(project, email, role)
        inviter = login_sessions.current_actor().display_name
        notify_invited(
            email, project.id, f"{inviter} invited you to “{project.name}” as {role.label.lower()}."
        )
        db.session.commit()
        return True
    return True  # pragma: no cover (the loop returns or raises)


def _mail_invitation(project: Project, email: str, role: Role) -> None:
    """Tell the address it is invited: one message whether or not it has an account, with a
    way in for both (sign in, or register with it). Through mail.send, since it is addressed
    to an email and not to an account (app/mail/sending.py)."""
    inviter = login_sessions.current_actor().display_name
    mail.send(
        email,
        "invitation",
        f"{inviter} invited you to “{project.name}” on Tasklane",
        email=email,
        inviter=inviter,
        project=project.name,
        role=role.label.lower(),
        invitations_url=mail.external_url("sharing.invitations"),
        register_url=mail.external_url("auth.register"),
    )


def _check_room(project_id: int) -> None:
    waiting = db.session.scalar(
        select(func.count()).select_from(Invitation).where(Invitation.project_id == project_id)
    )
    if waiting >= MAX_PENDING:
        refuse(f"This project has {MAX_PENDING} invitations waiting already: cancel some first.")


def cancel(project: Project, invitation_id: int) -> str:
    """Withdraw a pending invitation of the project; the address it was for."""
    email = db.session.scalar(
        delete(Invitation)
        .where(Invitation.id == invitation_id, Invitation.project_id == project.id)
        .returning(Invitation.email)
    )
    if email is None:
        refuse(GONE, 404)
    audit.record("invitation_cancelled", target_email=email, detail=_name(project))
    db.session.commit()
    return email


class Waiting(NamedTuple):
    id: int
    project_name: str
    role: Role
    invited_by: str | None


def waiting_for(email: str) -> list[Waiting]:
    """The invitations addressed to `email`, oldest first, with what the invitee is shown."""
    inviter = User.__table__.alias("inviter")
    rows = db.session.execute(
        select(Invitation.id, Project.name, Invitation.role, inviter.c.display_name)
        .join(Project, Project.id == Invitation.project_id)
        .outerjoin(inviter, inviter.c.id == Invitation.invited_by_id)
        .where(Invitation.email == email)
        .order_by(Invitation.created_at, Invitation.id)
    )
    return [Waiting(i, name, Role(role), by) for i, name, role, by in rows]


def note_waiting(user: login_sessions.Actor) -> None:
    """At sign-in (and registration), and when an address is verified: note in the session
    how many invitations wait, so the task list shows the notice without a query of its
    own. None while the address is not verified (they are not shown until it is)."""
    waiting = user.email_verified and db.session.scalar(
        select(func.count()).select_from(Invitation).where(Invitation.email == user.email)
    )
    if waiting:
        session[PENDING_KEY] = waiting
    else:
        session.pop(PENDING_KEY, None)


def _addressed_to(user: User, invitation_id: int) -> Invitation:
    """The invitation `invitation_id` if it is addressed to `user` (locked until the commit);
    404 for any other, as for one that does not exist; 403 for anyone whose address is not
    verified, whatever the id."""
    if not user.email_verified:
        refuse(UNVERIFIED, 403)
    invitation = db.session.scalar(
        select(Invitation)
        .where(Invitation.id == invitation_id, Invitation.email == user.email)
        .with_for_update()
    )
    if invitation is None:
        refuse(GONE, 404)
    return invitation


def accept(user: User, invitation_id: int) -> Project:
    """Join the project with the invited role, and the invitation is used up: one commit.

    Two tabs accepting at once: the second finds the invitation gone (SQLite runs one writer
    at a time; on PostgreSQL the row lock makes it wait for the first) and gets a 404 that
    says so; should a membership appear in between, the primary key refuses the second and
    the invitation just goes."""
    invitation = _addressed_to(user, invitation_id)
    project = db.session.get(Project, invitation.project_id)
    role = Role(invitation.role)
    db.session.delete(invitation)
    db.session.add(Membership(project_id=project.id, user_id=user.id, role=int(role)))
    audit.record(
        "invitation_accepted", actor=user, target=user, detail=f"{_name(project)}: {role.label}"
    )
    activity.record(project.id, "joined", detail=f"as {role.label}", actor_id=user.id)
    try:
        db.session.commit()
    except IntegrityError:  # a member already: the invitation has nothing left to give
        db.session.rollback()
        db.session.execute(delete(Invitation).where(Invitation.id == invitation_id))
        db.session.commit()
    return project


def decline(user: User, invitation_id: int) -> str:
    invitation = _addressed_to(user, invitation_id)
    project = db.session.get(Project, invitation.project_id)
    db.session.delete(invitation)
    audit.record("invitation_declined", actor=user, target=user, detail=_name(project))
    db.session.commit()
    return project.name


# ---- deleting a user ---------------------------------------------------------------------


def hand_over_projects(user: User) -> None:
    """Before `user` is deleted: each shared project they own passes to its longest-standing
    admin, else its longest-standing member, who becomes the owner; a project nobody else is
    in is deleted with its tasks. Their Inbox goes with them (ON DELETE CASCADE). In the
    caller's transaction; audited (the entries name the deleted user in `detail`, since the
    actor may be an admin of the instance).

    A few statements per owned project: deleting a user is rare, and each project's hand-over
    has to be written on its own anyway."""
    owned = db.session.scalars(
        select(Project)
        .join(Membership, access.membership_join(Project.id, user.id))
        .where(Membership.role == Role.OWNER, Project.inbox_of_id.is_(None))
        .order_by(Project.id)
    ).all()
    for project in owned:
        successor = db.session.scalar(
            select(Membership)
            .where(Membership.project_id == project.id, Membership.user_id != user.id)
            .order_by(
                case((Membership.role == Role.ADMIN, 0), else_=1),
                Membership.created_at,
                Membership.user_id,
            )
            .limit(1)
            .with_for_update()
        )
        detail = f"{_name(project)}, owned by {user.email}"
        if successor is None:
            audit.record("project_deleted_with_owner", target=user, detail=detail)
            db.session.delete(project)  # its tasks, tags' links and memberships cascade
            continue
        # The owner's membership goes first, so the project never has two owners.
        db.session.execute(delete(Membership).where(access.membership_join(project.id, user.id)))
        one_at_a_time(PROJECT_NAMES, successor.user_id)
        if name_taken(successor.user_id, project.name):
            project.name = _free_name(successor.user_id, f"{project.name} ({user.display_name})")
            detail += f", renamed “{project.name}”"
        successor.role = int(Role.OWNER)
        audit.record("project_handed_over", target=successor.user, detail=detail)
        activity.record(
            project.id,
            "ownership",
            detail=f"to {successor.user.display_name}: {user.display_name}'s account was deleted",
        )
    db.session.flush()
