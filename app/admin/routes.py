from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app import login_sessions, user_actions
from app.admin import bp, services
from app.admin.forms import (
    AuditFilterForm,
    DeleteUserForm,
    TemporaryPasswordForm,
    UserFilterForm,
)
from app.audit import ACTIONS
from app.errors.handlers import error_response
from app.extensions import db
from app.forms import normalise_email
from app.htmx import is_htmx, render
from app.jobs import failures, health
from app.models import User


@bp.before_request
@login_required
def _admins_only():
    # One gate for the whole blueprint: anonymous -> login, signed-in non-admin -> 403.
    if not current_user.is_admin:
        abort(403)


@bp.get("")
def dashboard():
    return render_template(
        "admin/dashboard.html",
        stats=services.dashboard(),
        queue=health.check(),
        failed_jobs=failures.recent(),
    )


# ---- User list ------------------------------------------------------------------------


@bp.get("/users")
def users():
    form = UserFilterForm(request.args)
    if not form.validate():
        return _user_list(form, None, status=422)
    filters = services.UserFilters(
        q=form.q.data or "",
        role=form.role.data,
        status=form.status.data,
        sort=form.sort.data,
        page=form.page.data or 1,
    )
    return _user_list(form, filters)


def _user_list(form, filters, status=200):
    page = services.user_page(filters) if filters else None
    return render(
        "admin/users.html",
        "admin/_user_results.html",
        status,
        form=form,
        filters=filters or services.UserFilters(),
        results=page,
        sorts=services.SORTS,
    )


# ---- One user -------------------------------------------------------------------------


@bp.get("/users/<int:user_id>")
def user_detail(user_id: int):
    return _user_panel(db.get_or_404(User, user_id))


def _user_panel(user: User, status: int = 200, **forms):
    """The user's page, or for htmx the panel that every action swaps in place."""
    context = {
        "user": user,
        "session_count": len(login_sessions.active_for(user.id)),
        "recent": services.recent_events(user.email),
        "actions": ACTIONS,
        "password_form": TemporaryPasswordForm(),
        "delete_form": DeleteUserForm(),
        **forms,
    }
    return render("admin/user.html", "admin/_user_panel.html", status, **context)


def _act(user: User, action, message: str, **kwargs):
    """Run an admin action: 409 in place when a guard refuses, else the updated panel for
    htmx or a 303 back to the user's page for a plain form post."""
    try:
        action(user, actor=login_sessions.current_actor(), **kwargs)
    except user_actions.ActionRefused as refused:
        return _refused(str(refused))
    flash(message.format(email=user.email), "success")
    if is_htmx():
        return _user_panel(user)
    return redirect(url_for("admin.user_detail", user_id=user.id), 303)


def _refused(message: str):
    response = make_response(*error_response(409, message))
    if is_htmx():
        # Show the refusal in the panel's message slot and keep the panel itself.
        response.headers["HX-Retarget"] = "#user-action-message"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


@bp.post("/users/<int:user_id>/deactivate")
def deactivate(user_id: int):
    return _act(
        db.get_or_404(User, user_id),
        user_actions.deactivate,
        "{email} was deactivated and signed out everywhere.",
    )


@bp.post("/users/<int:user_id>/activate")
def activate(user_id: int):
    return _act(db.get_or_404(User, user_id), user_actions.activate, "{email} can sign in again.")


@bp.post("/users/<int:user_id>/promote")
def promote(user_id: int):
    return _act(db.get_or_404(User, user_id), user_actions.promote, "{email} is now an admin.")


@bp.post("/users/<int:user_id>/demote")
def demote(user_id: int):
    return _act(db.get_or_404(User, user_id), user_actions.demote, "{email} is no longer an admin.")


@bp.post("/users/<int:user_id>/password")
def set_password(user_id: int):
    user = db.get_or_404(User, user_id)
    form = TemporaryPasswordForm()
    if not form.validate_on_submit():
        return _user_panel(user, 422, password_form=form)
    return _act(
        user,
        user_actions.set_password,
        "Temporary password set: {email} must choose a new one at the next sign-in.",
        password=form.password.data,
    )


@bp.post("/users/<int:user_id>/delete")
def delete(user_id: int):
    user = db.get_or_404(User, user_id)
    form = DeleteUserForm()
    if form.validate_on_submit() and normalise_email(form.confirm_email.data) != user.email:
        form.confirm_email.errors.append("This is not the user's email.")
    if form.errors or not form.is_submitted():
        return _user_panel(user, 422, delete_form=form)
    email = user.email
    try:
        user_actions.delete_user(user, actor=login_sessions.current_actor())
    except user_actions.ActionRefused as refused:
        return _refused(str(refused))
    flash(f"{email} and all their data were deleted.", "success")
    if is_htmx():
        # The page is gone: send the browser to the list (the flash waits there).
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url_for("admin.users")
        return response
    return redirect(url_for("admin.users"), 303)


# ---- Audit log ------------------------------------------------------------------------


@bp.get("/audit")
def audit_log():
    form = AuditFilterForm(request.args)
    filters = None
    if form.validate():
        filters = services.AuditFilters(
            actor=form.actor.data or "",
            target=form.target.data or "",
            action=form.action.data,
            page=form.page.data or 1,
        )
    return render(
        "admin/audit.html",
        "admin/_audit_results.html",
        200 if filters else 422,
        form=form,
        filters=filters or services.AuditFilters(),
        results=services.audit_page(filters) if filters else None,
        actions=ACTIONS,
    )
