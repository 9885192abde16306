from __future__ import annotations

import math
import time

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_limiter import RequestLimit
from flask_login import current_user, login_required

from app import audit, login_sessions
from app.addresses.services import mail_verification_link
from app.auth import bp
from app.auth.forms import LoginForm, RegisterForm
from app.auth.services import (
    EmailTaken,
    authenticate,
    create_user,
    find_user,
    sign_in,
    sign_out,
)
from app.extensions import db, limiter
from app.forms import has_control_chars, normalise_email
from app.urls import safe_next

LOGIN_FAILED = "Email or password is incorrect."


def _auth_limit() -> str:
    return current_app.config["AUTH_RATE_LIMIT"]


def _email_key() -> str:
    return "email:" + normalise_email(request.form.get("email", ""))[:254]


def _audit_lockout(limit: RequestLimit) -> None:
    """Record a lockout once per locked key and window, not once per refused request: a
    client hammering away must not turn every 429 into a database write."""
    # Whole seconds: Redis' EXPIRE (the production storage) refuses fractions.
    expiry = max(1, math.ceil(limit.reset_at - time.time()))
    if limiter.storage.incr(f"audit-lockout/{limit.key}", expiry) > 1:
        return
    email = normalise_email(request.form.get("email", ""))[:254]
    if has_control_chars(email):  # unvalidated input; PostgreSQL refuses NUL outright
        email = ""
    per = "account" if "auth-email" in limit.key else "address"
    audit.record(
        "rate_limited",
        actor=None,
        target=find_user(email) if email else None,
        target_email=email,
        detail=f"{request.path}: {limit.limit} per {per}",
    )
    db.session.commit()


# Per client address and per account, on POST only: stuffing from many addresses at one
# account and guessing from one address across accounts are both held back.
limit_by_ip = limiter.limit(
    _auth_limit, methods=["POST"], scope="auth-ip", on_breach=_audit_lockout
)
limit_by_email = limiter.limit(
    _auth_limit,
    methods=["POST"],
    key_func=_email_key,
    scope="auth-email",
    on_breach=_audit_lockout,
)


@bp.route("/register", methods=["GET", "POST"])
@limit_by_ip
@limit_by_email
def register():
    if current_user.is_authenticated:
        return redirect(url_for("tasks.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = create_user(
                form.email.data,
                form.password.data,
                form.display_name.data,
                timezone=form.timezone.data,
            )
        except EmailTaken:
            form.email.errors.append("An account with this email already exists.")
        else:
            sign_in(user, remember=False)
            # Usable at once; mail and invitations wait until the address is verified.
            mail_verification_link(user.id)
            flash("Welcome to Tasklane!", "success")
            flash(
                f"To verify your address, open the link we sent to {user.email}.",
                "info",
            )
            return redirect(url_for("tasks.index"))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@limit_by_ip
@limit_by_email
def login():
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("tasks.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            audit.record("login", actor=user, target=user)
            sign_in(user, remember=form.remember.data)  # commits the entry too
            return redirect(next_url or url_for("tasks.index"))
        email = normalise_email(form.email.data)
        audit.record("login_failed", actor=None, target=find_user(email), target_email=email)
        db.session.commit()
        status = 401
        form.form_errors.append(LOGIN_FAILED)
    elif form.is_submitted():
        status = 422
    return render_template("auth/login.html", form=form, next=next_url), status


@bp.post("/logout")
@login_required
def logout():
    sign_out(login_sessions.current_actor())
    flash("You have been signed out.", "info")
    return redirect(url_for("auth.login"))
