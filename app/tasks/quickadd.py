"""Quick add: "Call Ada tomorrow #work !1" -> title "Call Ada", tag work, high, due tomorrow.

The grammar is small and fixed, so it is parsed token by token here (a general
natural-language date parser such as dateparser would also read dates into ordinary words,
and is far heavier); month arithmetic uses dateutil's relativedelta.

Rules:
- Tokens are separated by whitespace and only whole tokens are read, so "Todayish" and
  "Monday.com" stay text. Trailing punctuation (.,;:!?) is ignored when reading a token.
- `#name` is a tag (letters, digits, - _ / . and any Unicode letter; at most 50 characters);
  a `#` inside a word ("C#") or a bare `#` is text.
- `+name` puts the task in the project of that name (case-insensitive; the view decides
  which projects count: app/projects/services.project_named). Unquoted, the name is the
  rest of the token and starts with a letter (`+Work`, `+home-reno`; so `+1` and `a+b` are
  text); a name with spaces is quoted: `+"Two words"` (the quote may span tokens, and an
  unclosed quote is text). Trailing punctuation is not part of an unquoted name. The last
  `+name` given counts; the view leaves it in the title when no such project exists
  (`QuickAdd.title_with_project`), since projects are made on purpose, never by typing.
- `@name` assigns the task to a member of its project (a display name or an email's local
  part, case-insensitive: app/tasks/assignees.member_named), read exactly as `+name` is:
  `@bob`, `@"Ada Lovelace"`; one grammar for both. An `@` inside a word
  ("bob@example.com") or a bare `@` is text. The last `@name` counts (like `+name`, and
  like dates and priorities); the view leaves it in the title when no member, or more than
  one, answers to it (`QuickAdd.title_keeping`).
- `!1` `!2` `!3` = high, medium, low (like Todoist's p1); also `!high` `!hi` `!medium`
  `!med` `!low` `!lo`.
- Dates: `today`, `tomorrow` (`tmr`, `tmrw`), a weekday (`friday`, `fri`; only the full
  names for Saturday and Sunday, since "sat" and "sun" are words; always the next one after
  today: typing today's weekday means a week from today),
  `next week` (next Monday), `next month` (same day next month, clamped to its end),
  `next friday` (= `friday`), `in 3 days` / `in 2 weeks` / `in 1 month`, ISO `2026-12-31`.
  An impossible ISO date (2026-02-30) stays text.
- A date may be led by `due`, `by` or `on` ("Pay rent due 2026-12-01", "Submit by friday",
  "Party on saturday"), or written `due:tomorrow`: the lead leaves the title with the date.
  Not followed by a date, the word stays ("Stand by me", "the amount due", "due:later").
- Repeats: `every day|week|month|year`, `every 3 days`, `every other week`, `every weekday`
  (Monday to Friday), `every monday`. With no due date given, the task is due on the first
  occurrence from today on (today, or the named day). The editor sets anything finer.
- Times: `9am`, `9:30pm`, `12am` (midnight), `17:30`, optionally led by `at` ("Call Ada
  tomorrow at 9am", "Standup friday 17:30"). A time goes with the due date; with none given
  (or repeat), the task is due today. `25:00`, `9:60`, `13pm` and a bare `9` stay text.
- When several dates or priorities are given the last one wins; all of them leave the title.
- A backslash keeps a token literal: `\\today` puts the word "today" in the title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta
from typing import NamedTuple

from dateutil.relativedelta import relativedelta

from app.forms import parse_bounded_int
from app.models import Priority
from app.tagging import name_problem
from app.tasks.recurrence import DAYS, MAX_INTERVAL, build_rule

SYNTAX_HELP: list[tuple[str, str]] = [
    ("#work", "Tag the task “work” (created when missing)"),
    ('+work  +"Two words"', "Put the task in that project (one you can add to)"),
    ('@bob  @"Ada Lovelace"', "Assign it to that member of its project (name or email)"),
    ("!1  !2  !3", "Priority high, medium, low (also !high, !medium, !low)"),
    ("today  tomorrow", "Due today or tomorrow"),
    ("friday  fri", "Due next Friday (any weekday, full or short)"),
    ("next week  next month", "Due next Monday, or this day next month"),
    ("in 3 days  in 2 weeks", "Due that far from today (days, weeks, months)"),
    ("2026-12-31", "Due on that date"),
    ("9am  17:30  at 6pm", "At that time (tomorrow 9am, friday 17:30; alone: today)"),
    ("due fri  by fri  on fri  due:fri", "Due Friday: “due”, “by”, “on” go with the date"),
    ("every week  every 2 days  every monday", "Repeats (also every weekday, every other month)"),
    ("\\today", "The word “today” itself, kept in the title"),
]

_TRAILING = ".,;:!?"
_TAG = re.compile(r"^#([^\W_]|[0-9_])[\w\-/.]{0,49}$", re.UNICODE)
# `+name` and `@name`: a sigil, then a name starting with a letter.
_NAMED = {
    "+": ("project", re.compile(r"^\+([^\W\d_][^\s]{0,79})$", re.UNICODE)),
    "@": ("assignee", re.compile(r"^@([^\W\d_][^\s]{0,79})$", re.UNICODE)),
}
MAX_PROJECT_NAME = 80  # and of a display name
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PRIORITIES = {
    "1": Priority.HIGH, "high": Priority.HIGH, "hi": Priority.HIGH,
    "2": Priority.MEDIUM, "medium": Priority.MEDIUM, "med": Priority.MEDIUM,
    "3": Priority.LOW, "low": Priority.LOW, "lo": Priority.LOW,
}  # fmt: skip
_WEEKDAYS = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sunday": 6,
}  # fmt: skip  ("sat" and "sun" are everyday words: only the full names count)
_DATE_LEADS = frozenset({"due", "by", "on"})
_TIME_24 = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_TIME_12 = re.compile(r"^(0?[1-9]|1[0-2])(?::([0-5]\d))?(am|pm)$")
_DUE_PREFIX = "due:"
_UNITS = {"day": "days", "days": "days", "week": "weeks", "weeks": "weeks",
          "month": "months", "months": "months"}  # fmt: skip


_EVERY = {"day": "daily", "days": "daily", "week": "weekly", "weeks": "weekly",
          "month": "monthly", "months": "monthly", "year": "yearly", "years": "yearly"}  # fmt: skip
_WORKDAYS = frozenset({"weekday", "weekdays", "workday", "workdays"})


@dataclass(frozen=True)
class QuickAdd:
    title: str
    tags: list[str] = field(default_factory=list)
    priority: int | None = None
    due: date | None = None
    repeat: str | None = None  # an RRULE, as the editor stores it
    project: str | None = None  # the last `+name`, without the plus or quotes
    # The title with that `+name` left in place: what is kept when there is no such project.
    title_with_project: str = ""
    assignee: str | None = None  # the last `@name`, without the at sign or quotes
    due_time: time | None = None  # the last time given (always with a due date)
    # The title's words, and where the last `+name` / `@name` were typed, as typed.
    words: tuple[str, ...] = ()
    # (position in `words`, position in the text, kind, text as typed)
    typed: tuple[tuple[int, int, str, str], ...] = ()

    def title_keeping(self, *kinds: str) -> str:
        """The title with the last `+name` and/or `@name` ("project", "assignee") left where
        they were typed: what is kept when they name no project or member."""
        words = list(self.words)
        for at, _, _, text in sorted(t for t in self.typed if t[2] in kinds)[::-1]:
            words.insert(at, text)
        return " ".join(words)


def _next_weekday(today: date, weekday: int) -> date:
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def _word(token: str) -> str:
    return token.rstrip(_TRAILING).lower()


def _count(word: str, maximum: int) -> int | None:
    """A number of days, weeks... (1..maximum, in ASCII digits), else None: the words stay
    text ("every 0 days", "in 99999999999 years", "every ² days")."""
    try:
        return parse_bounded_int(word, 1, maximum)
    except ValueError:
        return None


class _Phrase(NamedTuple):
    """What the tokens at one position say, and how many tokens say it."""

    kind: str  # "text", "tag", "project", "assignee", "priority", "due" or "repeat"
    value: object
    used: int = 1


class _Repeat(NamedTuple):
    rule: str  # an RRULE
    first: date  # its first occurrence from today on: the due date when none is given


def parse_quick_add(text: str, today: date) -> QuickAdd:
    """`text` read phrase by phrase (the rules are above): each phrase is title text, a tag,
    or a priority, due date or repeat, of which the last one given counts."""
    tokens = text.split()
    title: list[str] = []
    tags: dict[str, str] = {}  # casefolded name -> the name as first typed
    last: dict[str, object] = {}  # "priority", "due", "repeat", "project": the last one wins
    typed: dict[str, tuple] = {}  # "project", "assignee": where they were typed, and how
    i = 0
    while i < len(tokens):
        phrase = _phrase_at(tokens, i, today)
        if phrase.kind == "text":
            title.append(phrase.value)
        elif phrase.kind == "tag":
            tags.setdefault(phrase.value.casefold(), phrase.value)
        else:
            last[phrase.kind] = phrase.value
            if phrase.kind in ("project", "assignee"):
                text_typed = " ".join(tokens[i : i + phrase.used])
                typed[phrase.kind] = (len(title), i, phrase.kind, text_typed)
        i += phrase.used
    repeat = last.get("repeat")
    due = last.get("due", repeat.first if repeat else None)
    at = last.get("time")
    if at is not None and due is None:
        due = today
    parsed = QuickAdd(
        " ".join(title),
        list(tags.values()),
        last.get("priority"),
        due,
        repeat.rule if repeat else None,
        last.get("project"),
        assignee=last.get("assignee"),
        due_time=at,
        words=tuple(title),
        typed=tuple(typed.values()),
    )
    return replace(parsed, title_with_project=parsed.title_keeping("project"))


def _phrase_at(tokens: list[str], i: int, today: date) -> _Phrase:
    """The phrase starting at tokens[i]: the first reading that fits, else one word of the
    title."""
    token = tokens[i]
    return (
        _escaped(token)
        or _tag(token)
        or _named_at(tokens, i)
        or _priority(token)
        or _repeat_at(tokens, i, today)
        or _time_at(tokens, i)
        or _due_at(tokens, i, today)
        or _Phrase("text", token)
    )


def _escaped(token: str) -> _Phrase | None:
    """`\\today`: the token without its backslash, as title text."""
    if token.startswith("\\") and len(token) > 1:
        return _Phrase("text", token[1:])
    return None


def _tag(token: str) -> _Phrase | None:
    bare = token.rstrip(_TRAILING)
    # The pattern admits no comma and at most 50 characters; the shared check keeps quick
    # add to the editor's rule should either change.
    if _TAG.match(bare) and not name_problem(name := bare[1:].rstrip(".")):
        return _Phrase("tag", name)
    return None


def _named_at(tokens: list[str], i: int) -> _Phrase | None:
    """`+name` or `@name`, or `+"two words"` / `@"two words"` (up to the token that closes
    the quote)."""
    token = tokens[i]
    if token[:1] not in _NAMED:
        return None
    kind, pattern = _NAMED[token[0]]
    if token[1:2] == '"':
        for j in range(i, len(tokens)):
            text = " ".join(tokens[i : j + 1]).rstrip(_TRAILING)
            if len(text) > 2 and text.endswith('"'):
                name = " ".join(text[2:-1].split())
                ok = 0 < len(name) <= MAX_PROJECT_NAME
                return _Phrase(kind, name, j - i + 1) if ok else None
        return None
    match = pattern.match(token.rstrip(_TRAILING))
    return _Phrase(kind, match.group(1)) if match else None


def _priority(token: str) -> _Phrase | None:
    bare = token.rstrip(_TRAILING)
    if bare.startswith("!") and bare[1:].lower() in _PRIORITIES:
        return _Phrase("priority", int(_PRIORITIES[bare[1:].lower()]))
    return None


def _time_at(tokens: list[str], i: int) -> _Phrase | None:
    """A time at tokens[i] (`9am`, `17:30`), or led by `at` ("at 9am")."""
    found = _time_of(_word(tokens[i]))
    if found is not None:
        return _Phrase("time", found)
    if _word(tokens[i]) == "at" and i + 1 < len(tokens):
        found = _time_of(_word(tokens[i + 1]))
        return _Phrase("time", found, 2) if found is not None else None
    return None


def _time_of(word: str) -> time | None:
    if match := _TIME_24.match(word):
        return time(int(match[1]), int(match[2]))
    if match := _TIME_12.match(word):
        hour = int(match[1]) % 12 + (12 if match[3] == "pm" else 0)
        return time(hour, int(match[2] or 0))
    return None


def _due_at(tokens: list[str], i: int, today: date) -> _Phrase | None:
    """A date at tokens[i], or led by `due`, `by` or `on` (which the date takes with it), or
    written `due:tomorrow`."""
    found = _date_at(tokens, i, today)
    if found is not None:
        return found
    word = _word(tokens[i])
    if word in _DATE_LEADS and i + 1 < len(tokens):
        led = _date_at(tokens, i + 1, today)
        return led._replace(used=led.used + 1) if led else None
    if word.startswith(_DUE_PREFIX) and len(word) > len(_DUE_PREFIX):
        # "due:next week": the date starts inside this token.
        return _date_at([tokens[i][len(_DUE_PREFIX) :], *tokens[i + 1 :]], 0, today)
    return None


def _date_at(tokens: list[str], i: int, today: date) -> _Phrase | None:
    """A date phrase starting at tokens[i] ("due", its date, the tokens it uses), or None."""
    word = _word(tokens[i])
    following = _word(tokens[i + 1]) if i + 1 < len(tokens) else ""
    if word == "today":
        return _Phrase("due", today, 1)
    if word in ("tomorrow", "tmr", "tmrw"):
        return _Phrase("due", today + timedelta(days=1), 1)
    if word in _WEEKDAYS:
        return _Phrase("due", _next_weekday(today, _WEEKDAYS[word]), 1)
    if word == "next":
        if following == "week":
            return _Phrase("due", _next_weekday(today, 0), 2)
        if following == "month":
            return _Phrase("due", today + relativedelta(months=1), 2)
        if following in _WEEKDAYS:
            return _Phrase("due", _next_weekday(today, _WEEKDAYS[following]), 2)
        return None
    if word == "in" and i + 2 < len(tokens) and (amount := _count(following, 999)):
        unit = _UNITS.get(_word(tokens[i + 2]))
        if unit and not tokens[i + 1].endswith(tuple(_TRAILING)):
            return _Phrase("due", today + relativedelta(**{unit: amount}), 3)
        return None
    if _ISO.match(word):
        try:
            return _Phrase("due", date.fromisoformat(word), 1)
        except ValueError:
            return None
    return None


def _repeat_at(tokens: list[str], i: int, today: date) -> _Phrase | None:
    """A repeat phrase starting at tokens[i] ("repeat", its _Repeat, the tokens it uses), or
    None."""
    if _word(tokens[i]) != "every" or i + 1 >= len(tokens):
        return None
    word = _word(tokens[i + 1])
    interval = 2 if word == "other" else _count(word, MAX_INTERVAL)
    if interval and i + 2 < len(tokens):
        unit = _EVERY.get(_word(tokens[i + 2]))
        if unit and not tokens[i + 1].endswith(tuple(_TRAILING)):
            return _repeats(build_rule(unit, interval, []), today, 3)
        return None
    if word in _EVERY:
        return _repeats(build_rule(_EVERY[word], 1, []), today, 2)
    if word in _WORKDAYS:
        first = today if today.weekday() < 5 else _next_weekday(today, 0)
        return _repeats(build_rule("weekdays", 1, []), first, 2)
    if word in _WEEKDAYS:
        day = _WEEKDAYS[word]
        first = today if today.weekday() == day else _next_weekday(today, day)
        return _repeats(build_rule("weekly", 1, [DAYS[day]]), first, 2)
    return None


def _repeats(rule: str, first: date, used: int) -> _Phrase:
    return _Phrase("repeat", _Repeat(rule, first), used)
