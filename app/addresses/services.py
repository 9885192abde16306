"""Verifying an address, and changing it.

Verification: registration and the account page's "send it again" queue
`mail_verification_link`, which mails a link to the user's address (user_tokens.VERIFY:
seven days, single-use, the newest alone works). The link verifies the address it was mailed
to, and only while the account still has it.

A change of address: the account page takes the new address and the current password. The
answer is the same whether or not another account has the new address ("we sent a link"),
and so is the request's work: it records the request and queues `mail_change_link`, which
looks the address up in the worker, where its time is nobody's to measure. A free address
gets a link (user_tokens.EMAIL: a day, single-use, dead once the password changes); a taken
one gets a note that someone tried to use it, which tells its owner nothing they did not know
and the asker nothing at all. The old address gets a notice either way, if it is verified
(app/mail/sending.py's rule). The change happens when the link's page is confirmed, unless
another account took the address meanwhile (AddressTaken).
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from app import audit, mail, user_tokens
from app.auth.services import find_user
from app.extensions import db
from app.jobs import job
from app.models import User, utcnow


class AddressTaken(Exception):
    """Another account has the address (the transaction was rolled back)."""


def _about_verification(user_id: int) -> str:
    return f"verification link for user #{user_id}"


def _about_change(user_id: int, new_email: str) -> str:
    return f"change of address of user #{user_id} to {new_email}"


def _active_user(user_id: int) -> User | None:
    """The job's user, if still there and active, in a write transaction (the job issues a
    token)."""
    db.session.connection(execution_options={"tasklane_write": True})
    user = db.session.get(User, user_id)
    return user if user is not None and user.is_active else None


@job(retries=3, retry_delay=30, backoff=2, summary=_about_verification)
def mail_verification_link(user_id: int) -> None:
    """Mail a verification link to the user's address, unless it is verified already."""
    user = _active_user(user_id)
    if user is None or user.email_verified:
        return
    user_tokens.mail_link(
        user,
        user_tokens.VERIFY,
        "addresses.verify",
        "verify_email",
        "Verify your email address for Tasklane",
        email=user.email,
    )


def mark_verified(user: User) -> None:
    """The user opened a verification link (the view used it up): their address is verified,
    in one commit with the audit entry."""
    user.email_verified_at = user.email_verified_at or utcnow()
    audit.record("email_verified", actor=user, target=user)
    db.session.commit()


def request_change(user: User, new_email: str) -> None:
    """The user asked to move their account to `new_email` (the view checked the password):
    the same entry and the same job whoever has that address."""
    audit.record("email_change_requested", actor=user, target=user, detail=f"to {new_email}")
    db.session.commit()
    mail_change_link(user.id, new_email)


@job(retries=3, retry_delay=30, backoff=2, summary=_about_change)
def mail_change_link(user_id: int, new_email: str) -> None:
    user = _active_user(user_id)
    if user is None:
        return
    if find_user(new_email) is None:
        user_tokens.mail_link(
            user,
            user_tokens.EMAIL,
            "addresses.confirm_change",
            "email_change_confirm",
            "Confirm your new address for Tasklane",
            to=new_email,
            old_email=user.email,
            new_email=new_email,
        )
    else:
        db.session.commit()  # nothing written: mail is queued outside a write transaction
        mail.send(
            new_email,
            "email_taken",
            "Someone tried to use your address on Tasklane",
            email=new_email,
            forgot_url=mail.external_url("auth.forgot_password"),
        )
    mail.send_to_user(
        user,
        "email_change_notice",
        "A new address for your Tasklane account was asked for",
        name=user.display_name,
        email=user.email,
        new_email=new_email,
        account_url=mail.external_url("account.page"),
    )


def taken(email: str, user: User) -> bool:
    """Whether an account other than `user`'s has `email`."""
    holder = find_user(email)
    return holder is not None and holder.id != user.id


def change_address(user: User, email: str) -> str:
    """Move the account to `email`, verified by the link the view used up; the old address.
    Links mailed to the old address die with it (a reset link there would otherwise still
    hand over the account). AddressTaken when another account has `email`, whether it was
    found first or the unique constraint refused it in a race (PostgreSQL)."""
    if taken(email, user):
        db.session.rollback()
        raise AddressTaken(email)
    old = user.email
    try:
        user.email = email
        user.email_verified_at = utcnow()
        # The statements below flush the new address first: the unique constraint may refuse
        # it there (a registration won the race), not only at the commit.
        user_tokens.revoke(user, user_tokens.RESET, user_tokens.VERIFY, user_tokens.EMAIL)
        audit.record("email_changed", actor=user, target=user, detail=f"from {old}")
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise AddressTaken(email) from None
    return old
