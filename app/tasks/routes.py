"""The task list. Each action is one view serving both modes: an htmx request gets the
fragment it swaps, a plain form post gets a redirect back to the list (POST/redirect/GET)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qsl, urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import raiseload, selectinload
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from app import access, reminders, session_cookie
from app.extensions import db
from app.htmx import is_htmx, render, trigger
from app.markdown import render_notes
from app.models import Project, Role, Tag, Task
from app.projects.services import addable_projects, project_named, project_rows
from app.tasks import assignees, bp, services
from app.tasks.forms import (
    BULK_ACTIONS,
    BulkForm,
    QuickAddForm,
    RestoreForm,
    TaskForm,
    list_query,
    split_tags,
)
from app.tasks.listing import BadListQuery, ListQuery
from app.tasks.quickadd import SYNTAX_HELP, parse_quick_add
from app.tasks.recurrence import describe, rule_to_choices, validate_rule
from app.tasks.views import VIEWS, fetch_project, fetch_view
from app.timezones import today_for
from app.url_converters import MAX_ID
from app.urls import safe_next

# Disposable: should a long undo list not fit in the cookie, the toast is what goes.
UNDO_KEY = session_cookie.disposable("undo_task_ids")


@bp.before_request
@login_required
def _signed_in_only():
    pass


@bp.after_request
def _tasks_changed(response):
    """A change to tasks made through htmx (added, ticked off, edited, moved, deleted,
    restored) may change the open-task counts beside the list: the `tasks-changed` event has
    the project list fetch itself again (templates/_macros/projects.html). Without JavaScript
    every change reloads the page, counts and all."""
    if request.method != "GET" and response.status_code < 300 and is_htmx():
        trigger(response, "tasks-changed")
    return response


# ---- helpers ----------------------------------------------------------------------------


def _today() -> date:
    """Today where the signed-in user is: what every list, label, quick-add date and next
    repeat in this blueprint is counted from."""
    return today_for(current_user)


def _query_from(args) -> ListQuery:
    try:
        return list_query(args)
    except BadListQuery as error:
        abort(400, description=str(error))


@dataclass(frozen=True)
class ListScope:
    """Which tasks a list page shows: the Inbox (/tasks), one project (/projects/<id>) or a
    view across projects (/tasks/today, ...: `view`, with no project of its own). Everything
    else about the page (filters, sorting, "Load more", bulk actions, keys, quick add) is the
    same for all of them. Quick add on a view's page adds to the Inbox."""

    project_id: int | None
    role: Role
    project: Project | None = None  # None: the signed-in user's Inbox, or a view
    view: str | None = None  # a key of app.tasks.views.VIEWS

    @property
    def url(self) -> str:
        if self.view is not None:
            return url_for(f"tasks.{self.view}")
        if self.project is None:
            return url_for("tasks.index")
        return url_for("projects.show", project_id=self.project_id)

    @property
    def title(self) -> str:
        if self.view is not None:
            return VIEWS[self.view]
        return "Inbox" if self.project is None else self.project.name


def inbox_scope() -> ListScope:
    return ListScope(current_user.inbox_id, Role.OWNER)


def view_scope(view: str) -> ListScope:
    """A view across the user's projects. Its own role is the Inbox's (quick add and the bulk
    bar are offered); each row offers what the user's role in its project allows."""
    return ListScope(None, Role.OWNER, view=view)


# The list pages: the Inbox, a project's page and the views across projects.
_LIST_ENDPOINTS = ("tasks.index", "projects.show", *(f"tasks.{view}" for view in VIEWS))


def _list_endpoint(path: str) -> tuple[str, dict] | None:
    """The list page (_LIST_ENDPOINTS) that `path` is, with its arguments.
    Any server name will do: routes match on paths alone (no host or subdomain matching)."""
    try:
        endpoint, args = current_app.url_map.bind("localhost").match(path, method="GET")
    except HTTPException:
        return None
    return (endpoint, args) if endpoint in _LIST_ENDPOINTS else None


def _current_view() -> tuple[ListScope, ListQuery]:
    """The list the user is looking at: from htmx's HX-Current-URL, else the Referer."""
    url = urlsplit(request.headers.get("HX-Current-URL") or request.referrer or "")
    args = MultiDict(parse_qsl(url.query))
    args.pop("after", None)
    try:
        query = list_query(args)
    except BadListQuery:
        query = ListQuery()
    found = _list_endpoint(url.path)
    if found and found[0] == "projects.show":
        try:
            reached = access.get_or_404(Project, found[1]["project_id"])
            return ListScope(reached.obj.id, reached.role, reached.obj), query
        except HTTPException:  # no longer theirs to see: show them their Inbox
            pass
    view = found[0].removeprefix("tasks.") if found else None
    if view in VIEWS:
        return view_scope(view), query
    return inbox_scope(), query


