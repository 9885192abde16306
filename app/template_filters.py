"""Jinja filters shared by every template."""

from __future__ import annotations

from datetime import datetime

from flask import Flask


def format_datetime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An instant (stored in UTC) on the reader's wall clock, with the zone's abbreviation:
    "2026-12-03 01:14 NZDT" for a user in Auckland, the instance's zone for visitors."""
    if not value:
        return ""
    local = value.astimezone(_reader_zone())
    return f"{local.strftime(fmt)} {local.tzname()}"


def _reader_zone():
    from flask import has_request_context
    from flask_login import current_user

    from app.timezones import zone_of

    signed_in = has_request_context() and current_user.is_authenticated
    return zone_of(current_user if signed_in else None)  # a job's mail: the instance's


def time_ago(value: datetime, now: datetime) -> str:
    """How long before `now` `value` was, in words ("5 minutes ago"); the date past a week."""
    seconds = int((now - value).total_seconds())
    for unit, length in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= length:
            if unit == "day" and seconds >= 7 * length:
                return value.astimezone(_reader_zone()).strftime("%Y-%m-%d")
            count = seconds // length
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def browser_name(user_agent: str) -> str:
    """A short, human name for a User-Agent string ("Firefox on Linux")."""
    ua = user_agent or ""
    browser = next(
        (
            name
            for key, name in (
                ("Edg/", "Edge"),
                ("Firefox/", "Firefox"),
                ("Chrome/", "Chrome"),
                ("Safari/", "Safari"),
                ("curl/", "curl"),
            )
            if key in ua
        ),
        "Unknown browser",
    )
    system = next(
        (
            name
            for key, name in (
                ("Android", "Android"),
                ("iPhone", "iOS"),
                ("iPad", "iPadOS"),
                ("Windows", "Windows"),
                ("Mac OS X", "macOS"),
                ("Linux", "Linux"),
            )
            if key in ua
        ),
        "",
    )
    return f"{browser} on {system}" if system else browser


def time_of_day():
    """The signed-in user's time of day, read once per request (rows due today with a time
    ask for it, to tell whether that time has passed)."""
    from flask import g

    from app.tasks.listing import local_time

    if "time_of_day" not in g:
        g.time_of_day = local_time()
    return g.time_of_day


def init_app(app: Flask) -> None:
    from app.counts import count_label, count_spoken
    from app.models import Priority
    from app.tasks.dates import due_label, due_mark, due_state, priority_marks

    app.add_template_global(time_of_day, "time_of_day")
    app.add_template_global(due_mark, "due_mark")
    app.add_template_global(priority_marks(Priority), "PRIORITY_MARK")
    app.add_template_filter(due_state, "due_state")
    app.add_template_filter(due_label, "due_label")
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(browser_name, "browser_name")
    app.add_template_filter(time_ago, "ago")
    app.add_template_filter(count_label, "count_label")
    app.add_template_filter(count_spoken, "count_spoken")
