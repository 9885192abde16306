"""The controls of a task's row in the list, made in Python: the select box and the done box
(the first cell), Edit and Delete (the end of the second).

A page shows 50 rows, and each row's controls name its id eight times and link four routes:
as Jinja that was a dozen escapes and four URL calls a row. Here they are one call each: the
list page went from 45.5 M to 41.5 M instructions with this and due_mark's plain f-string
(`make bench-instructions`, PostgreSQL, 2026-12-03). What they say is
templates/_macros/tasks.html's task_row contract, documented there: each control submits the
page's one #row-actions form (or #bulk-form) and is named through aria-labelledby by a word
the page holds once (tasks/_row_labels.html) and the row's title link (`title-<id>`).

Standalone (no app imports): bench/raw.py loads it by path to render the same rows.
"""

from __future__ import annotations

from collections.abc import Callable

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
