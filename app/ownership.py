"""The one way to fetch an object by id: through its owner, 404 for anyone else's."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db


def get_owned_or_404(model, object_id: int, *options):
    """`model` row `object_id` if it belongs to the signed-in user; 404 otherwise.

    Another user's object answers exactly like a missing one, so ids reveal nothing.
    `options` are loader options (what the caller's page shows, loaded up front).
    """
    stmt = select(model).where(model.id == object_id, model.owner_id == current_user.id)
    if options:
        stmt = stmt.options(*options)
    if hasattr(model, "deleted_at"):  # deleted, waiting for undo: gone for every other route
        stmt = stmt.where(model.deleted_at.is_(None))
    obj = db.session.scalar(stmt)
    if obj is None:
        abort(404)
    return obj