def _back():
    """Redirect (303) to the list page the form was posted from, or to /tasks."""
    referrer = urlsplit(request.referrer or "")
    same_site = referrer.netloc in ("", request.host)
    path = referrer.path + ("?" + referrer.query if referrer.query else "")
    on_list = _list_endpoint(referrer.path) is not None
    target = safe_next(path) if same_site and on_list else None
    return redirect(target or url_for("tasks.index"), code=303)


# A task with its tags; any other relationship a template reaches for raises instead of
# quietly costing a query per row. Not joinedload: SQLite answers its nested join of
# task_tags by reading the whole table (tests/test_list_plans.py).
_WITH_TAGS = (selectinload(Task.tags), raiseload("*"))


def _task(task_id: int, need: Role = Role.VIEWER) -> access.Reached:
    """The task with its tags (two queries) and the signed-in user's role in its project, if
    that role reaches `need`: 404 for someone who may not see it, 403 for a role too low."""
    return access.get_or_404(Task, task_id, need, _WITH_TAGS)


def _all_tags() -> list:
    """The user's tag names for the filter menu and the datalists: plain rows, as a menu
    needs two strings a tag and building 50 tag objects a page cost more than the menu."""
    return db.session.execute(
        select(Tag.name, Tag.name_key).where(Tag.owner_id == current_user.id).order_by(Tag.name_key)
    ).all()


def _list_context(query: ListQuery, scope: ListScope, **extra) -> dict:
    on = _today()
    return {
        "query": query,
        "scope": scope,
        "role": scope.role,  # what the page offers, and its rows (a view's rows say their own)
        "page": fetch_view(scope.view, current_user.id, query, on, extra.get("nav"))
        if scope.view
        else fetch_project(scope.project_id, query, on),
        "today": on,
        **extra,
    }


def _page_only(scope: ListScope, **forms) -> dict:
    """What only the full list page shows: the forms, tag menus and the project list (one
    grouped query, which the htmx fragments never pay for)."""
    nav = project_rows(current_user.id, archived=False)  # also what the views' sidebar shows
    return {
        "form": forms.pop("form", None),  # a refused quick add's; a page load builds none
        "bulk_actions": BULK_ACTIONS,
        "all_tags": _all_tags(),
        "nav": nav,
        "move_choices": [(row.id, row.name) for row in nav if access.can_edit(row.role)],
        # Who "Assign to" offers: the members of this list's project, then nobody.
        "assign_choices": [(p.id, p.name) for p in _members(scope.project_id)] + [(0, "Nobody")],
        "syntax_help": SYNTAX_HELP,
        **forms,
    }


def _results(view: tuple[ListScope, ListQuery] | None = None, status: int = 200, **extra):
    """The list region (#task-results) re-rendered for htmx after a change to many rows."""
    scope, query = view or _current_view()
    context = _list_context(query, scope, **extra)
    return render_template("tasks/_results.html", **context), status


def _series_ended(titles: list[str]) -> str:
    """What the user is told when completing repeating tasks made no next copy."""
    if len(titles) == 1:
        return f"“{titles[0]}” repeats no more: its next date would be after 31 Dec 9999."
    return (
        f"{len(titles)} repeating tasks repeat no more: their next dates would be after"
        " 31 Dec 9999."
    )


def _not_assigned(refused: int) -> str:
    """Why a bulk "Assign to" left tasks out (never the person's name: they may be no member
    of anything the user shares)."""
    if refused == 1:
        return "1 task could not be assigned: the person chosen is not a member of its project."
    return (
        f"{refused} tasks could not be assigned: the person chosen is not a member of their"
        " projects."
    )


def _refused_page(view: tuple[ListScope, ListQuery], **forms):
    """The whole list page (422) for a plain form post the list's forms refused."""
    scope, query = view
    context = _list_context(query, scope, **_page_only(scope, **forms))
    return render_template("tasks/index.html", **context), 422


