"""Projects: the list of them, one project's tasks (the task list, scoped), and its settings:
rename, recolour, archive, delete. Every lookup goes through access.get_or_404, so people who
are not members get 404 and members whose role is too low get 403."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app import access, activity
from app.forms import parse_bounded_int
from app.htmx import is_htmx, render
from app.models import Project, Role, utcnow
from app.projects import bp, services
from app.projects.forms import DeleteProjectForm, ProjectForm

# The module, not its names: app.tasks.routes imports app.projects.services, so whichever
# package is imported first finds the other half-initialised (a script that imports
# app.tasks alone, like bench/raw.py, comes through app.tasks first).
from app.tasks import routes as task_routes
from app.tasks.services import move_all
from app.url_converters import MAX_ID


@bp.before_request
@login_required
def _signed_in_only():
    pass


def _project(project_id: int, need: Role = Role.VIEWER, *, changes: bool = False):
    """The project and the user's role in it (404 / 403 by access.get_or_404); 409 when
    `changes` would rename, archive or delete an Inbox."""
    reached = access.get_or_404(Project, project_id, need)
    if changes and reached.obj.is_inbox:
        abort(409, description=services.INBOX_IS_FIXED)
    return reached


def _index(form: ProjectForm | None = None, status: int = 200):
    rows = services.project_rows(current_user.id)
    return render_template(
        "projects/index.html",
        live=[row for row in rows if row.archived_at is None],
        archived=[row for row in rows if row.archived_at is not None],
        form=form or ProjectForm(formdata=None),
    ), status


@bp.get("")
def index():
    return _index()


@bp.post("")
def create():
    form = ProjectForm()
    if form.validate_on_submit():
        try:
            project = services.create_project(current_user.id, form.name.data, _colour(form))
        except services.NameTaken:
            form.name.errors.append(services.NAME_TAKEN)
        else:
            flash(f"Project “{project.name}” created.", "success")
            return redirect(url_for("projects.show", project_id=project.id), code=303)
    return _index(form, 422)


def _colour(form: ProjectForm) -> str:
    return form.colour.data.lower()


BAD_CURRENT = "“current” is the number of the project the page shows."


@bp.get("/nav")
def nav_list():
    """The project list beside the tasks with fresh open-task counts: htmx asks for it when a
    change to tasks answers `tasks-changed` (app/tasks/routes.py). `current` is the project
    the page shows, marked as such."""
    if not is_htmx():
        return redirect(url_for("projects.index"))
    current_id = None
    if request.args.get("current"):
        try:
            current_id = parse_bounded_int(request.args["current"], 1, MAX_ID, BAD_CURRENT)
        except ValueError as error:
            abort(400, description=str(error))
    rows = services.project_rows(current_user.id, archived=False)
    return render_template("projects/_nav_list.html", rows=rows, current_id=current_id)


@bp.get("/<int:project_id>")
def show(project_id: int):
    project, role = _project(project_id)
    if project.is_inbox:
        return redirect(url_for("tasks.index"))
    return task_routes.list_page(task_routes.ListScope(project.id, role, project))


BAD_CURSOR = "“before” is an event number from the “Load more” link."


@bp.get("/<int:project_id>/activity")
def activity_log(project_id: int):
    """Who did what to which task, newest first; `before` is "Load more"'s keyset cursor."""
    project, _ = _project(project_id)
    before = None
    if "before" in request.args:
        try:  # the project's one way of reading a number from a request
            before = parse_bounded_int(request.args["before"], 1, MAX_ID, BAD_CURSOR)
        except ValueError as error:
            abort(400, description=str(error))
    page = activity.page(project.id, current_user.id, before)
    context = {"project": project, "page": page, "now": utcnow(), "shown": activity.SHOWN}
    if before is not None and is_htmx():
        return render_template("projects/_activity_more.html", **context)
    return render("projects/activity.html", "projects/_activity.html", **context)


def _settings(project, role, form: ProjectForm | None = None, status: int = 200):
    form = form or ProjectForm(formdata=None, name=project.name, colour=project.colour)
    return render_template("projects/settings.html", project=project, role=role, form=form), status


@bp.get("/<int:project_id>/settings")
def settings(project_id: int):
    return _settings(*_project(project_id, Role.ADMIN))


@bp.route("/<int:project_id>", methods=["POST", "PATCH", "PUT"])
def update(project_id: int):
    project, role = _project(project_id, Role.ADMIN, changes=True)
    form = ProjectForm()
    if not form.validate_on_submit():
        return _settings(project, role, form, 422)
    try:
        services.update_project(project, form.name.data, _colour(form))
    except services.NameTaken:
        taken = services.NAME_TAKEN if role == Role.OWNER else services.OWNER_HAS_NAME
        form.name.errors.append(taken)
        return _settings(project, role, form, 422)
    flash(f"Project “{project.name}” saved.", "success")
    return redirect(url_for("projects.settings", project_id=project.id), code=303)


@bp.post("/<int:project_id>/archive")
def archive(project_id: int):
    project, _ = _project(project_id, Role.ADMIN, changes=True)
    services.set_archived(project, True)
    flash(
        f"Project “{project.name}” archived: it and its tasks are out of the way until you"
        " unarchive it.",
        "success",
    )
    return redirect(url_for("projects.index"), code=303)


@bp.post("/<int:project_id>/unarchive")
def unarchive(project_id: int):
    project, _ = _project(project_id, Role.ADMIN, changes=True)
    services.set_archived(project, False)
    flash(f"Project “{project.name}” is back, with all its tasks.", "success")
    return redirect(url_for("projects.show", project_id=project.id), code=303)


def _delete_form(project: Project, **kwargs) -> DeleteProjectForm:
    """The delete form, its "move first" choices: the other projects the user may add to."""
    form = DeleteProjectForm(**kwargs)
    others = services.addable_projects(current_user.id)
    form.move_to.choices = [(0, "Nowhere: delete them with the project")] + [
        (pid, name) for pid, name in others if pid != project.id
    ]
    return form


def _confirm(project, form, status: int = 200):
    return render_template(
        "projects/delete.html",
        project=project,
        form=form,
        task_count=services.live_task_count(project.id),
    ), status


@bp.get("/<int:project_id>/delete")
def confirm_delete(project_id: int):
    project, _ = _project(project_id, Role.OWNER, changes=True)
    return _confirm(project, _delete_form(project, formdata=None))


@bp.post("/<int:project_id>/delete")
def delete(project_id: int):
    project, _ = _project(project_id, Role.OWNER, changes=True)
    form = _delete_form(project)
    if not form.validate_on_submit():
        return _confirm(project, form, 422)
    name, moved = project.name, 0
    if form.move_to.data:
        # The choices held only projects the user may add to; checked again, as every move is.
        target = access.get_or_404(Project, form.move_to.data, Role.EDITOR).obj
        moved = move_all(project.id, target.id)
    services.delete_project(project)
    kept = f" Its {moved} task{'s' if moved != 1 else ''} moved first." if moved else ""
    flash(f"Project “{name}” deleted.{kept}", "success")
    return redirect(url_for("projects.index"), code=303)
