"""The list's text search (?q=): a case-insensitive substring of a task's title or notes,
served by an index on each database (migration c8e2f4a6b1d9; README, "Performance").

What matches is always decided by the same LIKE on lower(title) and lower(notes), LIKE's
metacharacters escaped; the indexes only find the candidates sooner:

- PostgreSQL, a project's page (probed_page): the statement itself chooses between walking
  the list index in order and reading the pg_trgm GIN index ix_tasks_search (for open
  tasks, ix_tasks_search_open: migration b8f1d3a5c7e2), by what the first PROBE rows of
  the list hold, not by the planner's estimate of the term (which came from ANALYZE's
  sample and changed the plan of a 1% term from one ANALYZE to the next). A
  database without pg_trgm answers the same rows, by scanning. The views across projects
  leave the choice to the planner.
- SQLite cannot index LIKE '%term%'. There the FTS5 trigram table tasks_search narrows the
  rows to the task ids whose title or notes contain the term's trigrams (case folded): a
  superset of the LIKE's matches, which the LIKE then checks. A trigram query needs three
  characters, so shorter terms are the LIKE alone (they match most tasks anyway). The
  index's rowid is the task's key, (project_id << 32) | id (migration f6c2a8d4e1b7), so a
  project's page reads only its project's matches, a range of rowids.
"""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    type_coerce,
    union_all,
)

from app.models import Task, User
from app.tasks.ordering import ordered

# The FTS5 table (and its shadow tables tasks_search_data, _idx, _docsize and _config, and
# the view tasks_search_source it indexes): made by the migrations, not by the models.
SQLITE_TABLE = "tasks_search"
_fts = table(SQLITE_TABLE, column("rowid"))
_fts_match = literal_column(SQLITE_TABLE).op("MATCH")
MIN_INDEXED = 3  # characters: the trigram tokenizer matches nothing shorter
# The index's rowid: a task's project in the high bits, its id in the low (KEY_BITS) ones.
KEY_BITS = 32
_ID_MASK = (1 << KEY_BITS) - 1

# Up to this many tasks containing the term (in the listed project; across projects, in the
# whole database), SQLite reads their ids from the index into a set and the list checks each
# row against it (cheap); beyond it the term is common, most rows match, and the list's
# LIKE finds a page sooner than collecting every match would. Measured on the bench's data
# (326,000 tasks, 100,000 in the listed project; README, "Performance"): "zephyr" (3,320
# matches) went from 12-15 ms to 1.5-2 ms, a term that matches nothing from 200-280 ms to
# 6-20 ms (the list is still read, each row a cheap check), and "report" (19,000 matches:
# the LIKE) from ~1 ms to ~2 ms, the count.
COMMON = 5_000


def is_index_table(name: str) -> bool:
    """A table of the search index, which the models do not describe (Alembic's
    autogenerate and the schema tests leave them out)."""
    return name == SQLITE_TABLE or name.startswith(SQLITE_TABLE + "_")


