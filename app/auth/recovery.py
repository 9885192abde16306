"""Account recovery: "Forgot your password?" mails a reset link; the link's page sets a new
password, ends every session of the account and signs this browser in.

The request for a link answers the same, and does the same work, whether or not the email
has an account: the view only queues `mail_reset_link`, and the job looks the address up
(in the worker, where its time is nobody's to measure), issues the token and queues the
message. Links carry their token in the query string (GET) and the form (POST), never the
path, which the request log writes.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import login_sessions, user_actions, user_tokens
from app.auth import bp
from app.auth.forms import ForgotPasswordForm, ResetPasswordForm
from app.auth.routes import limit_by_email, limit_by_ip
from app.auth.services import find_user, sign_in
from app.extensions import db
from app.jobs import job


@bp.route("/forgot-password", methods=["GET", "POST"])
@limit_by_ip
@limit_by_email
def forgot_password():
    if current_user.is_authenticated:
        return redirect(url_for("account.page"))
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        mail_reset_link(form.email.data)
        return render_template("auth/forgot_password_sent.html", email=form.email.data)
    status = 422 if form.is_submitted() else 200
    return render_template("auth/forgot_password.html", form=form), status


@bp.route("/reset-password", methods=["GET", "POST"])
@limit_by_ip
def reset_password():
    token = request.values.get("token", "")
    if not token:
        return redirect(url_for("auth.forgot_password"))
    held = user_tokens.holder(token, user_tokens.RESET)
    if held is None:
        return render_template("auth/reset_link_gone.html"), 410
    user = held.user
    form = ResetPasswordForm(token=token)
    if form.validate_on_submit():
        if not user_tokens.redeem(token, user_tokens.RESET):  # the same link, used a moment ago
            db.session.rollback()
            return render_template("auth/reset_link_gone.html"), 410
        ended = user_actions.reset_forgotten_password(user, form.password.data)
        sign_in(user, remember=False)
        others = f" {login_sessions.others_signed_out(ended)}" if ended else ""
        flash(f"Your password was changed and you are signed in.{others}", "success")
        return redirect(url_for("tasks.index"))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/reset_password.html", form=form, email=user.email), status


def _about(email: str) -> str:
    return f"password reset for {email}"


@job(retries=3, retry_delay=30, backoff=2, summary=_about)
def mail_reset_link(email: str) -> None:
    """Mail a reset link to `email` if an active account has it; otherwise nothing (the
    person who asked was told the same either way)."""
    db.session.connection(execution_options={"tasklane_write": True})  # it writes the token
    user = find_user(email)
    if user is None or not user.is_active:
        return
    user_tokens.mail_link(
        user,
        user_tokens.RESET,
        "auth.reset_password",
        "password_reset",
        "Reset your Tasklane password",
        email=user.email,
    )
