"""PostgreSQL CPU per request for the bench's pages, measured in process: a quick look at the
database side of a page, between full `make bench` runs.

    python -m bench.database_cpu [--seed] [case ...]        (make bench-database-cpu)

Runs each case's GET through Flask's test client (one thread, so one pooled connection)
against the bench's full data set in BENCH_DATABASE_URL, N times (default 200) after a
warm-up of 20, and prints the PostgreSQL backends' CPU per request (read from /proc, as
`make bench` reads it: bench.servers.PostgresCpu) and this process's own CPU per request
(Flask, SQLAlchemy, psycopg and the test client: not a worker's figure, a comparison between
pages). `--seed` recreates and fills the database first (BENCH_SIZE, full by default: about
a minute) and keeps what the cases need to know in instance/bench-meta-<database>.json;
without it, the database must hold an earlier `--seed`'s data. BENCH_DB=sqlite measures the
SQLite bench database and the process alone (SQLite runs in it).

Cases: list, shared, project_1, today_20, search, tag_due (the `make bench` cases of the
same names), and list_all and search_all (the list and its search with status "all"). The
machine's speed moves these figures from run to run; compare cases run together, or a
change against its parent run back to back.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import quote_plus

from bench.seed import TOKENS, credentials, libpq_url, seed
from bench.servers import PostgresCpu
from bench.settings import ROOT, SECRET_KEY, USER_AGENT, Settings


def meta_path(url: str) -> Path:
    """Where `--seed` keeps the seed's meta for the database at `url`."""
    from sqlalchemy.engine import make_url

    name = Path(make_url(url).database or "memory").stem
    return ROOT / "instance" / f"bench-meta-{name}.json"


def _cases(meta: dict) -> dict[str, tuple[str, str]]:
    return {
        "list": ("a", "/tasks"),
        "shared": ("member", f"/projects/{meta['shared_project']}"),
        "project_1": ("member", f"/projects/{meta['solo_project']}"),
        "today_20": ("p20", "/tasks/today"),
        "search": ("a", f"/tasks?q={quote_plus(meta['search_word'])}"),
        "tag_due": ("a", f"/tasks?tag={quote_plus(meta['tag'])}&sort=due"),
        "list_all": ("a", "/tasks?status=all"),
        "search_all": ("a", f"/tasks?q={quote_plus(meta['search_word'])}&status=all"),
    }


def main(argv: list[str]) -> int:
    settings = Settings.from_env()
    url = settings.database_url(os.environ.get("BENCH_DB", "postgresql"))
    meta = meta_path(url)
    if "--seed" in argv:
        values = seed(url, settings.size)
        meta.parent.mkdir(exist_ok=True)
        meta.write_text(json.dumps(values, default=str))  # bench.instructions --reuse reads it
    if not meta.exists():
        raise SystemExit("no seed to measure: run with --seed first")
    cases = _cases(json.loads(meta.read_text()))
    chosen = [a for a in argv if not a.startswith("--")] or list(cases)
    unknown = set(chosen) - set(cases)
    if unknown:
        raise SystemExit(f"unknown cases {sorted(unknown)}; known: {', '.join(cases)}")
    from app import create_app

    app = create_app(
        overrides={"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "LOG_LEVEL": "WARNING"}
    )
    cookies = {user: credentials(app, token)[0] for user, token in TOKENS.items()}
    watcher = PostgresCpu(libpq_url(url)) if url.startswith("postgresql") else None
    runs = int(os.environ.get("N", "200"))
    headers = {"User-Agent": USER_AGENT}
    print(f"{'case':10} {'PostgreSQL ms':>14} {'process ms':>11}  ({runs} requests each)")
    for name in chosen:
        user, path = cases[name]
        client = app.test_client()
        client.set_cookie("tasklane_session", cookies[user])
        for _ in range(20):
            status = client.get(path, headers=headers).status_code
            if status != 200:
                raise SystemExit(f"{name}: {path} answered {status}")
        before = watcher.snapshot() if watcher else None
        started = time.process_time()
        for _ in range(runs):
            client.get(path, headers=headers)
        process = (time.process_time() - started) / runs * 1000
        database = watcher.used_since(before) / runs * 1000 if watcher else 0.0
        print(f"{name:10} {database:14.2f} {process:11.2f}", flush=True)
    if watcher:
        watcher.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
