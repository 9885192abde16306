"""Tags by name, for every feature that names them (the task editor, quick add, bulk tagging
and the tags page): what a valid name is, and the owner's tags by name, created when missing.

Names are unique per owner whatever their case (tags.owner_id + name_key). Two requests may
create the same new name at once, so a tag is created with INSERT ... ON CONFLICT DO NOTHING
and then read: the loser of the race finds the winner's row instead of failing on the unique
constraint (which answered 500 on PostgreSQL).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import Tag
from app.palette import PALETTE

MAX_NAME = 50

# Colours for tags created on the fly (chosen by the name's hash, so stable).


def clean_name(raw: str) -> str:
    """A name as typed, without the spaces around it and the "#" before it ("#work" is work)."""
    return (raw or "").strip().lstrip("#").strip()


def name_problem(name: str) -> str | None:
    """Why `name` (cleaned) cannot be a tag's name, or None.

    The editor lists a task's tags as "a, b", so a comma would split the tag in two at the
    next save, and a leading "#" would be dropped from it.
    """
    if not name:
        return "A tag needs a name."
    if "," in name:
        return "Tag names cannot contain commas."
    if name != clean_name(name):
        return "Tag names cannot start with #."
    if len(name) > MAX_NAME:
        return f"“{name[:20]}…” is longer than {MAX_NAME} characters."
    return None


def colour_for(name: str) -> str:
    digest = hashlib.sha256(name.casefold().encode()).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def insert_ignoring_duplicates(table: Table):
    """INSERT ... ON CONFLICT DO NOTHING, in the session's database's dialect."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def resolve_tags(owner_id: int, names: Iterable[str]) -> list[Tag]:
    """The owner's tags with these names (case-insensitive), creating the missing ones, in
    the order first named. Raises ValueError for a name `name_problem` refuses: forms check
    names first, so this is the guard for any other path."""
    wanted: dict[str, str] = {}
    for raw in names:
        name = clean_name(raw)
        problem = name_problem(name)
        if problem:
            raise ValueError(problem)
        wanted.setdefault(name.casefold(), name)
    if not wanted:
        return []
    stmt = select(Tag).where(Tag.owner_id == owner_id)
    found = {t.name_key: t for t in db.session.scalars(stmt.where(Tag.name_key.in_(wanted)))}
    # In key order, so that two requests creating the same names wait for each other in the
    # same order (never a deadlock on PostgreSQL).
    missing = sorted(key for key in wanted if key not in found)
    if missing:
        db.session.execute(
            insert_ignoring_duplicates(Tag.__table__).values(
                [_row(owner_id, wanted[key], colour_for(wanted[key])) for key in missing]
            )
        )
        created = db.session.scalars(stmt.where(Tag.name_key.in_(missing)))
        found.update((t.name_key, t) for t in created)
    return [found[key] for key in wanted]


def keep_or_resolve_tags(current: Iterable[Tag], user_id: int, names: Iterable[str]) -> list[Tag]:
    """A task's tags after an edit by `user_id` that names `names`: a tag the task already has
    stays, whoever made it (a shared task shows everyone the same tags); a new name is one of
    the editor's own tags, created when missing."""
    names = list(names)
    kept = {tag.name_key: tag for tag in current}
    added = resolve_tags(user_id, [n for n in names if clean_name(n).casefold() not in kept])
    added_by_key = {tag.name_key: tag for tag in added}
    ordered: dict[str, Tag] = {}
    for name in names:
        key = clean_name(name).casefold()
        ordered.setdefault(key, kept.get(key) or added_by_key[key])
    return list(ordered.values())


def create_tag(owner_id: int, name: str, colour: str) -> Tag | None:
    """A new tag, or None when the owner already has one by this name (in any case)."""
    tag_id = db.session.scalar(
        insert_ignoring_duplicates(Tag.__table__)
        .values(_row(owner_id, name, colour))
        .returning(Tag.id)
    )
    return None if tag_id is None else db.session.get(Tag, tag_id)


def _row(owner_id: int, name: str, colour: str) -> dict:
    return {"owner_id": owner_id, "name": name, "name_key": name.casefold(), "colour": colour}
