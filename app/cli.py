"""`flask users ...`: manage accounts from the command line; `flask backup` and
`flask restore`: the whole database (app/backup.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from app import backup, user_actions
from app.auth.services import EmailTaken, create_user, find_user
from app.config import normalise_database_url
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
    # Every command that looks a user up then changes them: take SQLite's write lock now
    # (BEGIN IMMEDIATE), as web requests do, so the guards count admins under it.
    db.session.connection(execution_options={"tasklane_write": True})
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
        # The operator typed the address: it counts as verified, as for the users who
        # existed before verification did (the migration that added it).
        user = create_user(email, password, name.strip(), is_admin=admin, verified=True)
    except EmailTaken:
        raise click.ClickException(f"A user with email {email} already exists.") from None
    click.echo(f"Created {'admin' if user.is_admin else 'user'} {user.email}.")


def _run(action, user: User, **kwargs) -> None:
    """Run a shared action on a user (app/user_actions.py); a guard's refusal exits non-zero."""
    try:
        action(user, actor=None, **kwargs)
    except user_actions.ActionRefused as refused:
        raise click.ClickException(str(refused)) from None


@users.command("promote")
@click.argument("email")
def promote(email: str) -> None:
    """Make an existing user an administrator."""
    user = _user_or_exit(email)
    _run(user_actions.promote, user)
    click.echo(f"{user.email} is now an admin.")


@users.command("demote")
@click.argument("email")
def demote(email: str) -> None:
    """Take administrator rights away (never from the last active admin)."""
    user = _user_or_exit(email)
    _run(user_actions.demote, user)
    click.echo(f"{user.email} is no longer an admin.")


@users.command("deactivate")
@click.argument("email")
def deactivate(email: str) -> None:
    """Stop a user from signing in and end every session of theirs now."""
    user = _user_or_exit(email)
    _run(user_actions.deactivate, user)
    click.echo(f"{user.email} is deactivated and signed out everywhere.")


@users.command("activate")
@click.argument("email")
def activate(email: str) -> None:
    """Let a deactivated user sign in again."""
    user = _user_or_exit(email)
    _run(user_actions.activate, user)
    click.echo(f"{user.email} can sign in again.")


@users.command("set-password")
@click.argument("email")
@click.option(
    "--permanent",
    is_flag=True,
    help="Do not make the user choose a new password at the next sign-in.",
)
def set_password(email: str, permanent: bool) -> None:
    """Set a user's password (asked for, or read from standard input); it is temporary unless
    --permanent. Every session of the user ends."""
    user = _user_or_exit(email)
    password = _read_password()
    problem = policy_error(password)
    if problem:
        raise click.ClickException(problem)
    _run(user_actions.set_password, user, password=password, temporary=not permanent)
    kind = "Password" if permanent else "Temporary password"
    click.echo(f"{kind} set for {user.email}; their sessions were ended.")


@users.command("delete")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete(email: str, yes: bool) -> None:
    """Delete a user with all their tasks and tags (never the last active admin)."""
    user = _user_or_exit(email)
    address = user.email
    if not yes and not click.confirm(f"Delete {address} and all their data?", err=True):
        raise click.ClickException("Nothing was deleted.")
    _run(user_actions.delete_user, user)
    click.echo(f"Deleted {address} and all their data.")


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


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def backup_database(file: Path) -> None:
    """Back up the whole database to FILE (SQLite: a database file; PostgreSQL: pg_dump's
    custom format). The app may keep serving meanwhile."""
    try:
        backup.backup(current_app.config["SQLALCHEMY_DATABASE_URI"], file)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up the database to {file}.")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--into", "into", default="", help="Restore into this database URL instead.")
@click.option("--force", is_flag=True, help="Replace what the target database holds.")
@with_appcontext
def restore_database(file: Path, into: str, force: bool) -> None:
    """Restore the backup FILE into the app's database (or --into URL); the target must be
    empty unless --force. Stop the app first when restoring into its own database."""
    target = normalise_database_url(into) if into else current_app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        backup.restore(file, target, force=force)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {file}. Run `flask db upgrade` if the code's migrations are newer.")
