"""How the list's statements write a sort: [(expression, descending)] as ORDER BY terms.
One place for the list, the views and the search, which all take their keys from
listing._sort_keys."""

from __future__ import annotations


def ordered(keys) -> list:
    """ORDER BY terms for `keys`, a list of (expression, descending)."""
    return [expr.desc() if desc else expr.asc() for expr, desc in keys]
