"""Sharing: a project's members and their roles, invitations, and leaving or handing over."""

from flask import Blueprint

bp = Blueprint("sharing", __name__)

from app.sharing import routes  # noqa: E402,F401
