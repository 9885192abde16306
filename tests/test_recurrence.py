"""Repeat rules: building, validating, describing, and the next due date."""

from __future__ import annotations

from datetime import date

import pytest

from app.tasks.recurrence import build_rule, describe, next_due, rule_to_choices, validate_rule

D = date


@pytest.mark.parametrize(
    ("freq", "interval", "days", "rule"),
    [
        ("", 1, [], None),
        ("daily", 1, [], "FREQ=DAILY"),
        ("daily", 3, [], "FREQ=DAILY;INTERVAL=3"),
        ("weekdays", 1, ["SA"], "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        ("weekly", 1, [], "FREQ=WEEKLY"),
        ("weekly", 2, ["WE", "MO"], "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE"),
        ("monthly", 1, ["MO"], "FREQ=MONTHLY"),
        ("yearly", 5, [], "FREQ=YEARLY;INTERVAL=5"),
    ],
)
def test_build_and_read_back(freq, interval, days, rule):
    assert build_rule(freq, interval, days) == rule
    if rule:
        assert validate_rule(rule) is None
        expected_days = sorted(days, key="MOTUWETHFRSASU".index) if freq == "weekly" else []
        assert rule_to_choices(rule) == (freq, interval, expected_days)


@pytest.mark.parametrize(
    "rule",
    [
        "",
        "FREQ=HOURLY",
        "FREQ=DAILY;COUNT=3",
        "FREQ=DAILY;INTERVAL=0",
        "FREQ=DAILY;INTERVAL=366",
        "FREQ=DAILY;INTERVAL=x",
        "FREQ=DAILY;BYDAY=MO",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=WEEKLY;BYDAY=MO,MO",
        "FREQ=WEEKLY;BYDAY=",
        "FREQ=DAILY;FREQ=DAILY",
        "garbage",
        "FREQ=DAILY;" + "X" * 200,
    ],
)
def test_invalid_rules_are_explained_not_raised(rule):
    assert isinstance(validate_rule(rule), str)
    assert rule_to_choices(rule) == ("", 1, [])


@pytest.mark.parametrize(
    ("rule", "due", "completed", "expected"),
    [
        ("FREQ=DAILY", D(2026, 11, 25), D(2026, 11, 25), D(2026, 11, 26)),
        ("FREQ=DAILY", D(2026, 12, 31), D(2026, 12, 31), D(2027, 1, 1)),
        ("FREQ=DAILY;INTERVAL=3", D(2026, 11, 25), D(2026, 11, 25), D(2026, 11, 28)),
        ("FREQ=DAILY", D(2026, 11, 20), D(2026, 11, 25), D(2026, 11, 26)),  # overdue: no pile-up
        ("FREQ=DAILY", D(2026, 11, 27), D(2026, 11, 25), D(2026, 11, 28)),  # early: one step
        ("FREQ=DAILY", None, D(2026, 11, 25), D(2026, 11, 26)),
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", D(2026, 11, 27), D(2026, 11, 27), D(2026, 11, 30)),
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", D(2026, 11, 24), D(2026, 11, 24), D(2026, 11, 25)),
        ("FREQ=WEEKLY;BYDAY=MO,WE", D(2026, 11, 25), D(2026, 11, 25), D(2026, 11, 30)),
        ("FREQ=WEEKLY;BYDAY=MO,WE", D(2026, 11, 23), D(2026, 11, 23), D(2026, 11, 25)),
        ("FREQ=WEEKLY", D(2026, 11, 25), D(2026, 11, 25), D(2026, 12, 2)),
        ("FREQ=WEEKLY;INTERVAL=2", D(2026, 11, 25), D(2026, 11, 25), D(2026, 12, 9)),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", D(2026, 11, 23), D(2026, 11, 23), D(2026, 12, 7)),
        ("FREQ=MONTHLY", D(2026, 11, 25), D(2026, 11, 25), D(2026, 12, 25)),
        ("FREQ=MONTHLY", D(2027, 1, 31), D(2027, 1, 31), D(2027, 2, 28)),
        ("FREQ=MONTHLY", D(2028, 1, 31), D(2028, 1, 31), D(2028, 2, 29)),
        ("FREQ=MONTHLY", D(2027, 1, 31), D(2027, 3, 1), D(2027, 3, 31)),  # back to the 31st
        ("FREQ=MONTHLY", D(2026, 8, 31), D(2026, 8, 31), D(2026, 9, 30)),
        ("FREQ=MONTHLY;INTERVAL=3", D(2026, 11, 30), D(2026, 11, 30), D(2027, 2, 28)),
        ("FREQ=MONTHLY", D(2026, 1, 15), D(2026, 11, 25), D(2026, 12, 15)),  # long overdue
        ("FREQ=YEARLY", D(2028, 2, 29), D(2028, 2, 29), D(2029, 2, 28)),
        ("FREQ=YEARLY", D(2029, 2, 28), D(2029, 2, 28), D(2030, 2, 28)),
        ("FREQ=YEARLY", D(2026, 12, 25), D(2026, 12, 25), D(2027, 12, 25)),
        ("FREQ=YEARLY;INTERVAL=4", D(2024, 2, 29), D(2024, 2, 29), D(2028, 2, 29)),
    ],
)
def test_next_due(rule, due, completed, expected):
    assert next_due(rule, due, completed) == expected


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ("FREQ=DAILY", "Every day"),
        ("FREQ=DAILY;INTERVAL=2", "Every 2 days"),
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "Every weekday"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE", "Every 2 weeks on Mon, Wed"),
        ("FREQ=WEEKLY", "Every week"),
        ("FREQ=MONTHLY", "Every month"),
        ("FREQ=YEARLY", "Every year"),
        ("nonsense", "Does not repeat"),
    ],
)
def test_describe(rule, text):
    assert describe(rule) == text
