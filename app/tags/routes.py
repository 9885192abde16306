"""Tags: create, rename, recolour and delete, with inline editing like the task list."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import access
from app.extensions import db
from app.htmx import is_htmx, render
from app.models import Tag
from app.tagging import create_tag
from app.tags import bp
from app.tags.forms import TagForm
from app.tags.services import tag_counts

TAKEN = "You already have a tag with this name."


@bp.before_request
@login_required
def _signed_in_only():
    pass


def _name_taken(name: str, except_id: int | None = None) -> bool:
    stmt = select(Tag.id).where(Tag.owner_id == current_user.id, Tag.name_key == name.casefold())
    if except_id is not None:
        stmt = stmt.where(Tag.id != except_id)
    return db.session.scalar(stmt) is not None


def _page(form: TagForm | None = None, status: int = 200):
    return render_template(
        "tags/index.html",
        rows=tag_counts(current_user.id),
        form=form or TagForm(formdata=None),
    ), status


def _row(tag: Tag):
    [(_, open_count, total)] = tag_counts(current_user.id, tag.id)
    return render_template("tags/_row.html", tag=tag, open_count=open_count, total=total)


@bp.get("")
def index():
    return _page()


@bp.post("")
def create():
    form = TagForm()
    if form.validate_on_submit():
        tag = create_tag(current_user.id, form.name.data, form.colour.data.lower())
        if tag is None:
            form.name.errors.append(TAKEN)
        else:
            db.session.commit()
            flash(f"Tag “{tag.name}” created.", "success")
            return redirect(url_for("tags.index"), code=303)
    return _page(form, 422)


@bp.get("/<int:tag_id>/edit")
def edit(tag_id: int):
    tag = access.get_or_404(Tag, tag_id).obj
    form = TagForm(formdata=None, name=tag.name, colour=tag.colour)
    return render("tags/edit.html", "tags/_row_edit.html", tag=tag, form=form)


@bp.get("/<int:tag_id>/row")
def row(tag_id: int):
    tag = access.get_or_404(Tag, tag_id).obj
    if not is_htmx():
        return redirect(url_for("tags.index"))
    return _row(tag)


@bp.route("/<int:tag_id>", methods=["POST", "PATCH", "PUT"])
def update(tag_id: int):
    tag = access.get_or_404(Tag, tag_id).obj
    form = TagForm()
    if form.validate_on_submit() and _name_taken(form.name.data, except_id=tag.id):
        form.name.errors.append(TAKEN)
    if form.errors or not form.is_submitted():
        return render("tags/edit.html", "tags/_row_edit.html", 422, tag=tag, form=form)
    tag.name = form.name.data
    tag.colour = form.colour.data.lower()
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        form.name.errors.append(TAKEN)
        return render("tags/edit.html", "tags/_row_edit.html", 422, tag=tag, form=form)
    if is_htmx():
        return _row(tag)
    flash(f"Tag “{tag.name}” saved.", "success")
    return redirect(url_for("tags.index"), code=303)


@bp.route("/<int:tag_id>", methods=["DELETE"])
@bp.post("/<int:tag_id>/delete")
def delete(tag_id: int):
    tag = access.get_or_404(Tag, tag_id).obj
    name, tag_id = tag.name, tag.id
    db.session.delete(tag)  # task_tags rows go with it (ON DELETE CASCADE)
    db.session.commit()
    if is_htmx():
        return render_template("tags/_deleted.html", name=name, tag_id=tag_id)
    flash(f"Tag “{name}” deleted; its tasks keep their other tags.", "success")
    return redirect(url_for("tags.index"), code=303)
