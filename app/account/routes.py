"""The account page: the signed-in user's name, time zone, mail and reminder settings,
password, login sessions, and deleting the account."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from app import access, login_sessions, reminders, user_actions
from app.account import bp
from app.account.forms import (
    DeleteAccountForm,
    EmptyForm,
    MailForm,
    PasswordForm,
    ProfileForm,
    TimezoneForm,
)
from app.auth.services import sign_out
from app.extensions import db
from app.forms import WRONG_PASSWORD, normalise_email
from app.models import LoginSession
from app.passwords import verify_password
from app.timezones import now_for


@bp.before_request
@login_required
def _signed_in_only():
    pass


def _mail_form(user) -> MailForm:
    return MailForm(
        digest=user.digest_hour is not None,
        digest_hour=user.digest_hour if user.digest_hour is not None else 8,
        reminder_mail=user.reminder_mail,
        default_reminder=user.default_reminder,
    )


def _page(status: int = 200, **forms):
    context = {
        "mail_form": _mail_form(current_user),
        "profile_form": ProfileForm(display_name=current_user.display_name),
        "timezone_form": TimezoneForm(timezone=current_user.timezone or ""),
        # What the user's zone makes of this moment, so they can tell the choice is right.
        "local_now": now_for(current_user),
        "password_form": PasswordForm(),
        "delete_form": DeleteAccountForm(),
        "end_form": EmptyForm(),
        "login_sessions": login_sessions.active_for(current_user.id),
        **forms,
    }
    return render_template("account/page.html", **context), status


@bp.get("")
def page():
    return _page()


@bp.post("/profile")
def profile():
    form = ProfileForm()
    if not form.validate_on_submit():
        return _page(422, profile_form=form)
    login_sessions.signed_in_user().display_name = form.display_name.data
    db.session.commit()
    flash("Your name was saved.", "success")
    return redirect(url_for("account.page"))


@bp.post("/timezone")
def timezone():
    form = TimezoneForm()
    if not form.validate_on_submit():
        form.timezone.data = current_user.timezone or ""  # the menu shows what is still saved
        return _page(422, timezone_form=form)
    login_sessions.signed_in_user().timezone = form.timezone.data or None
    db.session.flush()
    reminders.reschedule_user(current_user.id)  # their reminders fire on their new clock
    db.session.commit()
    flash("Your time zone was saved.", "success")
    return redirect(url_for("account.page"))


@bp.post("/mail")
def mail():
    form = MailForm()
    if not form.validate_on_submit():
        return _page(422, mail_form=form)
    user = login_sessions.signed_in_user()
    user.digest_hour = form.digest_hour.data if form.digest.data else None
    user.reminder_mail = form.reminder_mail.data
    user.default_reminder = form.default_reminder.data
    db.session.commit()
    flash("Your email and reminder settings were saved.", "success")
    return redirect(url_for("account.page"))


@bp.post("/password")
def password():
    user = login_sessions.signed_in_user()
    form = PasswordForm()
    if form.validate_on_submit() and not verify_password(
        user.password_hash, form.current_password.data
    ):
        form.current_password.errors.append(WRONG_PASSWORD)
    if form.errors or not form.is_submitted():
        return _page(422, password_form=form)
    ended = user_actions.change_own_password(
        user, form.new_password.data, keep=current_user.current_login_session
    )
    flash(f"Password changed. {login_sessions.others_signed_out(ended)}", "success")
    return redirect(url_for("account.page"))


@bp.post("/delete")
def delete():
    user = login_sessions.signed_in_user()
    form = DeleteAccountForm()
    if form.validate_on_submit():
        if normalise_email(form.confirm_email.data) != user.email:
            form.confirm_email.errors.append("This is not your account's email.")
        elif not verify_password(user.password_hash, form.password.data):
            form.password.errors.append(WRONG_PASSWORD)
    if form.errors or not form.is_submitted():
        return _page(422, delete_form=form)
    try:
        user_actions.delete_own_account(user)
    except user_actions.ActionRefused as refused:
        form.form_errors.append(str(refused))
        return _page(409, delete_form=form)
    # After the commit: the login session went with the user, this forgets the cookie's.
    sign_out(login_sessions.current_actor())
    flash("Your account and all its data were deleted.", "info")
    return redirect(url_for("auth.login"))


@bp.post("/sessions/<int:session_id>/end")
def end_session(session_id: int):
    record = access.get_or_404(LoginSession, session_id).obj
    if record.id == current_user.current_login_session.id:
        sign_out(login_sessions.current_actor())
        flash("You have been signed out.", "info")
        return redirect(url_for("auth.login"))
    login_sessions.end(record)
    db.session.commit()
    flash("That session was signed out.", "success")
    return redirect(url_for("account.page"))