def _editor(task: Task, form: TaskForm, status: int = 200, conflict: Task | None = None):
    return render(
        "tasks/edit.html",
        "tasks/_row_edit.html",
        status,
        task=task,
        form=form,
        conflict=conflict,
        all_tags=_all_tags(),
        today=_today(),
    )


def _with_project_choices(form: TaskForm, task: Task) -> TaskForm:
    """The editor's project menu: the projects the user may add to, and the task's own (an
    archived one stays where it is unless moved); and its assignee menu: the members of the
    task's project, or nobody."""
    form.project_id.choices = addable_projects(current_user.id, also=task.project_id)
    people = _members(task.project_id)
    form.assignee_id.choices = [(0, "Nobody"), *[(p.id, p.name) for p in people]]
    return form


def _members(project_id: int | None) -> list[assignees.Member]:
    """Who a task in the project may be assigned to (the menus' choices). The user's own
    Inbox has only them, as every Inbox has only its owner: no query for the most used list.
    A view across projects (no project: None) offers the user themself, whom every task
    there may be assigned to (they are a member of each); the bulk action assigns anyone
    only where they are a member."""
    if project_id is None or project_id == current_user.inbox_id:
        me = current_user
        return [assignees.Member(me.id, me.display_name, me.email)]
    return assignees.members(project_id)


# ---- the list ---------------------------------------------------------------------------


@bp.get("")
def index():
    return list_page(inbox_scope())


def list_page(scope: ListScope):
    """The task list of `scope`: the Inbox here, the views across projects beside it, a
    project's page at /projects/<id>."""
    query = _query_from(request.args)
    if query.after is not None and is_htmx():
        # "Load more": just the next rows, appended to the list.
        return render_template("tasks/_more.html", **_list_context(query, scope))
    undo_ids = session.pop(UNDO_KEY, None)
    # The fragment (#task-results) shows neither the menus nor the undo toast: what only the
    # page shows is loaded only for the page.
    page_only = {}
    if not is_htmx():
        page_only = _page_only(
            scope,
            undo_tasks=services.tasks_for(
                current_user.id, undo_ids or [], deleted=True, offered=True
            ),
            undo_ids=undo_ids,
        )
    context = _list_context(query, scope, **page_only)
    return render("tasks/index.html", "tasks/_results.html", **context)


def _view_page(view: str):
    def page():
        return list_page(view_scope(view))

    page.__name__ = view
    return page


for _view in VIEWS:  # /tasks/today, /tasks/upcoming, /tasks/assigned, /tasks/all
    bp.add_url_rule(f"/{_view}", _view, _view_page(_view), methods=["GET"])


@bp.get("/help")
def help_page():
    return render_template("tasks/help.html", syntax_help=SYNTAX_HELP)


@bp.post("")
def create():
    form = QuickAddForm()
    scope = _quick_add_scope(form)
    if form.validate_on_submit():
        parsed = parse_quick_add(form.title.data, _today())
        project_id, problem = scope.project_id, None
        if parsed.project:
            project_id, problem = project_named(current_user.id, parsed.project)
            project_id = project_id or scope.project_id
        assignee_id, who = None, None
        if parsed.assignee:  # a member of the project the task goes to
            assignee_id, who = assignees.member_named(project_id, parsed.assignee)
        # An unknown `+name` or `@name` stays in the title: projects are made on purpose, not
        # by typing, and the answer says why nobody was assigned.
        unread = {"project": problem, "assignee": who}
        title = parsed.title_keeping(*[kind for kind, why in unread.items() if why])
        problem = " ".join(why for why in unread.values() if why) or None
        if not title:
            form.title.errors.append("Add a title as well as the tags and dates.")
        elif len(title) > 200:
            form.title.errors.append("The title is at most 200 characters.")
        else:
            task = services.create_task(
                project_id,
                current_user.id,
                title,
                tag_names=parsed.tags,
                priority=parsed.priority,
                due_date=parsed.due,
                due_time=parsed.due_time,
                recurrence=parsed.repeat,
                assignee_id=assignee_id,
            )
            return _created(task, scope, problem)
    if is_htmx():
        body = render_template("tasks/_quick_add.html", form=form, scope=scope)
        return body, 422, {"HX-Retarget": "#quick-add", "HX-Reswap": "outerHTML"}
    return _refused_page((scope, ListQuery()), form=form)


