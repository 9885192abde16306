"""Counts on badges (a project's open tasks in the navigation, unread notifications in the
header) stop past CAP and read "99+".

Counting stops after CAP + 1 rows, so a badge costs the same at 100,000 rows as at 1,000.
Counting every open task cost 20 ms of PostgreSQL CPU (180 ms on SQLite) per page at 70,000
open tasks (`make bench`, 2026-12-02), where the rest of the page costs about 15 ms; a cap of
999 still cost 2 ms in one project and 7 ms in 20. No app imports: the bench's raw ceiling
loads this file on its own.
"""

from sqlalchemy import func, select

CAP = 99


def capped_count(ids):
    """`count(*)` of at most CAP + 1 rows of `ids` (a select of one column, correlated to the
    outer query where it names its tables), as a scalar subquery."""
    return select(func.count()).select_from(ids.limit(CAP + 1).subquery()).scalar_subquery()


def count_label(count: int) -> str:
    """The figure shown: the count, or "99+" past the cap."""
    return f"{CAP}+" if count > CAP else str(count)


def count_spoken(count: int) -> str:
    """The figure read out by a screen reader: "more than 99" past the cap."""
    return f"more than {CAP}" if count > CAP else str(count)
