"""A task's row in the list, made in Python (`row_maker`, the template global `task_row`), with
its controls: the select box and the done box (the first cell), Edit and Delete (the end of
the second), its project's chip and its assignee's badge.

A page shows 50 rows, and each row's controls name its id eight times and link four routes:
as Jinja that was a dozen escapes and four URL calls a row. Here they are one call each: the
list page went from 45.5 M to 41.5 M instructions with this and due_mark's plain f-string
(`make bench-instructions`, PostgreSQL, 2026-12-03). The row around them was a Jinja macro,
and a macro call, its dozen attribute lookups through Jinja's undefined-checking getattr and
its output joined piece by piece cost more than the row's own work: see `row_maker`.

Standalone (no app imports): bench/raw.py loads it by path to render the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from markupsafe import Markup, escape


def controls_maker(row_url: Callable[..., str]) -> tuple[Callable, Callable]:
    """The template globals `row_select_and_done(id, done)` and `row_edit_and_delete(id)`,
    linking through `row_url(endpoint, id)` (app/seams/row_urls.py)."""

    def select_and_done(task_id: int, done: bool) -> Markup:
        i = int(task_id)  # digits only: safe in the markup as it is
        toggle = escape(row_url("tasks.toggle", i))
        # The done box is the "Mark done" / "Reopen" button, posting the state it sets.
        value, label = ("0", "l-reopen") if done else ("1", "l-mark")
        return Markup(  # noqa: S704 (an int, an escaped URL and constants)
            f'<input type="checkbox" name="ids" value="{i}" form="bulk-form"'
            f' aria-labelledby="l-select title-{i}">'
            f'<button class="done-box" form="row-actions" formaction="{toggle}" hx-post'
            f' name="done" value="{value}" aria-labelledby="{label} title-{i}"></button>'
        )

    def edit_and_delete(task_id: int) -> Markup:
        i = int(task_id)
        edit, delete = escape(row_url("tasks.edit", i)), escape(row_url("tasks.delete", i))
        return Markup(  # noqa: S704 (an int, escaped URLs and constants)
            f'<a href="{edit}" hx-get data-opens-editor aria-labelledby="l-edit title-{i}">Edit</a>'
            f'<button form="row-actions" formaction="{delete}" hx-post data-deletes'
            f' aria-labelledby="l-delete title-{i}">Delete</button>'
        )

    return select_and_done, edit_and_delete


# What a row without controls (a viewer's) shows for a task that is done.
_DONE_MARK = '<span class="done-mark" title="Done">✓<span>Done</span></span>'
_REPEATS = '<span class="repeat"><span>Repeats</span></span>'
_HAS_NOTES = '<span class="has-notes"><span>Has notes</span></span>'


def initials(name: str) -> str:
    """An assignee's badge: the first letters of the name's first two words, in capitals ("?"
    for a name of no words)."""
    words = name.split()
    return "".join(word[0] for word in words[:2]).upper() if words else "?"


@lru_cache(maxsize=1024)  # a page shows a few people many times
def assignee_badge(name: str) -> str:
    """Who is assigned: their initials, with the full name as the accessible text."""
    who = escape(name)
    return (
        f'<span class="assignee" title="Assigned to {who}"><span class="assignee-initials"'
        f' aria-hidden="true">{escape(initials(name))}</span><span class="visually-hidden">'
        f"Assigned to {who}</span></span>"
    )


def row_maker(
    row_url: Callable[..., str],
    *,
    chips: Callable,
    due_mark: Callable,
    priority_mark: dict,
    time_of_day: Callable,
    can_edit: Callable[[int | None], bool],
    dot: Callable,
    inbox_id: Callable[[], int],
) -> Callable:
    """The template global `task_row(task, role, today)`: a task's row in the list.

    What a row says (50 of these are a page and every search keystroke, so it says only
    what is its own):
    - the list (#task-list) gives every control its hx-target (this row) and hx-swap, and
      says which of its children are rows for the keys (static/js/app.js gives them tabindex
      and aria-selected); the stylesheet styles the two cells and Edit and Delete by place;
    - the buttons submit the page's one #row-actions form (its CSRF token) with form= and
      formaction=, and a bare hx-post or hx-get goes where the button or link goes (app.js);
    - a control is named by a word the page holds once (tasks/_row_labels.html) and the
      title link, through aria-labelledby ("Mark done: Call Ada", "Edit: Call Ada");
    - the done box is the "Mark done" / "Reopen" button itself, so it works without
      JavaScript too and posts the state it sets (done=1 or done=0);
    - viewers see the task, not the controls they cannot use (`can_edit`). `role` is the
      user's role in the task's project, which whoever renders the row passes; a row of a
      view across projects (app/tasks/views.ViewedTask) carries its own, and its project,
      whose chip links to it (the Inbox's to the list) with its colour's dot (`dot`:
      palette.dot, the one rule for a colour's dot).
    `task` is a ListedTask, a ViewedTask or a mapped Task (a single row's swap).
    `inbox_id()` is the signed-in user's Inbox, asked only for a row that shows a project.
    """
    select_and_done, edit_and_delete = controls_maker(row_url)

    @lru_cache(maxsize=4096)
    def chip(url: str, name: str, colour: str) -> str:
        # A view's 50 rows show a few projects: each chip is made once (as palette's tag
        # chips are), keyed by its link too, so a different application root makes its own.
        css, svg = dot(colour, 10)
        css = f"task-project {css}" if css else "task-project"
        return f'<a class="{css}" href="{escape(url)}">{svg}{escape(name)}</a>'

    def project_chip(project) -> str:
        if project.id == inbox_id():
            return chip(row_url("tasks.index"), project.name, project.colour)
        return chip(row_url("projects.show", project.id), project.name, project.colour)

    def task_row(task, role, today) -> Markup:
        i = int(task.id)  # digits only: safe in the markup as it is
        done = task.done
        editable = can_edit(getattr(task, "role", role))
        project = getattr(task, "project", None)
        assignee = getattr(task, "assignee_name", None)
        parts = [
            f'<div role="row" id="task-{i}" class="task-row{" is-done" if done else ""}">\n'
            '<div role="gridcell">',
            select_and_done(i, done) if editable else _DONE_MARK if done else "",
            f'</div>\n<div role="gridcell"><a id="title-{i}" class="task-title"'
            f' href="{escape(row_url("tasks.detail", i))}">{escape(task.title)}</a>',
        ]
        if project:
            parts.append(project_chip(project))
        if task.priority:
            parts.append(priority_mark[task.priority])
        if task.due_date:
            parts.append(due_mark(task.due_date, task.due_time, done, today, time_of_day))
        if task.recurrence:
            parts.append(_REPEATS)
        if task.has_notes:
            parts.append(_HAS_NOTES)
        if task.tags:
            parts.append(chips(task.tags))
        if assignee:
            parts.append(assignee_badge(assignee))
        if editable:
            parts.append(edit_and_delete(i))
        parts.append("</div>\n</div>")
        # Every piece is escaped as it was made or is Markup already: a str join, as
        # Markup's would escape each again.
        return Markup("".join(parts))  # noqa: S704

    return task_row
