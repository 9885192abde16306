"""The bench's list and toggle cases through the stack of `make stack` (deploy/stack.py):
straight to one instance, through nginx to one instance, through nginx to two.

python -m bench.stack     (`make bench-stack`; BENCH_SECONDS, BENCH_ROUNDS, BENCH_SIZE,
                           BENCH_CONNECTIONS as for `make bench`; the PostgreSQL database is
                           STACK_BENCH_DATABASE, tasklane_bench_stack by default, re-created)

Per case and route: req/s, p50 and p99 (median over rounds), and CPU per request of the
instances' workers, nginx and PgBouncer (/proc). "Straight" against "nginx, 1 instance"
is the proxy's own cost: its CPU per request, and what it adds to p50. Every instance is
the production config (2 workers x 4 threads), so two instances on a machine with two cores
share the same cores: a second machine is what doubles the capacity.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from bench import cases as case_lib
from bench import load, servers
from bench.seed import TOKENS, credentials, libpq_url, seed
from bench.settings import SECRET_KEY, Settings
from deploy.stack import Stack, read_pid, wait_serving

ROUTES = ("straight", "nginx-1", "nginx-2")


def _stack(settings: Settings, database: str) -> Stack:
    run = Path(tempfile.mkdtemp(prefix="tasklane-bench-stack-"))
    run.chmod(0o755)  # nginx's workers and PgBouncer run as `nobody` when started by root
    return Stack(
        run=run,
        port=servers.free_port(),
        web_ports={"web1": servers.free_port(), "web2": servers.free_port()},
        pgbouncer_port=servers.free_port(),
        database=database,
        postgres_url=_admin_url(settings),
        redis_url="redis://127.0.0.1:6379/12",
        # As `make bench` runs Tasklane (bench/run.py), but with the stack's Redis limits.
        env={
            "SECRET_KEY": SECRET_KEY,
            "LOG_LEVEL": "WARNING",
            "AUTH_RATE_LIMIT": "100000/minute",
            "TASKLANE_PRODUCTION": "0",
        },
    )


def _admin_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(settings.pg_url).set(drivername="postgresql", database="postgres")
    return url.render_as_string(hide_password=False)


def _context(url: str, meta: dict) -> SimpleNamespace:
    """What bench.cases needs to build a case's headers and Lua arguments."""
    from app import create_app

    app = create_app(overrides={"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY})
    cookie, csrf = credentials(app, TOKENS["a"])
    return SimpleNamespace(
        cookies={"a": cookie}, csrf={"a": csrf}, meta=meta, libpq_url=libpq_url(url)
    )


def _cases() -> list[case_lib.Case]:
    toggle = {"method": "POST", "htmx": True, "lua": "toggle"}
    return [
        case_lib.Case("list", "pg", "", "tasklane", "/tasks"),
        case_lib.Case("toggle", "pg", "", "tasklane", "/tasks/0/toggle", **toggle),
    ]


def _processes(stack: Stack, route: str) -> dict[str, list[int]]:
    names = ("web1",) if route != "nginx-2" else ("web1", "web2")
    return {
        "app": [w for n in names for w in servers.children(stack.pid(n))],
        "nginx": servers.children(read_pid(stack.run / "nginx" / "nginx.pid")),
        "pgbouncer": [read_pid(stack.run / "pgbouncer" / "pgbouncer.pid")],
    }


def _measure(stack, route, case, ctx, settings: Settings, seconds: int) -> dict:
    port = stack.web_ports["web1"] if route == "straight" else stack.port
    spec = case_lib.wrk_load(case, ctx, f"http://127.0.0.1:{port}", settings, seconds)
    if case.lua == "toggle":
        _reopen(ctx)
    pids = _processes(stack, route)
    before = {k: servers.cpu_seconds(v) for k, v in pids.items()}
    result = load.run(spec)
    n = result["requests"] or 1
    for kind, group in pids.items():
        after = servers.cpu_seconds(group)
        used = sum(after[p] - before[kind][p] for p in group if p in after and p in before[kind])
        result[f"{kind}_cpu_ms"] = used * 1000 / n
    return result


def _reopen(ctx) -> None:
    """The toggle pool back to open before each run, as `make bench` does (reset_pools)."""
    import psycopg

    with psycopg.connect(ctx.libpq_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE tasks SET done = false, done_at = NULL, version = 1"
            " WHERE id = ANY(%s) AND (done OR done_at IS NOT NULL OR version <> 1)",
            (ctx.meta["toggle_ids"],),
        )


def _route(stack: Stack, route: str) -> None:
    nginx = read_pid(stack.run / "nginx" / "nginx.pid")
    stack.route_to(("web1", "web2") if route == "nginx-2" else ("web1",))
    # HUP starts new nginx workers; the old ones leave once idle. Measure after they have.
    deadline = time.monotonic() + 30
    while len(servers.children(nginx)) > 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    wait_serving(stack.port)


def main() -> int:
    settings = Settings.from_env()
    if not load.wrk_path():
        print("bench: wrk is not installed (apt-get install wrk; `make bench` does it)")
        return 2
    database = os.environ.get("STACK_BENCH_DATABASE", "tasklane_bench_stack")
    url = settings.database_url("postgresql").rsplit("/", 1)[0] + "/" + database
    meta = seed(url, settings.size)
    ctx = _context(url, meta)
    stack = _stack(settings, database)
    runs: dict[str, list[dict]] = {}
    try:
        stack.start()
        print(f"stack up: nginx {stack.url}, instances {stack.web_ports}", flush=True)
        for round_no in range(settings.rounds):
            for route in ROUTES[round_no % 3 :] + ROUTES[: round_no % 3]:  # rotated
                _route(stack, route)
                for case in _cases():
                    if round_no == 0 and settings.warmup:
                        _measure(stack, route, case, ctx, settings, settings.warmup)
                    result = _measure(stack, route, case, ctx, settings, settings.seconds)
                    runs.setdefault(f"{case.name} {route}", []).append(result)
                    print(
                        f"round {round_no + 1} {case.name:6} {route:8} "
                        f"{result['rps']:7.0f} req/s  non-2xx {result['not_2xx']}",
                        flush=True,
                    )
    finally:
        stack.stop()
        load.cleanup()
        shutil.rmtree(stack.run, ignore_errors=True)
    table = _table(runs, settings)
    print(table)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    settings.results_dir.mkdir(parents=True, exist_ok=True)
    out = settings.results_dir / f"{stamp}-stack"
    out.with_suffix(".json").write_text(json.dumps({"runs": runs, "cpus": os.cpu_count()}))
    out.with_suffix(".md").write_text(table + "\n")
    print(f"written to {out}.md and .json")
    return 0


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _table(runs: dict[str, list[dict]], settings: Settings) -> str:
    lines = [
        f"wrk -t{settings.threads} -c{settings.connections}, {settings.rounds} rounds of "
        f"{settings.seconds} s, medians; CPU in ms per request; {os.cpu_count()} cores, "
        # Other work on the machine shows in every figure: say how much there was.
        f"load average {os.getloadavg()[0]:.1f} at the end",
        "",
        "| case | route | req/s | p50 ms | p99 ms | app CPU | nginx CPU | PgBouncer CPU "
        "| non-2xx |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, group in runs.items():
        case, route = name.split(" ")
        lines.append(
            f"| {case} | {route} | {_median(group, 'rps'):.0f} "
            f"| {_median(group, 'p50_us') / 1000:.1f} | {_median(group, 'p99_us') / 1000:.1f} "
            f"| {_median(group, 'app_cpu_ms'):.2f} | {_median(group, 'nginx_cpu_ms'):.3f} "
            f"| {_median(group, 'pgbouncer_cpu_ms'):.3f} | {sum(r['not_2xx'] for r in group)} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