def _quick_add_scope(form: QuickAddForm) -> ListScope:
    """The list quick add was typed into (its hidden project field; the Inbox without one):
    where a task goes when no `+name` says otherwise. 404/403 unless the user may add there."""
    project_id = form.project_id.data
    if not project_id or project_id == current_user.inbox_id:
        return inbox_scope()
    reached = access.get_or_404(Project, project_id, Role.EDITOR)
    return ListScope(reached.obj.id, reached.role, reached.obj)


def _created(task: Task, scope: ListScope, problem: str | None):
    """The answer to quick add: the new row when it belongs on the list it was typed into,
    and a message saying where it went otherwise, or why its `+name` was not read."""
    here = task.project_id == scope.project_id
    if not here:  # a `+name` sent it elsewhere: the answer names where
        where = db.session.scalar(select(Project.name).where(Project.id == task.project_id))
    else:
        where = scope.title
    if problem:
        flash(f"Added “{task.title}” to {where}. {problem}", "warning")
    elif not here:
        flash(f"Added “{task.title}” to {where}.", "success")
    elif not is_htmx():
        flash(f"Added “{task.title}”.", "success")
    if is_htmx():
        return render_template(
            "tasks/_created.html", task=task, here=here, role=scope.role, today=_today()
        )
    return _back()


# ---- one task ---------------------------------------------------------------------------


@bp.get("/<int:task_id>")
def detail(task_id: int):
    task, role = _task(task_id)
    return render_template(
        "tasks/detail.html",
        task=task,
        role=role,
        notes_html=render_notes(task.notes),
        repeat=describe(task.recurrence) if task.recurrence else None,
        today=_today(),
    )


@bp.get("/<int:task_id>/row")
def row(task_id: int):
    task, role = _task(task_id)
    if not is_htmx():
        return redirect(url_for("tasks.index", _anchor=f"task-{task.id}"))
    return render_template("tasks/_row.html", task=task, role=role, today=_today())


@bp.get("/<int:task_id>/edit")
def edit(task_id: int):
    task, _ = _task(task_id, Role.EDITOR)
    return _editor(task, _with_project_choices(_form_for(task), task))


def _form_for(task: Task) -> TaskForm:
    repeat, interval, weekdays = rule_to_choices(task.recurrence)
    return TaskForm(
        formdata=None,
        title=task.title,
        notes=task.notes,
        priority=task.priority,
        due_date=task.due_date,
        due_time=task.due_time,
        reminders=reminders.offsets_of(task.id),
        tags=", ".join(tag.name for tag in task.tags),
        project_id=task.project_id,
        assignee_id=task.assignee_id or 0,
        repeat=repeat,
        interval=interval,
        weekdays=weekdays,
        version=task.version,
    )


@bp.route("/<int:task_id>", methods=["POST", "PATCH", "PUT"])
def update(task_id: int):
    task, role = _task(task_id, Role.EDITOR)
    form = _with_project_choices(TaskForm(), task)
    if not form.validate_on_submit():
        return _editor(task, form, 422)
    rule = form.rule
    problem = validate_rule(rule) if rule else None
    if problem:
        form.repeat.errors = [problem]
        return _editor(task, form, 422)
    changes = services.TaskChanges(
        title=form.title.data,
        notes=form.notes.data or "",
        priority=form.priority.data,
        due_date=form.due_date.data,
        due_time=form.due_time.data,
        reminders=form.reminders.data or [],
        recurrence=rule,
        tag_names=split_tags(form.tags.data),
    )
    target = _move_target(task, form.project_id.data)
    changes.project_id = target.id if target else None
    if problem := _assignment(task, form.assignee_id.data, target, changes):
        form.assignee_id.errors = [problem]
        return _editor(task, form, 422)
    try:
        services.update_task(task, form.version.data, changes, current_user.id)
    except services.StaleVersion as stale:
        # Keep what the user typed; the next save is made knowingly over the current version.
        form.version.data = stale.current.version
        return _editor(stale.current, form, 409, conflict=stale.current)
    if is_htmx() and target is None:
        return render_template("tasks/_row.html", task=task, role=role, today=_today())
    moved = f" and moved it to {target.name}" if target else ""
    flash(f"Saved “{task.title}”{moved}.", "success")
    if is_htmx():  # moved: the row leaves this list, the message stays
        return render_template("tasks/_created.html", task=task, here=False)
    return _back()


def _move_target(task: Task, project_id: int | None) -> Project | None:
    """The project the editor moves the task to (None: it stays). Moving needs EDITOR on
    both projects: _task checked the task's own, this checks the other."""
    if project_id is None or project_id == task.project_id:
        return None
    return access.get_or_404(Project, project_id, Role.EDITOR).obj


