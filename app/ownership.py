"""The one way to reach an object by id: through its owner, 404 for anyone else's."""

from __future__ import annotations

from functools import lru_cache

from flask import abort
from flask_login import current_user
from sqlalchemy import bindparam, select

from app.extensions import db


def get_owned_or_404(model, object_id: int, *options):
    """`model` row `object_id` if it belongs to the signed-in user; 404 otherwise.

    Another user's object answers exactly like a missing one, so ids reveal nothing.
    `options` are loader options (what the caller's page shows, loaded up front); pass the
    same option objects every time (module constants) so the statement is built only once.
    """
    stmt = _owned_statement(model, options)
    params = {"object_id": object_id, "owner_id": current_user.id}
    obj = db.session.scalar(stmt, params)
    if obj is None:
        abort(404)
    return obj


def owned_by(model, owner) -> tuple:
    """The conditions that keep a statement to one owner's live rows of `model`: what every
    lookup and every write by id adds to its WHERE (`owner` is a bound parameter)."""
    if hasattr(model, "deleted_at"):  # deleted, waiting for undo: gone for every other route
        return (model.owner_id == owner, model.deleted_at.is_(None))
    return (model.owner_id == owner,)


@lru_cache(maxsize=64)
def _owned_statement(model, options: tuple):
    stmt = select(model).where(
        model.id == bindparam("object_id"), *owned_by(model, bindparam("owner_id"))
    )
    return stmt.options(*options) if options else stmt
