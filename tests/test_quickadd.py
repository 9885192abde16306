"""The quick-add grammar, case by case, with today fixed on Wednesday 2026-11-25."""

from __future__ import annotations

import random
from datetime import date

import pytest

from app.tasks.quickadd import parse_quick_add
from app.tasks.recurrence import validate_rule

TODAY = date(2026, 11, 25)  # a Wednesday
D = date


@pytest.mark.parametrize(
    ("text", "title", "tags", "priority", "due"),
    [
        ("Call Ada tomorrow #work !1", "Call Ada", ["work"], 3, D(2026, 11, 26)),
        ("Buy milk", "Buy milk", [], None, None),
        ("  spaced   out   words  ", "spaced out words", [], None, None),
        ("#home Clean the kitchen", "Clean the kitchen", ["home"], None, None),
        ("Plan #Work #work #WORK", "Plan", ["Work"], None, None),
        ("Trip #travel/europe #2027", "Trip", ["travel/europe", "2027"], None, None),
        ("Read #café-notes", "Read", ["café-notes"], None, None),
        ("Learn C# basics", "Learn C# basics", [], None, None),
        ("Use # as a symbol", "Use # as a symbol", [], None, None),
        ("Tag at end #work.", "Tag at end", ["work"], None, None),
        ("#" + "a" * 50 + " long tag", "long tag", ["a" * 50], None, None),
        ("#" + "a" * 51 + " too long", "#" + "a" * 51 + " too long", [], None, None),
        ("x !1", "x", [], 3, None),
        ("x !2", "x", [], 2, None),
        ("x !3", "x", [], 1, None),
        ("x !high", "x", [], 3, None),
        ("x !MEDIUM", "x", [], 2, None),
        ("x !med", "x", [], 2, None),
        ("x !low", "x", [], 1, None),
        ("x !4", "x !4", [], None, None),
        ("Wow! great", "Wow! great", [], None, None),
        ("x !1 !3", "x", [], 1, None),
        ("x today", "x", [], None, TODAY),
        ("x Today", "x", [], None, TODAY),
        ("x tomorrow", "x", [], None, D(2026, 11, 26)),
        ("x tmr", "x", [], None, D(2026, 11, 26)),
        ("x monday", "x", [], None, D(2026, 11, 30)),
        ("x mon", "x", [], None, D(2026, 11, 30)),
        ("x tuesday", "x", [], None, D(2026, 12, 1)),
        ("x wednesday", "x", [], None, D(2026, 12, 2)),  # today's weekday: a week ahead
        ("x thu", "x", [], None, D(2026, 11, 26)),
        ("x thurs", "x", [], None, D(2026, 11, 26)),
        ("x friday", "x", [], None, D(2026, 11, 27)),
        ("x saturday", "x", [], None, D(2026, 11, 28)),
        ("x sunday", "x", [], None, D(2026, 11, 29)),
        ("I sat in the sun", "I sat in the sun", [], None, None),
        ("x next week", "x", [], None, D(2026, 11, 30)),
        ("Pay rent due 2026-12-01", "Pay rent", [], None, D(2026, 12, 1)),
        ("Submit report by friday", "Submit report", [], None, D(2026, 11, 27)),
        ("Party on saturday #home", "Party", ["home"], None, D(2026, 11, 28)),
        ("x due next week", "x", [], None, D(2026, 11, 30)),
        ("x due in 3 days !1", "x", [], 3, D(2026, 11, 28)),
        ("x due:tomorrow", "x", [], None, D(2026, 11, 26)),
        ("x DUE:2026-12-31", "x", [], None, D(2026, 12, 31)),
        ("x due:next week", "x", [], None, D(2026, 11, 30)),
        ("x due:later", "x due:later", [], None, None),
        ("x due:", "x due:", [], None, None),
        ("Pay the amount due", "Pay the amount due", [], None, None),
        ("Stand by me", "Stand by me", [], None, None),
        ("Work on it", "Work on it", [], None, None),
        ("x \\due today", "x due", [], None, TODAY),
        ("x due \\today", "x due today", [], None, None),
        ("x next month", "x", [], None, D(2026, 12, 25)),
        ("x next friday", "x", [], None, D(2026, 11, 27)),
        ("the next thing", "the next thing", [], None, None),
        ("x in 3 days", "x", [], None, D(2026, 11, 28)),
        ("x in 1 day", "x", [], None, D(2026, 11, 26)),
        ("x in 2 weeks", "x", [], None, D(2026, 12, 9)),
        ("x in 3 months", "x", [], None, D(2027, 2, 25)),
        ("x in 0 days", "x in 0 days", [], None, None),
        ("x in 1000 days", "x in 1000 days", [], None, None),
        ("lives in 3 places", "lives in 3 places", [], None, None),
        ("x 2026-12-31", "x", [], None, D(2026, 12, 31)),
        ("x 2028-02-29", "x", [], None, D(2028, 2, 29)),
        ("x 2026-02-30", "x 2026-02-30", [], None, None),
        ("x 2026-13-01", "x 2026-13-01", [], None, None),
        ("x 26-12-31", "x 26-12-31", [], None, None),
        ("x tomorrow friday", "x", [], None, D(2026, 11, 27)),
        ("Meet at noon friday.", "Meet at noon", [], None, D(2026, 11, 27)),
        ("Meet on friday.", "Meet", [], None, D(2026, 11, 27)),
        ("Todayish plans", "Todayish plans", [], None, None),
        ("Check Monday.com", "Check Monday.com", [], None, None),
        ("Finish today's report", "Finish today's report", [], None, None),
        (r"Plan \today", "Plan today", [], None, None),
        (r"Write \#hashtag", "Write #hashtag", [], None, None),
        ("#only #tags", "", ["only", "tags"], None, None),
        ("", "", [], None, None),
    ],
)
def test_grammar(text, title, tags, priority, due):
    parsed = parse_quick_add(text, TODAY)
    assert (parsed.title, parsed.tags, parsed.priority, parsed.due) == (title, tags, priority, due)