def _assignment(
    task: Task, chosen: int | None, target: Project | None, changes: services.TaskChanges
) -> str | None:
    """Set the editor's assignee choice on `changes`, or say why it cannot be (the person is
    not a member of the project the task ends up in). Unchanged, it is left alone: a moved
    task keeps its assignee only if they are a member there (services.moved_to)."""
    if chosen is None or chosen == (task.assignee_id or 0):
        return None
    if chosen != 0:
        project_id = target.id if target else task.project_id
        outside = not 0 < chosen <= MAX_ID
        if problem := assignees.NOT_A_MEMBER if outside else assignees.problem(project_id, chosen):
            return problem
    changes.assign, changes.assignee_id = True, chosen or None
    return None


@bp.post("/<int:task_id>/toggle")
def toggle(task_id: int):
    done = request.form.get("done", "") in ("1", "y", "on", "true")
    toggled = services.set_done(current_user.id, task_id, done, _today())
    if toggled is None:
        abort(404)
    task, following = toggled.task, toggled.following
    ended = "Done. " + _series_ended([task.title]) if toggled.series_ended else None
    if is_htmx():
        # set_done changes only a task the user may edit (EDITOR or more): its rows say so.
        return render_template(
            "tasks/_toggled.html",
            task=task,
            following=following,
            ended=ended,
            role=Role.EDITOR,
            today=_today(),
        )
    if following is not None:
        flash(f"Done. Next “{task.title}” is due {following.due_date:%a %b %d}.", "success")
    if ended:
        flash(ended, "info")
    return _back()


@bp.route("/<int:task_id>", methods=["DELETE"])
@bp.post("/<int:task_id>/delete")
def delete(task_id: int):
    task, _ = _task(task_id, Role.EDITOR)
    services.soft_delete([task])
    return _deleted([task])


def _deleted(tasks: list[Task]):
    ids = [task.id for task in tasks]
    if is_htmx():
        return render_template("tasks/_deleted.html", tasks=tasks, ids=ids)
    session[UNDO_KEY] = ids
    return _back()


@bp.post("/restore")
def restore():
    form = RestoreForm()
    if not form.validate():
        abort(400, description=form.ids.errors[0] if form.ids.errors else None)
    ids = form.ids.data
    tasks = services.tasks_for(current_user.id, ids, deleted=True)
    if not tasks:
        abort(404)
    services.restore(tasks)
    if is_htmx():
        return _results(restored=len(tasks), restored_ids=ids)
    flash("Restored." if len(tasks) == 1 else f"Restored {len(tasks)} tasks.", "success")
    return _back()


# ---- many tasks -------------------------------------------------------------------------


@bp.post("/bulk")
def bulk():
    form = BulkForm()
    if not form.validate_on_submit():
        message = next(iter(form.errors.values()))[0]
        if is_htmx():
            return _results(status=422, bulk_error=message)
        return _refused_page(_current_view(), bulk_error=message)
    tasks = services.tasks_for(current_user.id, form.ids.data)
    if not tasks:
        abort(404)
    if form.action.data == "move":
        # Moving needs EDITOR on both projects: tasks_for checked where the tasks are.
        access.get_or_404(Project, form.project.data, Role.EDITOR)
    if form.action.data == "delete":
        services.soft_delete(tasks)
        if is_htmx():
            return _results(deleted_ids=[t.id for t in tasks], deleted_tasks=tasks)
        session[UNDO_KEY] = [t.id for t in tasks]
        return _back()
    result = services.apply_bulk(
        current_user.id,
        tasks,
        form.action.data,
        tag=form.tag.data,
        priority=form.priority.data,
        due_date=form.due_date.data,
        project_id=form.project.data,
        assignee_id=form.assignee.data or None,
        on=_today(),
    )
    count = result.changed
    message = f"Updated {count} task{'s' if count != 1 else ''}."
    if result.series_ended:
        message += " " + _series_ended(result.series_ended)
    if result.refused:
        message += " " + _not_assigned(result.refused)
        if not count:  # nothing could be: a refusal, as for a bad form
            if is_htmx():
                return _results(status=422, bulk_error=message)
            return _refused_page(_current_view(), bulk_error=message)
    if is_htmx():
        return _results(bulk_message=message)
    flash(message, "success")
    return _back()
