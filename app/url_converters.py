"""URL converters: ids in URLs are bounded to what the id columns can hold."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # INTEGER primary keys on PostgreSQL; SQLite would overflow past 2**63


class IdConverter(IntegerConverter):
    """`<int:...>` that matches 1..MAX_ID only: a larger number is a 404 from routing, never a
    database overflow (a 500)."""

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
