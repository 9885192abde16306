"""Repeating tasks: rules stored as iCalendar RRULEs (RFC 5545), dates from python-dateutil.

Supported: FREQ=DAILY|WEEKLY|MONTHLY|YEARLY, INTERVAL=1..365, BYDAY (weekday codes, weekly
only). That covers daily, every weekday, weekly on chosen days, monthly, yearly, and every N
of each.

Next occurrence rules (`next_due`):
- The schedule is anchored at the task's due date (or the day it was completed, if it had
  none), and the next due date is the first occurrence strictly after both the due date and
  the completion day: finishing an overdue daily task schedules tomorrow, not a pile of
  past-due copies; finishing early still moves one step along the schedule.
- Monthly and yearly rules keep the anchor's day and clamp it to shorter months: due Jan 31
  monthly goes Feb 28 (Feb 29 in a leap year), then Mar 31; Feb 29 yearly goes Feb 28 in
  common years and Feb 29 again in leap years.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from dateutil.rrule import DAILY, WEEKLY, rrule, weekdays

FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WORKWEEK = DAYS[:5]
MAX_INTERVAL = 365
_DAY_NAMES = dict(zip(DAYS, ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), strict=True))
_UNIT = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}


def build_rule(freq: str, interval: int, days: list[str]) -> str | None:
    """The RRULE for the editor's choices ("" = does not repeat)."""
    if not freq:
        return None
    parts = {
        "daily": ["FREQ=DAILY"],
        "weekdays": ["FREQ=WEEKLY"],
        "weekly": ["FREQ=WEEKLY"],
        "monthly": ["FREQ=MONTHLY"],
        "yearly": ["FREQ=YEARLY"],
    }[freq]
    if interval and interval > 1:
        parts.append(f"INTERVAL={interval}")
    if freq == "weekdays":
        chosen = list(WORKWEEK)
    else:
        chosen = [d for d in DAYS if d in days] if freq == "weekly" else []
    if chosen:
        parts.append("BYDAY=" + ",".join(chosen))
    return ";".join(parts)


def _parse(rule: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for item in rule.split(";"):
        key, sep, value = item.partition("=")
        if not sep or key in parts:
            raise ValueError("malformed")
        parts[key] = value
    return parts


def validate_rule(rule: str) -> str | None:
    """Why `rule` cannot be used, or None. Never raises."""
    if len(rule) > 200:
        return "The repeat rule is too long."
    try:
        parts = _parse(rule)
    except ValueError:
        return "The repeat rule is not valid."
    if set(parts) - {"FREQ", "INTERVAL", "BYDAY"} or parts.get("FREQ") not in FREQS:
        return "Repeat daily, weekly, monthly or yearly."
    interval = parts.get("INTERVAL", "1")
    if not interval.isdigit() or not 1 <= int(interval) <= MAX_INTERVAL:
        return f"Repeat every 1 to {MAX_INTERVAL}."
    if "BYDAY" in parts:
        days = parts["BYDAY"].split(",")
        if parts["FREQ"] != "WEEKLY" or not days or any(d not in DAYS for d in days):
            return "Choose weekdays only for weekly repeats."
        if len(set(days)) != len(days):
            return "Each weekday once, please."
    return None


def rule_to_choices(rule: str | None) -> tuple[str, int, list[str]]:
    """The editor's (repeat, every, days) for a stored rule."""
    if not rule or validate_rule(rule):
        return "", 1, []
    parts = _parse(rule)
    interval = int(parts.get("INTERVAL", "1"))
    days = parts["BYDAY"].split(",") if "BYDAY" in parts else []
    if parts["FREQ"] == "WEEKLY" and days == list(WORKWEEK):
        return "weekdays", interval, []
    return parts["FREQ"].lower(), interval, days


def next_due(rule: str, due: date | None, completed_on: date) -> date:
    """The next occurrence's due date when a task with `rule` is completed."""
    parts = _parse(rule)
    freq, interval = parts["FREQ"], int(parts.get("INTERVAL", "1"))
    anchor = due or completed_on
    after = max(anchor, completed_on)
    if freq in ("MONTHLY", "YEARLY"):
        unit = "months" if freq == "MONTHLY" else "years"
        # Count whole steps from the anchor (never step from a clamped date: Jan 31 -> Feb 28
        # -> Mar 31, not Mar 28). Skip straight to about the right step first.
        gap_months = (after.year - anchor.year) * 12 + after.month - anchor.month
        step = max(1, (gap_months // (interval * (1 if unit == "months" else 12))))
        while True:
            candidate = anchor + relativedelta(**{unit: interval * step})
            if candidate > after:
                return candidate
            step += 1
    byday = (
        [weekdays[DAYS.index(d)] for d in parts["BYDAY"].split(",")] if "BYDAY" in parts else None
    )
    schedule = rrule(
        DAILY if freq == "DAILY" else WEEKLY,
        dtstart=datetime.combine(anchor, datetime.min.time()),
        interval=interval,
        byweekday=byday,
    )
    found = schedule.after(datetime.combine(after, datetime.min.time()))
    return found.date() if found else after + timedelta(days=1)


def describe(rule: str) -> str:
    """Human words for a rule: "Every weekday", "Every 2 weeks on Mon, Wed"."""
    freq, interval, days = rule_to_choices(rule)
    if not freq:
        return "Does not repeat"
    if freq == "weekdays":
        return "Every weekday" if interval == 1 else f"Every {interval} weeks on weekdays"
    unit = _UNIT[freq.upper()]
    text = f"Every {unit}" if interval == 1 else f"Every {interval} {unit}s"
    if days:
        text += " on " + ", ".join(_DAY_NAMES[d] for d in days)
    return text
