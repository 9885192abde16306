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
- Daily and weekly rules follow RFC 5545 (weeks start on Monday; a weekly rule without
  weekdays repeats on the anchor's weekday), computed by counting rather than by walking
  the schedule, so a due date far in the past costs nothing.
- Dates end at 9999-12-31 (Python's and so ours): when the next occurrence would fall after
  it there is none, and the series ends with this task.
"""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta

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


def next_due(rule: str, due: date | None, completed_on: date) -> date | None:
    """The next occurrence's due date when a task with `rule` is completed, or None when it
    would fall after the calendar's last day (9999-12-31): the series has ended."""
    parts = _parse(rule)
    freq, interval = parts["FREQ"], int(parts.get("INTERVAL", "1"))
    anchor = due or completed_on
    after = max(anchor, completed_on)
    if freq in ("MONTHLY", "YEARLY"):
        return _next_by_months(anchor, after, interval * (1 if freq == "MONTHLY" else 12))
    if freq == "DAILY":
        # Whole steps from the anchor, counted rather than walked: a task due in year 1 and
        # done today is one division, not 740,000 iterations.
        steps = (after - anchor).days // interval + 1
        return _day(anchor.toordinal() + steps * interval)
    chosen = [DAYS.index(d) for d in parts["BYDAY"].split(",")] if "BYDAY" in parts else None
    return _next_by_weeks(anchor, after, interval, chosen or [anchor.weekday()])


def _day(ordinal: int) -> date | None:
    return date.fromordinal(ordinal) if ordinal <= _LAST else None


_LAST = date.max.toordinal()


def _next_by_months(anchor: date, after: date, months: int) -> date | None:
    """The first of anchor + k * months (k >= 1) after `after`, the anchor's day clamped to
    shorter months. Steps are counted from the anchor, never from a clamped date (Jan 31 ->
    Feb 28 -> Mar 31, not Mar 28)."""
    gap = (after.year - anchor.year) * 12 + after.month - anchor.month
    step = max(1, gap // months)
    while True:
        month_index = anchor.year * 12 + anchor.month - 1 + step * months
        if month_index // 12 > date.max.year:
            return None
        candidate = anchor + relativedelta(months=step * months)
        if candidate > after:
            return candidate
        step += 1


def _next_by_weeks(anchor: date, after: date, interval: int, weekdays: list[int]) -> date | None:
    """RFC 5545 weekly: the chosen weekdays of every `interval`-th week (weeks start on
    Monday), counted from the anchor's week; the first such day after `after`."""
    first_monday = anchor.toordinal() - anchor.weekday()
    day = after.toordinal() + 1
    while True:
        monday = day - (day - 1) % 7  # ordinal 1 (1 Jan 1) was a Monday
        skipped = (monday - first_monday) // 7 % interval
        if skipped:  # not one of the rule's weeks: on to the next one that is
            day = monday + 7 * (interval - skipped)
            continue
        later = [monday + d for d in sorted(weekdays) if monday + d >= day]
        if later:
            return _day(later[0])
        day = monday + 7 * interval
        if day > _LAST:
            return None


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
