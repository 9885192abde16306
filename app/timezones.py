"""Each user's time zone, and what "today" is for them.

A user's zone is an IANA name (users.timezone, e.g. "Europe/Paris"), or None to follow the
instance's TIMEZONE. `today_for(user)` is the one place that turns "now" into a date:
everything that means "today" (the Today and Upcoming views, overdue, due labels, quick-add
dates, the next date of a repeating task) takes its date from it, for the signed-in user.

The instant it reads is `now()`, the clock seam: tests fix it (the `clock` fixture in
tests/conftest.py) to look at one moment from two zones, or across a DST change.

Loaded on its own by bench/raw.py (which has no app package), so it imports only Flask and
the standard library.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import current_app

# Not places: "localtime" is whatever the server's own zone is, "Factory" tzdata's
# placeholder for "not set". Both are files in the system's zoneinfo folder.
_NOT_PLACES = {"localtime", "Factory"}


class HasZone(Protocol):
    """A user as `today_for` reads it: the mapped User or login_sessions.SignedIn."""

    timezone: str | None


@functools.cache
def zone_names() -> tuple[str, ...]:
    """The zones a user may choose, sorted (what the account page's menu lists)."""
    return tuple(sorted(available_timezones() - _NOT_PLACES))


@functools.cache
def _known() -> frozenset[str]:
    return frozenset(zone_names())


def is_known(name: str | None) -> bool:
    """Whether `name` is a zone a user may choose (the one check for every form)."""
    return isinstance(name, str) and name in _known()


def zone_of(user: HasZone | None) -> ZoneInfo:
    """The user's zone; the instance's for nobody, no choice, or a zone this server no longer
    has (tzdata renames are kept as links, but a stored name must never break a page)."""
    name = user.timezone if user is not None else None
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(current_app.config["TIMEZONE"])


def now() -> datetime:
    """The current instant (aware, UTC): the clock every "today" is read from."""
    return datetime.now(UTC)


def now_for(user: HasZone | None) -> datetime:
    """The current instant on the user's wall clock."""
    return now().astimezone(zone_of(user))


def today_for(user: HasZone | None) -> date:
    """The date it is now where the user is (the instance's TIMEZONE for None)."""
    return now_for(user).date()
