"""How far a project's open tasks are counted, and how the count reads.

Counting stops past OPEN_COUNT_CAP and the count reads "99+", as badges do: each project's
count then reads at most 100 index entries, so a page costs the same at 100,000 open tasks as
at 1,000. Counting them all cost 20 ms of PostgreSQL CPU (180 ms on SQLite) per page at 70,000
open tasks (`make bench`, 2026-12-02), where the rest of the page costs about 15 ms; a cap of
999 still cost 2 ms in one project and 7 ms in 20. No imports: the bench's raw ceiling loads
this file on its own.
"""

OPEN_COUNT_CAP = 99


def open_count_label(count: int) -> str:
    """The figure shown: the count, or "99+" past the cap."""
    return f"{OPEN_COUNT_CAP}+" if count > OPEN_COUNT_CAP else str(count)
