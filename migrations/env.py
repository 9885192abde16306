import contextlib
import fcntl
import logging
import os
from logging.config import fileConfig

from alembic import context
from flask import current_app

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
# Keep the app's loggers: the tests and `flask db` run migrations inside a live app.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")


def get_engine():
    return current_app.extensions["migrate"].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace("%", "%%")
    except AttributeError:
        return str(get_engine().url).replace("%", "%%")


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option("sqlalchemy.url", get_engine_url())
target_db = current_app.extensions["migrate"].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, "metadatas"):
        return target_db.metadatas[None]
    return target_db.metadata


def include_name(name, type_, parent_names):
    """Leave out what migrations make and no model describes (app/unmodelled.py)."""
    from app import unmodelled

    return unmodelled.include_name(name, type_, parent_names)


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=get_metadata(), literal_binds=True)

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    def render_item(type_, obj, autogen_context):
        # app.models.UTCDateTime is stored as a plain timezone-aware DATETIME column.
        if type_ == "type" and type(obj).__name__ == "UTCDateTime":
            return "sa.DateTime(timezone=True)"
        return False

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("render_item", render_item)
    conf_args.setdefault("include_name", include_name)
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()

    with connectable.connect() as connection, _sqlite_migration_lock(connection):
        context.configure(connection=connection, target_metadata=get_metadata(), **conf_args)

        with _sqlite_foreign_keys_off(connection), context.begin_transaction():
            _postgresql_migration_lock(connection)
            context.run_migrations()
            _check_foreign_keys(connection)


# Any fixed number: every Tasklane process that migrates this database asks for the same lock.
MIGRATION_LOCK_ID = 0x7A51_1A4E


def _postgresql_migration_lock(connection):
    """Two processes migrating at once (two instances booting on a new database) would both
    read the old version and both run the same revision: the second fails halfway. So a
    migration waits for the others, and only then reads which revisions remain (Alembic reads
    the version table inside run_migrations, after this): the second finds the database at
    head and does nothing.

    A transaction-scoped advisory lock, released by the commit that records the new version:
    PostgreSQL runs a whole upgrade in one transaction, and a session lock would not survive
    PgBouncer's transaction pooling, which may hand the next transaction another connection.
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")


@contextlib.contextmanager
def _sqlite_migration_lock(connection):
    """On SQLite, the same wait on an flock of a file beside the database (SQLite has no
    advisory locks, and each migration commits on its own); released when the process ends."""
    database = connection.engine.url.database
    if connection.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    fd = os.open(f"{database}-migrate.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing lets go of the lock


@contextlib.contextmanager
def _sqlite_foreign_keys_off(connection):
    """On SQLite, foreign keys off while migrations run, as Alembic's batch mode needs.

    A batch migration copies a table, drops the old one and renames the copy; with foreign
    keys on, SQLite's DROP TABLE first deletes the old table's rows, firing ON DELETE CASCADE
    in the tables that refer to it: rebuilding `tasks` emptied `task_tags`. The pragma does
    nothing inside a transaction, so it is set on the driver's connection before one begins
    (app/database.py emits BEGIN itself), and set back before the connection returns to the pool.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection):
    """With foreign keys off, nothing stopped a migration from leaving a dangling reference:
    refuse to commit one."""
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"migration left rows that break foreign keys: {broken[:10]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
