"""What a bench run does, read once from the environment (all optional).

BENCH_SECONDS      length of each measured wrk run (default 3; quick mode 1)
BENCH_ROUNDS       rounds; every case runs once per round, order rotated (default 5; quick 1)
BENCH_WARMUP       seconds of warm-up per case before round 1 (default 1; quick 0)
BENCH_QUICK=1      1 round of 1 s, no warm-up: the smoke test's mode
BENCH_DBS          which databases: "postgresql,sqlite" (default) or either one
BENCH_SIZE         "full" (the issue's data set, default) or "tiny" (smoke test)
BENCH_DATABASE_URL the PostgreSQL bench database (dropped and re-created for each seed)
BENCH_SQLITE_PATH  the SQLite bench file (default instance/bench.sqlite3)
BENCH_RESULTS_DIR  where <date>.json, <date>.md and <date>-sweep.png go (default bench/results)
BENCH_CONNECTIONS  wrk connections (default 8); BENCH_HALF_CONNECTIONS for the p99 case (1)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/tasklane_bench"
# Signs the bench's session cookies in every server; a bench database holds no real user.
SECRET_KEY = "tasklane-bench-secret-not-for-production"  # noqa: S105
USER_AGENT = "tasklane-bench/1"


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


@dataclass(frozen=True)
class Settings:
    seconds: int = 3
    rounds: int = 5
    warmup: int = 1
    quick: bool = False
    dbs: tuple[str, ...] = ("postgresql", "sqlite")
    size: str = "full"
    pg_url: str = DEFAULT_PG
    sqlite_path: Path = field(default_factory=lambda: ROOT / "instance" / "bench.sqlite3")
    results_dir: Path = field(default_factory=lambda: ROOT / "bench" / "results")
    connections: int = 8
    half_connections: int = 1
    threads: int = 2
    timeout: str = "10s"

    @classmethod
    def from_env(cls) -> Settings:
        quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
        dbs = tuple(
            d.strip()
            for d in os.environ.get("BENCH_DBS", "postgresql,sqlite").split(",")
            if d.strip()
        )
        unknown = set(dbs) - {"postgresql", "sqlite"}
        if unknown or not dbs:
            raise SystemExit(f"BENCH_DBS: unknown database {sorted(unknown)}")
        size = os.environ.get("BENCH_SIZE", "full")
        if size not in ("full", "tiny"):
            raise SystemExit("BENCH_SIZE must be full or tiny")
        sqlite_path = os.environ.get("BENCH_SQLITE_PATH", "")
        results_dir = os.environ.get("BENCH_RESULTS_DIR", "")
        return cls(
            seconds=_int("BENCH_SECONDS", 1 if quick else 3),
            rounds=_int("BENCH_ROUNDS", 1 if quick else 5),
            warmup=_int("BENCH_WARMUP", 0 if quick else 1),
            quick=quick,
            dbs=dbs,
            size=size,
            pg_url=os.environ.get("BENCH_DATABASE_URL", "").strip() or DEFAULT_PG,
            sqlite_path=Path(sqlite_path) if sqlite_path else ROOT / "instance" / "bench.sqlite3",
            results_dir=Path(results_dir) if results_dir else ROOT / "bench" / "results",
            connections=_int("BENCH_CONNECTIONS", 8),
            half_connections=_int("BENCH_HALF_CONNECTIONS", 1),
        )

    def database_url(self, db: str) -> str:
        """The SQLAlchemy URL of the bench database `db` ("postgresql" or "sqlite")."""
        if db == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        from app.config import normalise_database_url

        return normalise_database_url(self.pg_url)
