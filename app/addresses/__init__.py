"""A user's email address: verified by a mailed link, and changed only from the new
address (a link mailed there, a notice to the old one)."""

from flask import Blueprint

bp = Blueprint("addresses", __name__)

from app.addresses import routes  # noqa: E402,F401
