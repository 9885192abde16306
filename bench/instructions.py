"""Instructions per toggle and per list page, Tasklane and raw, and per shared-project page and
Today page (issue 16's pages, Tasklane only), counted by callgrind: figures that do not move.

On these shared machines CPU time per request swings by 2x between runs; the number of
instructions a request executes does not (the same count twice, whatever else the machine is
doing), so it shows what a change to the toggle saves, in seconds rather than in a 10-minute
`make bench`. It counts the server's Python process only (not PostgreSQL) and runs the
requests in-process through Flask's test client, so its ratio is close to, not the same as,
the bench's ratio by server CPU.

    python -m bench.instructions [postgresql|sqlite] [toggles]    (make bench-instructions)

Seeds the "tiny" data set into the bench database, then runs itself under
`valgrind --tool=callgrind` for each case (the htmx toggle, the list's first page) and each
server (Tasklane, raw), counting only the measured requests (callgrind_control switches
counting on after a warm-up). The list page is counted over a tenth as many requests: each is
about ten toggles' work. Then the pages of issue 16's goal, as `make bench`'s cases "shared"
(the project of 10 members, seen by an editor) and "today_20" (Today for the user in 20
projects), on Tasklane alone (raw has no such pages), over as many requests as the list, each
against Tasklane's list page: the goal is that neither costs more than the list by 10%.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote_plus

from bench.settings import Settings

WARMUP = 60
# The pages counted beside the list: case -> (the seed's user, path), as bench/cases.py has them.
PAGES = {
    "shared": ("member", "/projects/{shared_project}"),
    "today_20": ("p20", "/tasks/today"),
}
# More of the bench's pages, counted when named (`--pages`): on the full data set (`--full`)
# they show what search and the tag filter cost at 100,000 tasks, SQLite's work included.
MORE_PAGES = {
    "project_1": ("member", "/projects/{solo_project}"),
    "search": ("a", "/tasks?q={search_word}"),
    "tag_due": ("a", "/tasks?tag={tag}&sort=due"),
}


def _child(db: str, kind: str, case: str, requests: int, meta_path: str) -> None:
    """Runs under callgrind: warm up, count `requests` of `case`, stop counting."""
    from bench import cases

    settings = Settings.from_env()
    url = settings.database_url(db)
    ctx = cases.DbContext.create(db, url, json.loads(Path(meta_path).read_text()))
    ids = ctx.meta.get("toggle_ids", [])
    app = ctx.app if kind == "tasklane" else ctx.raw_app
    user, path = {**PAGES, **MORE_PAGES}.get(case, ("a", "/tasks"))
    client = ctx.client(app, user)
    headers = {"HX-Request": "true", "X-CSRFToken": ctx.csrf["a"]}
    ctx.reset_pools()

    def toggle(i: int):
        done = "1" if (i // len(ids)) % 2 == 0 else "0"
        return client.post(
            f"/tasks/{ids[i % len(ids)]}/toggle", headers=headers, data={"done": done}
        )

    values = {k: quote_plus(str(v)) for k, v in ctx.meta.items() if isinstance(v, str | int)}

    def page(_i: int):
        return client.get(path.format(**values))

    run = toggle if case == "toggle" else page

    def requests_from(start: int, count: int) -> None:
        for i in range(start, start + count):
            response = run(i)
            if response.status_code != 200:
                raise SystemExit(f"{kind} {case}: answered {response.status_code}")

    requests_from(0, WARMUP)
    import gc

    gc.collect()
    gc.freeze()  # as gunicorn.conf.py does in each worker
    control = [_tool("callgrind_control"), "-i"]
    subprocess.run([*control, "on", str(os.getpid())], check=True, capture_output=True)
    requests_from(WARMUP, requests)
    subprocess.run([*control, "off", str(os.getpid())], check=True, capture_output=True)
    ctx.reset_pools()
    ctx.close()


def _count(db: str, kind: str, case: str, requests: int, meta_path: str, out: Path) -> int:
    command = [
        _tool("valgrind"),
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out}",
        sys.executable,
        "-m",
        "bench.instructions",
        "--child",
        db,
        kind,
        case,
        str(requests),
        meta_path,
    ]
    # A fixed hash seed: dict and set layouts, and so the instruction count, repeat.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    subprocess.run(command, check=True, capture_output=True, env=env)
    totals = re.search(r"^totals: (\d+)", out.read_text(), re.MULTILINE)
    return int(totals.group(1)) // requests


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"bench: {name} is not installed (apt-get install valgrind)")
    return path


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        _child(argv[1], argv[2], argv[3], int(argv[4]), argv[5])
        return 0
    flags = [a for a in argv if a.startswith("--")]
    argv = [a for a in argv if not a.startswith("--")]
    db = argv[0] if argv else "postgresql"
    toggles = int(argv[1]) if len(argv) > 1 else 200
    chosen = [c for f in flags if f.startswith("--pages=") for c in f[8:].split(",") if c]
    unknown = set(chosen) - {"toggle", "list", *PAGES, *MORE_PAGES}
    if unknown:
        raise SystemExit(f"bench.instructions: unknown pages {sorted(unknown)}")
    url = Settings.from_env().database_url(db)
    with tempfile.TemporaryDirectory() as tmp:
        if "--reuse" in flags:  # the data an earlier `make bench-database-cpu ARGS=--seed` left
            from bench.database_cpu import meta_path

            meta_path = meta_path(url)
            if not meta_path.exists():
                raise SystemExit("no seed to reuse: make bench-database-cpu ARGS=--seed first")
        else:
            from bench.seed import seed

            meta_path = Path(tmp) / "meta.json"
            size = "full" if "--full" in flags else "tiny"
            meta_path.write_text(json.dumps(seed(url, size), default=str))
        pages = max(toggles // 10, 1)
        if chosen:  # Tasklane alone, each page against the list
            counted = {
                case: _count(db, "tasklane", case, pages, str(meta_path), Path(tmp) / "t.out")
                for case in dict.fromkeys(["list", *chosen])
            }
            for case, count in counted.items():
                print(
                    f"{db}: {case} {count:,} instructions per request; "
                    f"list / {case} = {counted['list'] / count:.2f}"
                )
            return 0
        counted = {}
        for case, requests in (("toggle", toggles), ("list", pages)):
            counts = {
                kind: _count(db, kind, case, requests, str(meta_path), Path(tmp) / f"{kind}.out")
                for kind in ("tasklane", "raw")
            }
            counted[case] = counts["tasklane"]
            ratio = counts["raw"] / counts["tasklane"]
            print(
                f"{db}: {case} {counts['tasklane']:,} instructions per request, "
                f"raw {case} {counts['raw']:,}; raw / Tasklane = {ratio:.2f}"
            )
        for case in PAGES:
            count = _count(db, "tasklane", case, pages, str(meta_path), Path(tmp) / f"{case}.out")
            print(
                f"{db}: {case} {count:,} instructions per request; "
                f"list / {case} = {counted['list'] / count:.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
