"""Members, invitations, leaving and handing over. Every project is reached through
access.get_or_404 with the role the action needs: 404 for someone who is not a member, 403
with a message for a role too low. Each action is a plain form post answered with a 303
(JavaScript off and on alike). The buttons' forms carry nothing but the CSRF token, which
CSRFProtect checks before any view runs."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, user_loaded_from_cookie
from werkzeug.exceptions import Conflict, HTTPException
from wtforms.fields.choices import SelectChoice

from app import access, login_sessions
from app.errors.handlers import http_error
from app.extensions import limiter
from app.models import Project, Role
from app.sharing import bp, services
from app.sharing.forms import InviteForm, RoleForm, TransferForm


@bp.before_request
@login_required
def _signed_in_only():
    pass


@user_loaded_from_cookie.connect
def _note_waiting_on_return(_app, user, **_extra) -> None:
    """A browser restarted and its remember cookie signed the user back in: as good as a
    sign-in for telling them about invitations (one query, on that request only)."""
    services.note_waiting(user)


def _invite_limit() -> str:
    return current_app.config["INVITE_RATE_LIMIT"]


def _inviter_key() -> str:
    return f"user:{current_user.id}"


def _members_page(project_id: int):
    return redirect(url_for("sharing.members", project_id=project_id), code=303)


def _page(reached: access.Reached, status: int = 200, **forms):
    project, role = reached
    members = services.members(project.id)
    admins = [m for m in members if m.role == Role.ADMIN]
    transfer_form = forms.pop("transfer_form", None) or TransferForm(formdata=None)
    transfer_form.new_owner.choices = [
        SelectChoice(m.user_id, f"{m.display_name} ({m.email})") for m in admins
    ]
    context = {
        "project": project,
        "role": role,
        "members": members,
        "invitations": services.pending(project.id) if role >= Role.ADMIN else [],
        "invite_form": InviteForm(formdata=None),
        "role_form": RoleForm(formdata=None),
        "transfer_form": transfer_form,
        "Role": Role,
        **forms,
    }
    return render_template("sharing/members.html", **context), status


@bp.errorhandler(Conflict)
def _refused(error: Conflict):
    """An action the project's state refuses (services.refuse: the owner leaving, a hand-over
    to someone who owns a project by its name...) answers its 409 on the members page it was
    sent from, the reason on top and the forms at hand, rather than on a bare error page."""
    project_id = (request.view_args or {}).get("project_id")
    if project_id is None:  # an invitation's own routes
        return http_error(error)
    try:
        reached = access.get_or_404(Project, project_id)
    except HTTPException:  # no longer a member: the bare page, which says no more than 409
        return http_error(error)
    flash(error.description, "error")
    return _page(reached, 409)


@bp.get("/projects/<int:project_id>/members")
def members(project_id: int):
    return _page(access.get_or_404(Project, project_id))


@bp.post("/projects/<int:project_id>/members/<int:user_id>/role")
def change_role(project_id: int, user_id: int):
    reached = access.get_or_404(Project, project_id, Role.ADMIN)
    form = RoleForm()
    if not form.validate_on_submit():
        return _page(reached, 422, role_form=form)
    target = services.change_role(reached.obj, user_id, Role(form.role.data))
    flash(f"{target.display_name} is now {Role(form.role.data).label.lower()}.", "success")
    return _members_page(project_id)


@bp.post("/projects/<int:project_id>/members/<int:user_id>/remove")
def remove_member(project_id: int, user_id: int):
    reached = access.get_or_404(Project, project_id, Role.ADMIN)
    target = services.remove_member(reached.obj, user_id)
    flash(f"{target.display_name} is no longer a member of “{reached.obj.name}”.", "success")
    return _members_page(project_id)


@bp.post("/projects/<int:project_id>/leave")
def leave(project_id: int):
    reached = access.get_or_404(Project, project_id)
    services.leave(reached.obj, login_sessions.signed_in_user())
    flash(f"You left “{reached.obj.name}”.", "success")
    return redirect(url_for("tasks.index"), code=303)


@bp.post("/projects/<int:project_id>/transfer")
def transfer(project_id: int):
    reached = access.get_or_404(Project, project_id, Role.OWNER)
    form = TransferForm()
    if not form.validate_on_submit():
        return _page(reached, 422, transfer_form=form)
    target = services.transfer(reached.obj, current_user.id, form.new_owner.data)
    flash(f"{target.display_name} owns “{reached.obj.name}” now; you are an admin.", "success")
    return _members_page(project_id)


# ---- invitations -------------------------------------------------------------------------


@bp.post("/projects/<int:project_id>/invitations")
@limiter.limit(_invite_limit, key_func=_inviter_key, scope="invite")
def invite(project_id: int):
    reached = access.get_or_404(Project, project_id, Role.ADMIN)
    services.refuse_inbox(reached.obj)
    form = InviteForm()
    if not form.validate_on_submit():
        return _page(reached, 422, invite_form=form)
    email, role = form.email.data, Role(form.role.data)
    if services.invite(reached.obj, email, role):
        # The same words whether or not the address has an account.
        flash(
            f"{email} is invited as {role.label.lower()}. We sent them an email; whoever signs"
            " in with that address will see the invitation.",
            "success",
        )
    else:
        flash(f"{email} is a member of this project already.", "info")
    return _members_page(project_id)


@bp.post("/projects/<int:project_id>/invitations/<int:invitation_id>/cancel")
def cancel_invitation(project_id: int, invitation_id: int):
    reached = access.get_or_404(Project, project_id, Role.ADMIN)
    email = services.cancel(reached.obj, invitation_id)
    flash(f"The invitation for {email} is cancelled.", "success")
    return _members_page(project_id)


@bp.get("/invitations")
def invitations():
    if not current_user.email_verified:
        session.pop(services.PENDING_KEY, None)
        return render_template("sharing/invitations.html", invitations=[], unverified=True)
    waiting = services.waiting_for(current_user.email)
    # The task list's notice follows what is left to answer.
    if waiting:
        session[services.PENDING_KEY] = len(waiting)
    else:
        session.pop(services.PENDING_KEY, None)
    return render_template("sharing/invitations.html", invitations=waiting)


def _one_answered() -> None:
    """The task list's notice counts one invitation fewer (it is read from the session)."""
    left = session.get(services.PENDING_KEY, 0) - 1
    if left > 0:
        session[services.PENDING_KEY] = left
    else:
        session.pop(services.PENDING_KEY, None)


@bp.post("/invitations/<int:invitation_id>/accept")
def accept(invitation_id: int):
    project = services.accept(login_sessions.signed_in_user(), invitation_id)
    _one_answered()
    flash(f"You joined “{project.name}”.", "success")
    return _members_page(project.id)


@bp.post("/invitations/<int:invitation_id>/decline")
def decline(invitation_id: int):
    name = services.decline(login_sessions.signed_in_user(), invitation_id)
    _one_answered()
    flash(f"You declined the invitation to “{name}”.", "info")
    return redirect(url_for("sharing.invitations"), code=303)