@pytest.mark.parametrize(
    ("text", "title", "repeat", "due"),
    [
        ("Call mum every week", "Call mum", "FREQ=WEEKLY", TODAY),
        ("Stretch every day", "Stretch", "FREQ=DAILY", TODAY),
        ("Rent every month due 2026-12-01", "Rent", "FREQ=MONTHLY", D(2026, 12, 1)),
        ("Taxes every year", "Taxes", "FREQ=YEARLY", TODAY),
        ("Water plants every 3 days", "Water plants", "FREQ=DAILY;INTERVAL=3", TODAY),
        ("Bins every other week", "Bins", "FREQ=WEEKLY;INTERVAL=2", TODAY),
        ("Every 2 months: haircut", "haircut", "FREQ=MONTHLY;INTERVAL=2", TODAY),
        ("x every 2, weeks", "x every 2, weeks", None, None),
        ("Standup every weekday", "Standup", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", TODAY),
        ("Gym every monday", "Gym", "FREQ=WEEKLY;BYDAY=MO", D(2026, 11, 30)),
        ("Review every wednesday", "Review", "FREQ=WEEKLY;BYDAY=WE", TODAY),  # today's weekday
        ("Gym every monday friday", "Gym", "FREQ=WEEKLY;BYDAY=MO", D(2026, 11, 27)),
        ("every now and then", "every now and then", None, None),
        ("Every sunday roast", "roast", "FREQ=WEEKLY;BYDAY=SU", D(2026, 11, 29)),
        ("Every sat", "Every sat", None, None),
        ("x every 0 days", "x every 0 days", None, None),
        ("x every 366 days", "x every 366 days", None, None),
        ("x every", "x every", None, None),
        (r"x \every week", "x every week", None, None),
    ],
)
def test_repeats(text, title, repeat, due):
    parsed = parse_quick_add(text, TODAY)
    assert (parsed.title, parsed.repeat, parsed.due) == (title, repeat, due)
    if repeat:
        assert validate_rule(repeat) is None  # the editor can show and change it


def test_every_weekday_on_a_weekend_starts_on_monday():
    parsed = parse_quick_add("Standup every weekday", date(2026, 11, 28))  # a Saturday
    assert parsed.due == date(2026, 11, 30)


def test_month_arithmetic_clamps_to_the_end_of_the_month():
    assert parse_quick_add("x in 1 month", date(2027, 1, 31)).due == date(2027, 2, 28)
    assert parse_quick_add("x next month", date(2028, 1, 31)).due == date(2028, 2, 29)


def test_weekday_on_a_sunday_means_the_coming_one():
    assert parse_quick_add("x monday", date(2026, 11, 29)).due == date(2026, 11, 30)


def test_never_raises_on_arbitrary_text():
    rng = random.Random(20261125)
    alphabet = "ab #!-/.1234567890\\\t\n\x00é中😀" + "todaymonfrinextweekinevery"
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        parsed = parse_quick_add(text, TODAY)
        assert isinstance(parsed.title, str)
        assert all(0 < len(t) <= 50 for t in parsed.tags)
        assert parsed.priority in (None, 1, 2, 3)
        assert parsed.repeat is None or validate_rule(parsed.repeat) is None
