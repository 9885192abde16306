"""Registration that does not tell whether an address has an account.

The form's answer is one page, "Check your email", whoever's address it is, and the work
behind it is done in a job (as for "Forgot your password?"), so neither the answer nor its
timing says more. The job:
- address free: creates the account, unverified, and mails the link that verifies it;
- address of an account still waiting for its first verification (registered, never
  confirmed, never signed in): takes the new password, name and zone and mails a new link
  (whoever opens the mail decides: someone who registered another person's address gains
  nothing, and the real owner is not locked out by them);
- address of an account in use: mails its owner a notice, with the ways in (sign in, or
  reset the password), and changes nothing.

So an account is usable once the address is proven: opening the link verifies it and signs
the browser in. Until then signing in answers as for a wrong password (app/auth/services.py
authenticate), otherwise "register, then try to sign in" would tell, by whether the
password chosen works, that the address had no account.
"""

from __future__ import annotations

from app import mail
from app.addresses.services import mail_verification_link
from app.auth.services import EmailTaken, create_user, find_user
from app.extensions import db
from app.jobs import job


def _about(email: str, *args) -> str:
    return f"registration for {email}"


@job(retries=3, retry_delay=30, backoff=2, summary=_about)
def register_or_notify(
    email: str, display_name: str, password_hash: str, timezone: str | None
) -> None:
    """What a registration for `email` does (the module docstring): the password comes
    hashed, so the queue never holds it."""
    db.session.connection(execution_options={"tasklane_write": True})
    user = find_user(email)
    if user is None:
        try:
            user = create_user(email, "", display_name, timezone=timezone, hashed=password_hash)
        except EmailTaken:  # registered a moment ago, by another request
            user = find_user(email)
    elif user.registration_pending:
        user.password_hash, user.display_name, user.timezone = password_hash, display_name, timezone
        db.session.commit()
    else:
        db.session.rollback()
        mail.send(
            email,
            "registration_taken",
            "Someone tried to create a Tasklane account with your address",
            email=email,
            login_url=mail.external_url("auth.login"),
            forgot_url=mail.external_url("auth.forgot_password"),
        )
        return
    mail_verification_link(user.id)
