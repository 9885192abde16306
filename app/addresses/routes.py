"""The address pages: changing one's address (signed in), asking for the verification link
again (signed in, rate-limited), and the two pages mailed links open (anyone with the link).

A link's page shows what it will do and a button; the button's POST does it. Mail scanners
and link previews fetch links with GET, and a single-use link must survive that. Links
carry their token in the query string (GET) and the form (POST), never the path, which the
request log writes. Opened in a browser signed in to another account, a link is refused
(403) and left unused: it was mailed for someone else.
"""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from app import login_sessions, user_tokens
from app.addresses import bp, services
from app.addresses.forms import ChangeEmailForm
from app.extensions import db, limiter
from app.forms import WRONG_PASSWORD, LinkForm
from app.models import User
from app.passwords import verify_password
from app.sharing.services import note_waiting

OTHER_ACCOUNT = (
    "This link was mailed for another account than the one signed in here. Sign out, then "
    "open the link again."
)
TAKEN = (
    "Another account uses that address now, so this one cannot move to it. Ask for a change "
    "to another address from your account page."
)


def _address_limit() -> str:
    return current_app.config["ADDRESS_RATE_LIMIT"]


def _user_key() -> str:
    return f"user:{current_user.id}"


# Each asks for a message to an address: one allowance per user for both, so neither can
# be used to mail an address over and over.
limit_address_mail = limiter.shared_limit(
    _address_limit, scope="address-mail", key_func=_user_key, methods=["POST"]
)


@bp.route("/account/email", methods=["GET", "POST"])
@login_required
@limit_address_mail
def change_email():
    form = ChangeEmailForm()
    if form.validate_on_submit():
        user = login_sessions.signed_in_user()
        if not verify_password(user.password_hash, form.current_password.data):
            form.current_password.errors.append(WRONG_PASSWORD)
        elif form.new_email.data == user.email:
            form.new_email.errors.append("This is your address already.")
        else:
            services.request_change(user, form.new_email.data)
            # The same words whether or not another account has the address.
            flash(
                f"We sent a link to {form.new_email.data}. Your address changes when you open "
                "it (within a day). Until then, sign in with your current address.",
                "success",
            )
            return redirect(url_for("account.page"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("addresses/change.html", form=form), status


@bp.post("/account/verification")
@login_required
@limit_address_mail
def resend_verification():
    if current_user.email_verified:
        flash("Your address is verified already.", "info")
    else:
        db.session.commit()  # the sign-in's bookkeeping: jobs are queued after the commit
        services.mail_verification_link(current_user.id)
        flash(f"We sent a new link to {current_user.email}.", "success")
    return redirect(url_for("account.page"), 303)


def _gone():
    abort(make_response(render_template("addresses/link_gone.html"), 410))


def _link(purpose: str) -> tuple[user_tokens.Held, str]:
    """The live link of `purpose` this request carries; 410 when there is none (used,
    expired, revoked, never ours: the page does not say which), 403 when it is another
    account's."""
    token = request.values.get("token", "")
    held = user_tokens.holder(token, purpose)
    if held is None:
        _gone()
    if current_user.is_authenticated and current_user.id != held.user.id:
        abort(403, description=OTHER_ACCOUNT)
    return held, token


def _done(user: User, message: str):
    """After a link did its work: the account page if its user is signed in here (the
    invitations notice counts what their verified address may now see), else sign-in."""
    if current_user.is_authenticated:
        note_waiting(user)
        flash(message, "success")
        return redirect(url_for("account.page"), 303)
    flash(f"{message} Sign in to go on.", "success")
    return redirect(url_for("auth.login"), 303)


@bp.route("/verify-email", methods=["GET", "POST"])
def verify():
    if not request.values.get("token"):
        return redirect(url_for("account.page"))
    held, token = _link(user_tokens.VERIFY)
    form = LinkForm(token=token)
    if form.validate_on_submit():
        if not user_tokens.redeem(token, user_tokens.VERIFY):  # used a moment ago
            db.session.rollback()
            _gone()
        services.mark_verified(held.user)
        return _done(held.user, f"Your address {held.email} is verified.")
    return render_template("addresses/verify.html", form=form, email=held.email)


@bp.route("/confirm-email", methods=["GET", "POST"])
def confirm_change():
    if not request.values.get("token"):
        return redirect(url_for("account.page"))
    held, token = _link(user_tokens.EMAIL)
    if services.taken(held.email, held.user):
        abort(409, description=TAKEN)
    form = LinkForm(token=token)
    if form.validate_on_submit():
        if not user_tokens.redeem(token, user_tokens.EMAIL):
            db.session.rollback()
            _gone()
        try:
            old = services.change_address(held.user, held.email)
        except services.AddressTaken:
            abort(409, description=TAKEN)
        return _done(held.user, f"Your address is now {held.email} (it was {old}).")
    context = {"old_email": held.user.email, "new_email": held.email}
    return render_template("addresses/confirm.html", form=form, **context)
