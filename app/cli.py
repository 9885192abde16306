"""`flask users ...`: manage accounts from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.auth.services import EmailTaken, create_user, find_user
from app.extensions import db
from app.models import User
from app.passwords import policy_error

# AppGroup runs each command inside an application context.
users = AppGroup("users", help="Create and manage user accounts.")


def _read_password() -> str:
    """Prompt twice on a terminal; take one line from a pipe (`echo pw | flask users create`)."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


def _user_or_exit(email: str) -> User:
    user = find_user(email)
    if user is None:
        raise click.ClickException(f"No user with email {email}.")
    return user


@users.command("create")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.option("--name", default="", help="Display name (default: the part before the @).")
def create(email: str, admin: bool, name: str) -> None:
    """Create a user; the password is asked for (or read from standard input)."""
    from email_validator import EmailNotValidError, validate_email

    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise click.ClickException(str(exc)) from None
    password = _read_password()
    problem = policy_error(password)
    if problem:
        raise click.ClickException(problem)
    try:
        user = create_user(email, password, name.strip(), is_admin=admin)
    except EmailTaken:
        raise click.ClickException(f"A user with email {email} already exists.") from None
    click.echo(f"Created {'admin' if user.is_admin else 'user'} {user.email}.")


@users.command("promote")
@click.argument("email")
def promote(email: str) -> None:
    """Make an existing user an administrator."""
    user = _user_or_exit(email)
    user.is_admin = True
    db.session.commit()
    click.echo(f"{user.email} is now an admin.")


@users.command("list")
def list_users() -> None:
    """Print every user, one per line."""
    for user in db.session.scalars(select(User).order_by(User.id)):
        flags = ",".join(
            flag for flag, on in (("admin", user.is_admin), ("inactive", not user.is_active)) if on
        )
        last = user.last_login_at.isoformat(timespec="minutes") if user.last_login_at else "never"
        click.echo(
            f"{user.id}\t{user.email}\t{user.display_name}\t{flags or '-'}\tlast login {last}"
        )
