"""Tasklane: create_app() builds the Flask application."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from app import seams
from app.config import Config, load_secret_key

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_class: type[Config] = Config, overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    configure_settings(app, config_class, overrides or {})
    configure_routing(app)
    configure_logging(app)
    configure_extensions(app)
    configure_blueprints(app)
    configure_jobs(app)
    configure_responses(app)
    configure_templates(app)
    seams.install(app)  # after the extensions it builds on; inside configure_proxies' ProxyFix
    configure_cli(app)
    configure_proxies(app)
    return app


def configure_settings(app: Flask, config_class: type[Config], overrides: dict) -> None:
    app.config.from_object(config_class)
    app.config.update(overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_secret_key(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = (
            f"sqlite:///{Path(app.instance_path) / 'tasklane.sqlite3'}"
        )
    if not app.config.get("MAIL_FILE_DIR"):
        app.config["MAIL_FILE_DIR"] = str(Path(app.instance_path) / "mail")
    from app.database import engine_options

    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS",
        engine_options(
            app.config["SQLALCHEMY_DATABASE_URI"], app.config["DATABASE_TRANSACTION_POOLING"]
        ),
    )


def configure_routing(app: Flask) -> None:
    from app.url_converters import IdConverter

    # Before any blueprint: every <int:...> in a route is a bounded id.
    app.url_map.converters["int"] = IdConverter


def configure_logging(app: Flask) -> None:
    from app import log_format

    level = app.config["LOG_LEVEL"]
    # A host that configured logging already (gunicorn with LOG_FORMAT=json, pytest) keeps
    # its handlers; otherwise one stderr handler in the format LOG_FORMAT names.
    handler = log_format.handler(app.config["LOG_FORMAT"], app.config["INSTANCE_NAME"] or None)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=level, handlers=[handler])
    logging.getLogger("tasklane").setLevel(level)


def configure_extensions(app: Flask) -> None:
    from app import database, login_sessions  # noqa: F401  (registers the user loader)
    from app.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    # Our server-side sessions already bind a cookie to one login; "strong" would also log
    # people out whenever their address changes (phones moving between networks).
    login_manager.session_protection = "basic"
    database.configure(app)


def configure_blueprints(app: Flask) -> None:
    from app import (  # noqa: F401 (cleanup, digests, reminders: their jobs join the schedule)
        account,
        addresses,
        admin,
        auth,
        cleanup,
        digests,
        errors,
        health,
        main,
        notifications,
        projects,
        reminders,
        sharing,
        tags,
        tasks,
        unsubscribe,
    )

    blueprints = (
        errors, health, main, auth, account, addresses, tasks, projects, sharing, tags, admin,
        notifications, unsubscribe,
    )  # fmt: skip
    for module in blueprints:
        app.register_blueprint(module.bp)


def configure_jobs(app: Flask) -> None:
    from app import jobs, mail

    mail.check_settings(app.config)  # a typo in MAIL_SECURITY stops the start, not a send
    jobs.init_app(app)


def configure_responses(app: Flask) -> None:
    from app import request_log
    from app.temporary_password import require_new_password

    request_log.init_app(app)
    # After request_log's hook, so that its redirects carry a request id too.
    app.before_request(require_new_password)


def configure_templates(app: Flask) -> None:
    from flask_login import current_user

    from app import access, static_files, template_filters
    from app.models import Priority, Role
    from app.palette import chips_maker, dot, svg_dot
    from app.tasks.dates import due_mark, priority_marks
    from app.tasks.row_controls import row_maker
    from app.urls import row_url, tag_url

    template_filters.init_app(app)
    static_files.init_app(app)
    app.jinja_env.globals["Priority"] = Priority
    app.jinja_env.globals["Role"] = Role
    app.jinja_env.globals["can_edit"] = access.can_edit
    app.jinja_env.globals["row_url"] = row_url
    app.jinja_env.globals["tag_url"] = tag_url
    app.jinja_env.globals["colour_dot"] = dot
    app.jinja_env.globals["svg_dot"] = svg_dot
    app.jinja_env.globals["chips"] = chips_maker(tag_url)
    app.jinja_env.globals["task_row"] = row_maker(
        row_url,
        chips=app.jinja_env.globals["chips"],
        due_mark=due_mark,
        priority_mark=priority_marks(Priority),
        time_of_day=template_filters.time_of_day,
        can_edit=access.can_edit,
        dot=dot,
        inbox_id=lambda: current_user.inbox_id,
    )


def configure_cli(app: Flask) -> None:
    from app.cli import backup_database, restore_database, users

    app.cli.add_command(users)
    app.cli.add_command(backup_database)
    app.cli.add_command(restore_database)


def configure_proxies(app: Flask) -> None:
    # X-Forwarded-For is trusted only behind a known number of proxies; otherwise anyone could
    # forge it to dodge per-address rate limits.
    hops = app.config["TRUSTED_PROXIES"]
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