def terms(q: str) -> dict:
    """The values a search for `q` binds: the LIKE pattern, and the FTS5 phrase when the
    term is long enough for the trigram index (else None)."""
    lowered = q.lower()
    phrase = None
    if len(lowered) >= MIN_INDEXED:
        phrase = '"' + lowered.replace('"', '""') + '"'  # one FTS5 string: no operators
    return {"pattern": "%" + escape_like(lowered) + "%", "phrase": phrase}


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def condition(dialect: str, pattern, phrase=None, project=None) -> ColumnElement[bool]:
    """Tasks whose title or notes contain the search term: `pattern` and `phrase` are the
    values of terms() or bound parameters standing for them (phrase None: no index term).
    `project` (an id or a bound parameter; None: any project) is the one project the caller
    lists: on SQLite the index is then read for that project's rows alone."""
    like = or_(
        func.lower(Task.title).like(pattern, escape="\\"),
        func.lower(Task.notes).like(pattern, escape="\\"),
    )
    if dialect != "sqlite" or phrase is None:
        return like
    # Read from the index once per statement, up to COMMON ids (MATERIALIZED: SQLite would
    # otherwise run the MATCH again for the count and for the set), then counted and turned
    # into the set each row is checked against. Up to COMMON ids are all there are (the
    # term is rare: a row must be among them); COMMON of them say the term is common, and
    # every row goes on to the LIKE. Counting and collecting with two MATCHes, and choosing
    # with a CASE, cost 4.4 ms a page of the bench's 1% term; this 2.3 ms (2026-12-04).
    # A project's tasks are the rowids from project << KEY_BITS up: FTS5 seeks to the range
    # in each term's list and reads no other project's matches (2.3 ms a page of the bench's
    # 1% term before, 1.45 ms with it: migration f6c2a8d4e1b7).
    found = _fts_match(phrase)
    if project is not None:
        low = type_coerce(project, Integer).op("<<")(KEY_BITS)
        found = and_(found, _fts.c.rowid.between(low, low + _ID_MASK))
    matches = select(_fts.c.rowid.op("&")(_ID_MASK).label("id")).where(found).limit(COMMON)
    matches = matches.cte("search_matches").prefix_with("MATERIALIZED")
    common = select(func.count()).select_from(matches).scalar_subquery() >= COMMON
    return and_(or_(Task.id.in_(select(matches.c.id)), common), like)


# PostgreSQL, a project's page (probed_page). The first PROBE rows of the list from the
# cursor, in the page's order, are read and checked by the LIKE:
# - they hold a full page: that is the page (a common term);
# - they hold at least WALK_FROM matches (1.6% or more of the rows): the list index is read
#   on in order until a page is full (51 / 1.6% = about 3,200 rows at most, fewer the more
#   common the term);
# - fewer: the term is rare, and its matches are read from the trigram index and sorted.
# The cut is where the two plans cost the same on the bench's data (README, "Search"):
# walking costs ~2 us a row read, the index ~4.5 us a match, so a term near it costs about
# the same either way, and a probe that misjudges one costs little. The planner, deciding
# from ANALYZE's sample of the term, walked the list for a 1% term on some samples (15 ms
# where the index took 4.5 ms) and read the index on others.
PROBE = 500
WALK_FROM = 8


