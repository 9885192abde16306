"""`make bench`: seed, serve, probe, warm up, run interleaved rounds, report.

python -m bench.run          # settings from the environment: see bench/settings.py
"""

from __future__ import annotations

import os
import platform
import sys
import time
from datetime import UTC, datetime

from bench import cases as case_lib
from bench import load, report, servers
from bench.seed import seed
from bench.settings import SECRET_KEY, Settings


def tasklane_env(url: str) -> dict:
    """Tasklane's environment under the bench: production settings, except these knobs."""
    return {
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET_KEY,
        # A config knob (Config.LOG_LEVEL): the one request-log line per request is INFO, so
        # WARNING keeps log I/O out of the measurement (the log call and its level check stay).
        "LOG_LEVEL": "WARNING",
        # No benchmarked route is rate-limited (only sign-in and registration are); the limit
        # is raised anyway so that nothing the bench does can trip it.
        "AUTH_RATE_LIMIT": "100000/minute",
        "RATELIMIT_STORAGE_URI": "memory://",
        "TASKLANE_PRODUCTION": "0",  # plain HTTP on loopback: no Secure cookies
        # No benchmarked request queues a job; with the default SQLite queue gunicorn would
        # start the job consumer as a child, which the CPU figures would count as a worker.
        "QUEUE_URL": "immediate",
    }


def start_servers(settings: Settings, contexts) -> dict[str, servers.Server]:
    table = {"bare": servers.Server("bare", "bench.bare:app")}
    for ctx in contexts:
        table[f"tasklane-{ctx.db}"] = servers.Server(
            f"tasklane-{ctx.db}", "wsgi:app", tasklane_env(ctx.url)
        )
        table[f"raw-{ctx.db}"] = servers.Server(
            f"raw-{ctx.db}",
            "bench.raw:create_app()",
            {"RAW_DATABASE_URL": ctx.url, "SECRET_KEY": SECRET_KEY},
        )
    log_dir = settings.sqlite_path.parent / "bench-logs"  # instance/ unless told otherwise
    for server in table.values():
        server.start(log_dir)
    for server in table.values():
        server.wait_ready()
    return table


def measure(case, ctx, server, settings: Settings, seconds: int) -> dict:
    """One wrk run of `case` with server CPU read from /proc before and after."""
    if case.resets:
        ctx.reset_pools()
    spec = case_lib.wrk_load(case, ctx, server.base, settings, seconds)
    pids = server.workers()
    pg = ctx.pg_cpu if ctx else None
    pg_before = pg.snapshot() if pg else None
    before = servers.cpu_seconds(pids)
    result = load.run(spec)
    after = servers.cpu_seconds(pids)
    cpu = sum(after[p] - before[p] for p in pids if p in before and p in after)
    db_cpu = pg.used_since(pg_before) if pg else 0.0
    n = result["requests"]
    result["workers"] = len(pids)
    result["workers_lost"] = len([p for p in pids if p not in after])
    result["cpu_s"] = round(cpu, 3)
    result["db_cpu_s"] = round(db_cpu, 3)
    result["cpu_ms_per_request"] = cpu * 1000 / n if n else None
    result["db_cpu_ms_per_request"] = db_cpu * 1000 / n if n else None
    result["total_cpu_ms_per_request"] = (cpu + db_cpu) * 1000 / n if n else None
    result["connections"] = spec.connections
    return result


def main() -> int:
    settings = Settings.from_env()
    if not load.wrk_path():
        print("bench: wrk is not installed (apt-get install wrk; `make bench` does it)")
        return 2
    started = time.perf_counter()
    contexts = []
    for db in settings.dbs:
        url = settings.database_url(db)
        meta = seed(url, settings.size)
        contexts.append(case_lib.DbContext.create(db, url, meta))
    by_db = {ctx.db: ctx for ctx in contexts}
    table = {}
    try:
        table = start_servers(settings, contexts)
        all_cases = case_lib.build(settings, contexts)
        probes = {}
        for case in all_cases:
            probes[case.name] = case_lib.probe(case, by_db.get(case.db))
        print(f"bench: {len(all_cases)} cases, {settings.rounds} rounds of {settings.seconds} s")
        if settings.warmup:
            for case in all_cases:
                measure(case, by_db.get(case.db), table[case.server], settings, settings.warmup)
        by_name = {case.name: case for case in all_cases}
        beside = report.ceilings_beside([ctx.db for ctx in contexts])
        rounds = []
        for r in range(settings.rounds):
            shift = r % len(all_cases)
            order = all_cases[shift:] + all_cases[:shift]
            results = {}
            for case in order:
                # Each ceiling a goal compares this case with is measured again just before
                # it, so that the ratio's two runs are seconds apart, not a round apart.
                for name in beside.get(case.name, ()):
                    ceiling = by_name[name]
                    results[report.beside_key(name, case.name)] = measure(
                        ceiling,
                        by_db.get(ceiling.db),
                        table[ceiling.server],
                        settings,
                        settings.seconds,
                    )
                ctx = by_db.get(case.db)
                results[case.name] = measure(
                    case, ctx, table[case.server], settings, settings.seconds
                )
            rounds.append({"order": [c.name for c in order], "results": results})
            print(f"bench: round {r + 1}/{settings.rounds} done", flush=True)
        memory = resident_sizes(table)
    finally:
        for server in table.values():
            server.stop()
        for ctx in contexts:
            ctx.close()
        load.cleanup()
    data = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": _command(),
        "settings": {
            "seconds": settings.seconds,
            "rounds": settings.rounds,
            "warmup": settings.warmup,
            "dbs": list(settings.dbs),
            "size": settings.size,
            "connections": settings.connections,
            "half_connections": settings.half_connections,
            "wrk_threads": settings.threads,
            "timeout": settings.timeout,
            "gunicorn": "gunicorn.conf.py (gthread, 2 workers x 4 threads)",
        },
        "machine": {
            "cpus": _cpus(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        },
        "seeds": {
            ctx.db: {k: v for k, v in ctx.meta.items() if not k.endswith("_ids")}
            for ctx in contexts
        },
        "cases": {
            c.name: {
                "about": c.about,
                "db": c.db,
                "kind": c.kind,
                "method": c.method,
                "path": c.path if "after=" not in c.path else "/tasks?after=<cursor>",
                "user": c.user,
                "htmx": c.htmx,
                "connections": c.connections or settings.connections,
                **probes[c.name],
            }
            for c in all_cases
        },
        "rounds": rounds,
        "memory": memory,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    report.summarise(data)
    paths = report.write(data, settings.results_dir)
    print(report.markdown(data))
    for path in paths:
        print(f"bench: wrote {path}")
    return 0


def resident_sizes(table: dict[str, servers.Server]) -> dict[str, list[dict[str, float]]]:
    """Each Tasklane server's workers' resident size and its parts in MB after the run (issue
    19: each at most 150 MB), read while they still run."""
    return {
        name: [
            {key: round(mb, 1) for key, mb in sizes.items()}
            for pid in server.workers()
            if (sizes := servers.memory_mb(pid))
        ]
        for name, server in table.items()
        if name.startswith("tasklane-")
    }


def _command() -> str:
    """`make bench` with the BENCH_* settings it ran under."""
    knobs = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("BENCH_"))
    return f"{knobs} make bench".strip()


def _cpus() -> int:
    return os.cpu_count() or 0


if __name__ == "__main__":
    raise SystemExit(main())
