"""The one way to reach an object by id, and the one place that says who may do what.

Tasks and projects are reached through the signed-in user's membership of the project: the
membership is joined in the same statement as the lookup, so the check never costs a query
of its own. Someone who is not a member gets 404, exactly as for an id that does not exist
(ids reveal nothing); a member whose role is too low gets 403 with a message saying what
their role allows. Objects that belong to one user (tags, login sessions) are reached
through `owner_id`, which counts as the role OWNER. Instance admins get no way around this.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from flask import abort
from flask_login import current_user
from sqlalchemy import and_, bindparam, literal, select

from app.extensions import db
from app.models import Membership, Project, Role, Task

# What each role may do, in the words a refused member reads (403).
REFUSALS = {
    Role.EDITOR: "You can view this project but not change it: ask one of its admins.",
    Role.ADMIN: "Only the project's admins can do that.",
    Role.OWNER: "Only the project's owner can do that.",
}


class Reached(NamedTuple):
    obj: object
    role: Role


def get_or_404(model, object_id: int, need: Role = Role.VIEWER, options: tuple = ()) -> Reached:
    """`model` row `object_id` and the signed-in user's role for it: 404 when they may not see
    it (not a member, not the owner, deleted), 403 when their role is below `need`.

    `options` are loader options (what the caller's page shows, loaded up front); pass the
    same option objects every time (module constants) so the statement is built only once.
    """
    stmt = _lookup_statement(model, options)
    row = db.session.execute(stmt, {"object_id": object_id, "user_id": current_user.id}).first()
    if row is None:
        abort(404)
    obj, role = row
    require(role, need)
    return Reached(obj, Role(role))


def allows(role: int | None, need: Role) -> bool:
    """Whether `role` (None: no member) reaches `need`: the rule `require` enforces on a
    request and every page follows when it decides which controls to offer."""
    return role is not None and role >= need


def require(role: int, need: Role) -> None:
    """403 unless `role` reaches `need`."""
    if not allows(role, need):
        abort(403, description=REFUSALS[need])


def can_edit(role: int | None) -> bool:
    """Whether someone with `role` in a project may change its tasks (add, edit, tick,
    delete, tag, assign): the one rule behind every task control a page shows (the list's
    quick add, bulk bar and move picker, each row's checkbox, Edit and Delete, the task
    page's Edit), the routes refusing the same people with `need=Role.EDITOR`. Templates
    call it too (a global)."""
    return allows(role, Role.EDITOR)


def membership_join(project_id, user_id, need: Role = Role.VIEWER):
    """The ON clause that finds `user_id`'s membership of `project_id` (each a value, a column
    or a bound parameter) with at least the role `need`: the one way a statement asks "is
    this person a member with role >= R", and what every statement that lists or changes
    project objects joins."""
    found = and_(Membership.project_id == project_id, Membership.user_id == user_id)
    return found if need == Role.VIEWER else and_(found, Membership.role >= need)


def is_member(project_id, user_id, need: Role = Role.VIEWER):
    """The SQL condition "`user_id` is a member of `project_id` with at least the role
    `need`", for a WHERE or a CASE (app/tasks/assignees.py: who may be assigned a task)."""
    return select(Membership.user_id).where(membership_join(project_id, user_id, need)).exists()


def role_in(project_id, user_id):
    """The statement reading `user_id`'s role in `project_id` (no row: not a member)."""
    return select(Membership.role).where(membership_join(project_id, user_id))


def projects_where(user_id, need: Role = Role.VIEWER):
    """The ids of the projects in which `user_id` has at least the role `need`, as a
    subquery: what a write by id adds to its WHERE (`Task.project_id.in_(...)`)."""
    return select(Membership.project_id).where(
        Membership.user_id == user_id, Membership.role >= need
    )


def reachable(model, user_id, need: Role = Role.VIEWER) -> tuple:
    """The conditions that keep a statement on `model` to the live rows `user_id` may reach
    with the role `need`: what every write by id adds to its WHERE."""
    if model is Task:  # deleted, waiting for undo: gone for every other route
        return (Task.project_id.in_(projects_where(user_id, need)), Task.deleted_at.is_(None))
    if model is Project:
        return (Project.id.in_(projects_where(user_id, need)),)
    return (model.owner_id == user_id,)


@lru_cache(maxsize=64)
def _lookup_statement(model, options: tuple):
    user_id = bindparam("user_id")
    if model is Task:
        stmt = (
            select(Task, Membership.role)
            .join(Membership, membership_join(Task.project_id, user_id))
            .where(Task.deleted_at.is_(None))
        )
    elif model is Project:
        stmt = select(Project, Membership.role).join(
            Membership, membership_join(Project.id, user_id)
        )
    else:
        stmt = select(model, literal(int(Role.OWNER))).where(model.owner_id == user_id)
    stmt = stmt.where(model.id == bindparam("object_id"))
    return stmt.options(*options) if options else stmt