def probed_page(
    listed: Select, order: list, limit: int, columns, pattern, name: str = "", keys: bool = False
) -> Select:
    """PostgreSQL: the first `limit` rows of `listed` (a select of tasks with every filter but
    the search, the cursor's condition included) that match `pattern`, in `order` ([(key,
    descending)]), as `columns` (LISTED_COLUMNS' names): from the probe, the walk or the
    index (see PROBE). One statement: each arm is gated by a one-time filter on the probe's
    count, so only the chosen one reads; the arms are planned apart from each other
    (MATERIALIZED CTEs, and a window fenced by its LIMIT or OFFSET), so no estimate of the
    term decides.

    Built per request, so it names columns (literal_column) instead of adapting expressions
    to each subquery: building subqueries' column proxies and adapting cost 40 ms a page.
    `name` prefixes its CTEs' and subqueries' names (two pages in one statement:
    probed_statuses); `keys`: the rows carry their sort keys too, as k0, k1, ..."""
    like = condition("postgresql", pattern)
    order = [(_element(key), d) for key, d in order]
    labels = [key.label(f"k{i}") for i, (key, _) in enumerate(order)]
    # The assignee's name is looked up for the page's rows only, at the end.
    inner = [Task.assignee_id if c.name == "assignee_name" else _element(c) for c in columns]
    names = [c.name for c in inner] + [k.name for k in labels]

    def named(source):
        return select(*[literal_column(n) for n in names]).select_from(source)

    def walked(name: str, rows: int | None):
        """The list's rows in the page's order, each with its LIKE (the first `rows` of them,
        or all, fenced by OFFSET 0 so that the planner reads the list index in order: nothing
        above it sorts), those matching, up to `limit`. The window carries the sort keys, so
        its rows are known to come out in order and the LIMIT stops the read."""
        window = listed.with_only_columns(*inner, *labels, like.label("hit"))
        window = window.order_by(*ordered(order))
        window = (window.limit(rows) if rows else window.offset(0)).subquery(name)
        return named(window).where(literal_column("hit")).limit(limit)

    probe = walked(f"{name}window", PROBE).cte(f"{name}probe").prefix_with("MATERIALIZED")
    found = select(func.count()).select_from(probe).scalar_subquery()
    # MATERIALIZED: planned on its own, for all its rows (no ORDER BY or LIMIT reaches it),
    # so the planner reads the trigram index and never walks the list for it. It keeps each
    # match's id and sort keys only; the page's rows among them are then fetched by id (a
    # match's every column kept and sorted cost 0.2 ms more a page of the bench's 1% term).
    hits = select(Task.id.label("hit_id"), *labels).where(listed.whereclause, like)
    hits = hits.cte(f"{name}hits").prefix_with("MATERIALIZED")
    hit_keys = [(literal_column(k.name), d) for k, (_, d) in zip(labels, order, strict=True)]
    first = select(literal_column("hit_id")).select_from(hits).order_by(*ordered(hit_keys))
    first = first.limit(limit).subquery(f"{name}first_hits")
    fetched = select(*inner, *labels).join_from(
        Task, first, Task.id == literal_column(f"{name}first_hits.hit_id")
    )
    arms = f"{name}arms"
    union = union_all(
        named(probe).where(found >= limit),
        walked(f"{name}list", None).where(found < limit, found >= WALK_FROM),
        fetched.where(found < WALK_FROM),
    ).subquery(arms)
    assignee = (
        select(User.display_name)
        .where(User.id == literal_column(f"{arms}.assignee_id"))
        .scalar_subquery()
    )
    out = [
        assignee.label(c.name)
        if c.name == "assignee_name"
        else literal_column(f"{arms}.{c.name}", c.type).label(c.name)
        for c in columns
    ]
    if keys:
        out += [literal_column(f"{arms}.{k.name}").label(k.name) for k in labels]
    ranks = [
        (literal_column(f"{arms}.{k.name}"), d) for k, (_, d) in zip(labels, order, strict=True)
    ]
    return select(*out).select_from(union).order_by(*ordered(ranks)).limit(limit)


def probed(status: str, listed: Select, order: list, limit: int, columns, pattern) -> Select:
    """PostgreSQL, a project's page of an indexed search with the URL's `status`: probed_page
    for open or done tasks, probed_statuses for both (the one choice its callers share)."""
    page = probed_statuses if status == "all" else probed_page
    return page(listed, order, limit, columns, pattern)


def probed_statuses(listed: Select, order: list, limit: int, columns, pattern) -> Select:
    """PostgreSQL, status "all": probed_page's first `limit` rows of the open tasks and of the
    done ones, merged. The list indexes lead with `done`, so no index reads open and done
    tasks in one order: one probe over both sorted every task of the project for each page
    (110-290 ms of PostgreSQL a search of the bench's 100,000 tasks). Each status decides
    walk or index for itself, and the merge sorts at most 2 x `limit` rows."""
    pages = [
        probed_page(
            listed.where(Task.done.is_(done)), order, limit, columns, pattern, name, keys=True
        )
        for done, name in ((False, "open_"), (True, "done_"))
    ]
    merged = union_all(*pages).subquery("statuses")
    ranks = [(literal_column(f"statuses.k{i}"), d) for i, (_, d) in enumerate(order)]
    out = [literal_column(f"statuses.{c.name}", c.type).label(c.name) for c in columns]
    return select(*out).select_from(merged).order_by(*ordered(ranks)).limit(limit)


def _element(expr):
    """The Core expression of an ORM attribute (ClauseAdapter adapts only those)."""
    element = getattr(expr, "__clause_element__", None)
    return element() if element else expr
