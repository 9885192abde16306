"""Reading the list's view from its URL (app/tasks/forms.py, list_query): what each argument
accepts, what a missing or empty one means, and which message a bad URL gets."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from app.forms import CONTROL_MESSAGE
from app.models import Priority
from app.tasks.forms import list_query
from app.tasks.listing import DEFAULT_LIMIT, BadListQuery, ListQuery, encode_cursor


@pytest.fixture
def read(app):
    def read(*pairs: tuple[str, str]) -> ListQuery:
        with app.test_request_context("/tasks"):
            return list_query(MultiDict(pairs))

    return read


def refusal(read, *pairs) -> str:
    with pytest.raises(BadListQuery) as refused:
        read(*pairs)
    return str(refused.value)


def test_no_arguments_and_empty_ones_are_the_default_view(read):
    assert read() == ListQuery()
    empty = [("q", ""), ("status", ""), ("sort", ""), ("due", ""), ("priority", "")]
    assert read(*empty, ("tag", ""), ("limit", ""), ("after", "")) == ListQuery()
    assert read().limit == DEFAULT_LIMIT


def test_each_argument_is_read(read):
    query = read(
        ("q", "  milk  "),
        ("status", "done"),
        ("sort", "-priority"),
        ("due", "week"),
        ("priority", "HiGh"),
        ("tag", "home"),
        ("limit", "7"),
    )
    assert query == ListQuery(
        q="milk",
        status="done",
        sort="-priority",
        due="week",
        priority=Priority.HIGH.value,
        tags=("home",),
        limit=7,
    )
    assert read(("priority", "none")).priority == Priority.NONE.value


def test_tags_are_trimmed_counted_once_and_at_most_ten(read):
    names = [f"t{i}" for i in range(12)]
    query = read(
        ("tag", " a "), ("tag", ""), ("tag", "a"), ("tag", "A"), *[("tag", n) for n in names]
    )
    assert query.tags == ("a", "A", *names[:8])
    # Past the tenth, a name is not read at all, so not refused either.
    assert read(*[("tag", n) for n in names[:10]], ("tag", "x" * 51)).tags == tuple(names[:10])


def test_the_cursor_is_read_for_the_sort(read):
    class Row:
        id, title, priority, due_date = 9, "Milk", 2, None

    token = encode_cursor(Row, "title")
    query = read(("sort", "title"), ("after", token))
    assert query.after == ("Milk", 9) and query.raw_after == token
    assert "page link is not valid" in refusal(read, ("after", token))  # not a "due" cursor


@pytest.mark.parametrize(
    "pairs, message",
    [
        ([("q", "x" * 201)], "Search text is limited to 200 characters."),
        ([("status", "Open")], "Status must be open, done or all."),
        ([("sort", "bogus")], "Sort must be one of: due, -due, priority, -priority,"),
        ([("due", "soon")], "Due must be overdue, today, week or none."),
        ([("priority", "urgent")], "Priority must be none, low, medium or high."),
        ([("tag", "x" * 51)], "Tag names are at most 50 characters."),
        ([("limit", "201")], "Limit must be a number from 1 to 200."),
        ([("limit", " ")], "Limit must be a number from 1 to 200."),
        ([("after", "%%%")], "This page link is not valid; start from the first page."),
        # Several bad values: the message of the first, in this order.
        ([("after", "%%%"), ("limit", "0"), ("status", "x"), ("sort", "x")], "Status must be"),
        ([("after", "%%%"), ("limit", "0"), ("due", "x"), ("sort", "x")], "Sort must be"),
        ([("after", "%%%"), ("limit", "0"), ("tag", "x" * 51), ("priority", "x")], "Priority"),
        ([("after", "%%%"), ("limit", "0"), ("tag", "x" * 51)], "Tag names"),
        ([("after", "%%%"), ("limit", "0")], "Limit must be"),
    ],
)
def test_a_bad_value_is_refused_with_its_message(read, pairs, message):
    assert refusal(read, *pairs).startswith(message)


def test_the_first_of_repeated_arguments_counts(read):
    assert read(("status", "all"), ("status", "bogus")).status == "all"
    assert "Status" in refusal(read, ("status", "bogus"), ("status", "all"))


@pytest.mark.parametrize("name", ["q", "tag", "after"])
def test_control_characters_are_refused(auth_client, name):
    # A NUL reached PostgreSQL in the search and the tag filter, which refuses it: a 500.
    for value in ("a\x00b", "\x01"):
        response = auth_client.get("/tasks", query_string={name: value})
        assert response.status_code == 400
        assert CONTROL_MESSAGE in response.get_data(as_text=True)
