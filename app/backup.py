"""Backups of the whole database, and restoring one: `flask backup FILE`, `flask restore FILE`.

SQLite: SQLite's online backup API (sqlite3.Connection.backup), which copies a consistent
snapshot while the app keeps serving, into a plain database file. PostgreSQL: pg_dump's
custom format (compressed; pg_restore reads it), run with the connection's settings in the
environment (PG* variables), so a password never shows in the process list. pg_dump must be
the server's major version or newer (Debian: postgresql-client-15 for PostgreSQL 15).

A restore goes into an empty database (one with no tables), the app's own or one named with
--into; replacing what a database holds takes --force. A backup restores into the kind of
database it came from; `flask db upgrade` afterwards brings an older backup to the code's
migrations.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL, make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"


class BackupError(Exception):
    """What went wrong, in words for the operator (no password)."""


def backup(database_url: str, file: Path) -> None:
    """Write a backup of the database at `database_url` to `file` (replaced if it exists,
    only once the backup is whole)."""
    url = make_url(database_url)
    partial = file.with_name(file.name + ".partial")
    try:
        if url.get_backend_name() == "sqlite":
            _sqlite_copy(_sqlite_path(url), partial)
        else:
            _pg("pg_dump", url, "--format=custom", "--no-owner", "--file", str(partial))
        partial.replace(file)
    finally:
        partial.unlink(missing_ok=True)


def restore(file: Path, database_url: str, *, force: bool = False) -> None:
    """Restore the backup `file` into the database at `database_url`, which must hold no
    tables unless `force` (then what it holds is replaced)."""
    url = make_url(database_url)
    sqlite = url.get_backend_name() == "sqlite"
    kind = _kind(file)
    if kind != ("sqlite" if sqlite else "postgresql"):
        target = "SQLite" if sqlite else "PostgreSQL"
        raise BackupError(f"{file} is not a {target} backup (it is {kind}).")
    tables = _tables(url)
    if tables and not force:
        raise BackupError(
            f"The target database is not empty ({len(tables)} tables): restore into a new "
            "database with --into URL, or replace what it holds with --force."
        )
    if sqlite:
        _sqlite_copy(str(file), Path(_sqlite_path(url)))
    else:
        options = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
        if tables:
            options += ["--clean", "--if-exists"]
        _pg("pg_restore", url, *options, str(file))


def _kind(file: Path) -> str:
    try:
        with file.open("rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as error:
        raise BackupError(f"Cannot read {file}: {error.strerror}.") from None
    if head == SQLITE_MAGIC:
        return "sqlite"
    if head.startswith(PG_CUSTOM_MAGIC):
        return "postgresql"
    return "neither a SQLite database nor a pg_dump custom-format file"


def _tables(url: URL) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return inspect(conn).get_table_names()
    finally:
        engine.dispose()


def _sqlite_path(url: URL) -> str:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database has nothing to back up or restore to.")
    return url.database


def _sqlite_copy(source: str, target: Path) -> None:
    """Page by page through SQLite's backup API: a consistent snapshot of `source` even
    while others write to it; `target` ends up holding exactly that."""
    if not Path(source).is_file():
        raise BackupError(f"There is no SQLite database at {source}.")
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(source)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    except sqlite3.Error as error:
        raise BackupError(f"SQLite backup failed: {error}.") from None
    finally:
        src.close()


def _pg(tool: str, url: URL, *args: str) -> None:
    """Run pg_dump or pg_restore against `url`, its connection settings in PG* variables."""
    path = shutil.which(tool)
    if path is None:
        raise BackupError(
            f"{tool} is not on PATH: install the PostgreSQL client of the server's major "
            "version (Debian: postgresql-client)."
        )
    settings = {
        "PGHOST": url.host,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
        "PGSSLMODE": url.query.get("sslmode"),
    }
    env = {**os.environ, **{key: value for key, value in settings.items() if value}}
    if tool == "pg_restore":
        args = ("--dbname", url.database or "", *args)
    # The tool found on PATH, arguments built here (no shell): nothing from a request.
    result = subprocess.run([path, *args], env=env, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{tool} failed: {result.stderr.strip()}")
