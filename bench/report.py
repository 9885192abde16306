"""Summaries, the goals (issues 8, 16 and 19), and the result files (JSON, markdown, the
sweep chart).

Every figure is a median over rounds with its range beside it. Ratios are taken within a
round and are "speed" ratios, higher is better: by req/s case ÷ ceiling, by server CPU per
request ceiling ÷ case. For a goal's ratio the ceiling is measured again just before the case,
back to back (`ceilings_beside`): this machine's speed drifts by up to half over a minute
(the same Python loop took 206-331 ms of CPU in eight runs in a row, 2026-12-04), and a
round's own run of the ceiling may be a minute away from the case's.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

METRICS = (
    "rps",
    "p50_ms",
    "p99_ms",
    "cpu_ms_per_request",
    "db_cpu_ms_per_request",
    "total_cpu_ms_per_request",
    "bytes_per_request",
)
# "Within 1.5 times the list" (issue 19) as a speed ratio: list / case >= 1 / 1.5, rounded.
WITHIN_1_5 = 0.67
ROW_BYTES = 1_000  # issue 19: a list row's average size on the bench's data, at most
WORKER_MB = 150  # issue 19: each Tasklane worker's resident size after the run, at most


def _stats(values: list[float]) -> dict | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _per_round(data: dict, name: str, key: str) -> list:
    out = []
    for rnd in data["rounds"]:
        result = rnd["results"].get(name)
        if result is None:
            continue
        if key == "p50_ms":
            out.append(result["p50_us"] / 1000)
        elif key == "p99_ms":
            out.append(result["p99_us"] / 1000)
        else:
            out.append(result.get(key))
    return out


# The ratios the goals judge (per database: "<db>: " before each); _goals names the same
# (tests/test_bench_report.py holds the two lists together).
_GOAL_RATIOS = (
    "list / raw page",
    "toggle / raw toggle",
    "deep page / first page at 1k",
    "first page at 100k / at 1k",
    "shared project / list",
    "Today in 20 projects / list",
    "admin users / list",
    "admin users by tasks / list",
    "search / list",
    "tag filter by due / list",
)


def _goal_ratios(dbs: list[str]) -> set[str]:
    return {f"{d}: {ratio}" for d in dbs for ratio in _GOAL_RATIOS}


def beside_key(ceiling: str, case: str) -> str:
    """Where a round keeps the run of `ceiling` measured just before `case`."""
    return f"{ceiling}@{case}"


def ceilings_beside(dbs: list[str]) -> dict[str, list[str]]:
    """case -> the ceilings measured again just before it: those of its goals' ratios
    (`_goal_ratios`) that compare two pages of one database."""
    beside: dict[str, list[str]] = {}
    for label, case, ceiling in _ratio_defs(dbs):
        if label in _goal_ratios(dbs) and case.split(":")[0] == ceiling.split(":")[0]:
            beside.setdefault(case, []).append(ceiling)
    return beside


def _ratio_rounds(data: dict, case: str, ceiling: str) -> tuple[list, list, list]:
    by_rps, by_cpu, by_total = [], [], []
    for rnd in data["rounds"]:
        a = rnd["results"].get(case)
        b = rnd["results"].get(beside_key(ceiling, case)) or rnd["results"].get(ceiling)
        if not a or not b:
            continue
        if b["rps"]:
            by_rps.append(a["rps"] / b["rps"])
        if a["cpu_ms_per_request"] and b["cpu_ms_per_request"]:
            by_cpu.append(b["cpu_ms_per_request"] / a["cpu_ms_per_request"])
        if a.get("total_cpu_ms_per_request") and b.get("total_cpu_ms_per_request"):
            by_total.append(b["total_cpu_ms_per_request"] / a["total_cpu_ms_per_request"])
    return by_rps, by_cpu, by_total


def _ratio_defs(dbs: list[str]) -> list[tuple[str, str, str]]:
    defs = []
    for d in dbs:
        defs += [
            (f"{d}: list / raw page", f"{d}:list", f"{d}:raw_page"),
            (f"{d}: list / bare", f"{d}:list", "bare"),
            (f"{d}: raw page / bare", f"{d}:raw_page", "bare"),
            (f"{d}: toggle / raw toggle", f"{d}:toggle", f"{d}:raw_toggle"),
            (f"{d}: deep page / first page at 1k", f"{d}:deep", f"{d}:sweep_1k"),
            (f"{d}: first page at 100k / at 1k", f"{d}:list", f"{d}:sweep_1k"),
            (f"{d}: first page at 10k / at 1k", f"{d}:sweep_10k", f"{d}:sweep_1k"),
            (f"{d}: shared project / list", f"{d}:shared", f"{d}:list"),
            (f"{d}: Today in 20 projects / list", f"{d}:today_20", f"{d}:list"),
            (f"{d}: admin users / list", f"{d}:admin_users", f"{d}:list"),
            (f"{d}: admin users by tasks / list", f"{d}:admin_by_tasks", f"{d}:list"),
            (f"{d}: search / list", f"{d}:search", f"{d}:list"),
            (f"{d}: tag filter by due / list", f"{d}:tag_due", f"{d}:list"),
        ]
    if "pg" in dbs and "sqlite" in dbs:
        defs.append(("sqlite list / pg list", "sqlite:list", "pg:list"))
    return defs


def summarise(data: dict) -> None:
    """Add data["summary"]: per-case stats, per-round ratios, and the goals."""
    dbs = sorted({c["db"] for c in data["cases"].values() if c["db"]}, key=["pg", "sqlite"].index)
    cases = {}
    for name in data["cases"]:
        entry = {m: _stats(_per_round(data, name, m)) for m in METRICS}
        entry["requests"] = sum(_per_round(data, name, "requests"))
        entry["not_2xx"] = sum(_per_round(data, name, "not_2xx"))
        entry["errors"] = sum(_per_round(data, name, "errors"))
        entry["workers_lost"] = sum(_per_round(data, name, "workers_lost"))
        cases[name] = entry
    ratios = {}
    for label, case, ceiling in _ratio_defs(dbs):
        by_rps, by_cpu, by_total = _ratio_rounds(data, case, ceiling)
        ratios[label] = {
            "case": case,
            "ceiling": ceiling,
            "rps_rounds": by_rps,
            "cpu_rounds": by_cpu,
            "total_cpu_rounds": by_total,
            "rps": _stats(by_rps),
            "cpu": _stats(by_cpu),
            "total_cpu": _stats(by_total),
        }
    half = next((n for n in data["cases"] if n.endswith(":list_half")), None)
    tail, share = [], []
    if half:
        full = half.replace(":list_half", ":list")
        for r in data["rounds"]:
            result = r["results"].get(half)
            if result and result["p50_us"]:
                tail.append(result["p99_us"] / result["p50_us"])
            if result and r["results"].get(full, {}).get("rps"):
                share.append(result["rps"] / r["results"][full]["rps"])
    data["summary"] = {
        "cases": cases,
        "ratios": ratios,
        "p99_over_p50_half_load": {
            "case": half,
            "rounds": tail,
            "stats": _stats(tail),
            "load_vs_list_rounds": share,
            "load_vs_list": _stats(share),
        },
    }
    data["summary"]["goals"] = _goals(data, dbs)


def _verdict(value: float | None, target: float, at_least: bool) -> str:
    if value is None:
        return "n/a"
    ok = value >= target if at_least else value <= target
    return "pass" if ok else "FAIL"


def _goals(data: dict, dbs: list[str]) -> list[dict]:
    s, cases = data["summary"], data["cases"]
    goals = []

    def ratio_goal(goal: str, label: str, target: float):
        r = s["ratios"].get(label)
        if not r:
            return
        rps, cpu = r["rps"], r["total_cpu"]
        goals.append(
            {
                "goal": goal,
                "ratio": label,  # ceilings_beside runs its ceiling beside its case
                "target": f"≥ {target}",
                "rps": rps,
                "rps_verdict": _verdict(rps and rps["median"], target, True),
                "cpu": cpu,
                "cpu_verdict": _verdict(cpu and cpu["median"], target, True),
            }
        )

    for d in dbs:
        name = {"pg": "PostgreSQL", "sqlite": "SQLite"}[d]
        ratio_goal(f"List ≥ 0.6 × raw page ({name})", f"{d}: list / raw page", 0.6)
        ratio_goal(f"Toggle ≥ 0.6 × raw toggle ({name})", f"{d}: toggle / raw toggle", 0.6)
        ratio_goal(
            f"Deep page within 10% of first page at 1k ({name})",
            f"{d}: deep page / first page at 1k",
            0.9,
        )
        ratio_goal(
            f"100k first page within 10% of first page at 1k ({name})",
            f"{d}: first page at 100k / at 1k",
            0.9,
        )
        ratio_goal(
            f"A shared project's page within 10% of the list ({name})",
            f"{d}: shared project / list",
            0.9,
        )
        ratio_goal(
            f"Today in 20 projects within 10% of the list ({name})",
            f"{d}: Today in 20 projects / list",
            0.9,
        )
        for what, label in (
            ("/admin/users", "admin users"),
            ("/admin/users by most tasks", "admin users by tasks"),
            ("?q= search", "search"),
            ("Tag filter sorted by due", "tag filter by due"),
        ):
            ratio = f"{d}: {label} / list"
            ratio_goal(f"{what} within 1.5× of the list ({name})", ratio, WITHIN_1_5)
        goals.append(_row_bytes_goal(cases, d, name))
        goals.append(_memory_goal(data.get("memory", {}).get(f"tasklane-{d}"), name))
        toggle, page = cases[f"{d}:toggle"]["body_bytes"], cases[f"{d}:list"]["body_bytes"]
        share = toggle / page
        goals.append(
            {
                "goal": f"Toggle bytes ≤ 2% of the full page ({name})",
                "target": "≤ 2%",
                "value": f"{share:.2%} ({toggle:,} of {page:,} B)",
                "verdict": _verdict(share, 0.02, False),
            }
        )
        counts = {
            n: cases[f"{d}:{n}"]["queries"]
            for n in ("list", "sweep_1k", "sweep_10k", "limit_10", "limit_200")
        }
        # Issue 8 set 4; issue 16 added the navigation's open-task counts (one grouped query).
        constant = len(set(counts.values())) == 1 and counts["list"] <= 5
        goals.append(
            {
                "goal": f"List queries ≤ 5, same at every data and page size ({name})",
                "target": "≤ 5, constant",
                "value": ", ".join(f"{k} {v}" for k, v in counts.items()),
                "verdict": "pass" if constant else "FAIL",
            }
        )
        for goal, small, large in (
            ("A project's page: the same queries with 1 and 10 members", "project_1", "shared"),
            ("Today: the same queries in 1 and 20 projects", "today_1", "today_20"),
        ):
            counts = {n: cases[f"{d}:{n}"]["queries"] for n in (small, large)}
            goals.append(
                {
                    "goal": f"{goal} ({name})",
                    "target": "constant",
                    "value": ", ".join(f"{k} {v}" for k, v in counts.items()),
                    "verdict": "pass" if len(set(counts.values())) == 1 else "FAIL",
                }
            )
    tail = s["p99_over_p50_half_load"]
    if tail["stats"]:
        goals.append(
            {
                "goal": f"p99 ≤ 3 × p50 at about half load ({tail['case']})",
                "target": "≤ 3",
                "value": _fmt_stats(tail["stats"], "{:.2f}")
                + f" at {_fmt_stats(tail['load_vs_list'], '{:.2f}')} × the 8-connection req/s",
                "verdict": _verdict(tail["stats"]["median"], 3, False),
            }
        )
    ratio_goal("SQLite ≥ PostgreSQL for a single user's list", "sqlite list / pg list", 1.0)
    return goals


def _row_bytes_goal(cases: dict, d: str, name: str) -> dict:
    """A list row's average bytes: the difference between the full pages of 200 and of 10
    rows over the difference in rows, so the page around the rows cancels out."""
    goal = {"goal": f"A list row averages ≤ {ROW_BYTES:,} bytes ({name})"}
    goal["target"] = f"≤ {ROW_BYTES:,} B"
    small, large = cases.get(f"{d}:limit_10", {}), cases.get(f"{d}:limit_200", {})
    rows = large.get("rows", 0) - small.get("rows", 0)
    if rows <= 0:  # a results file from before the probes counted rows
        return {**goal, "value": "n/a", "verdict": "n/a"}
    average = (large["body_bytes"] - small["body_bytes"]) / rows
    value = f"{average:,.0f} B ({large['rows']} and {small['rows']} rows a page)"
    return {**goal, "value": value, "verdict": _verdict(average, ROW_BYTES, False)}


def _memory_goal(sizes: list | None, name: str) -> dict:
    """Judged by each worker's own memory (RssAnon): its VmRSS also counts the file pages it
    maps, and a SQLite worker maps the database file (PRAGMA mmap_size, app/database.py), pages
    the kernel's cache holds for every process whether they are read by mmap or by read(). Both
    figures are shown. Results from before the bench read the parts hold VmRSS alone."""
    goal = {"goal": f"Each Tasklane worker's resident size after the run ≤ {WORKER_MB} MB ({name})"}
    goal["target"] = f"≤ {WORKER_MB} MB own (RssAnon)"
    if not sizes:  # a results file from before the bench read them
        return {**goal, "value": "n/a", "verdict": "n/a"}
    if not isinstance(sizes[0], dict):
        value = ", ".join(f"{mb:.0f}" for mb in sizes) + " MB (VmRSS)"
        return {**goal, "value": value, "verdict": _verdict(max(sizes), WORKER_MB, False)}
    own = [s["anon"] for s in sizes]
    value = (
        ", ".join(f"{mb:.0f}" for mb in own)
        + " MB own (RssAnon); VmRSS "
        + ", ".join(f"{s['rss']:.0f}" for s in sizes)
        + " MB with mapped files"
    )
    return {**goal, "value": value, "verdict": _verdict(max(own), WORKER_MB, False)}


# ---- output -------------------------------------------------------------------------------


def _fmt_stats(st: dict | None, fmt: str = "{:.2f}") -> str:
    if not st:
        return "n/a"
    return f"{fmt.format(st['median'])} ({fmt.format(st['min'])}–{fmt.format(st['max'])})"


def markdown(data: dict) -> str:
    s, st = data["summary"], data["settings"]
    lines = [
        f"## Tasklane bench, {data['date']}",
        "",
        f"`{data['command']}`: {st['rounds']} rounds × {st['seconds']} s per case "
        f"(+{st['warmup']} s warm-up), wrk {st['wrk_threads']} threads × {st['connections']} "
        f"connections, data size {st['size']}, {data['machine']['cpus']} CPUs; servers: "
        f"{st['gunicorn']}. Medians over rounds, range in brackets.",
        "",
        "### Goals (issues 8, 16 and 19)",
        "",
        "| Goal | Target | Measured (req/s) | Verdict | Measured (CPU/request: server + "
        "PostgreSQL) | Verdict |",
        "|---|---|---|---|---|---|",
    ]
    for g in s["goals"]:
        if "rps" in g:
            lines.append(
                f"| {g['goal']} | {g['target']} | {_fmt_stats(g['rps'])} | {g['rps_verdict']} "
                f"| {_fmt_stats(g['cpu'])} | {g['cpu_verdict']} |"
            )
        else:
            lines.append(f"| {g['goal']} | {g['target']} | {g['value']} | {g['verdict']} | | |")
    lines += [
        "",
        "### Ratios within a round (higher is faster)",
        "",
        "| Ratio | by req/s | by server CPU per request | by server + PostgreSQL CPU |",
        "|---|---|---|---|",
    ]
    for label, r in s["ratios"].items():
        lines.append(
            f"| {label} | {_fmt_stats(r['rps'])} | {_fmt_stats(r['cpu'])} "
            f"| {_fmt_stats(r['total_cpu'])} |"
        )
    lines += [
        "",
        "### Cases",
        "",
        "| Case | What | req/s | p50 ms | p99 ms | server CPU ms/req | PostgreSQL CPU ms/req "
        "| bytes/response | body bytes | SQL queries | non-2xx | socket errors | worker crashes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, c in data["cases"].items():
        m = s["cases"][name]
        lines.append(
            f"| {name} | {c['about']} | {_fmt_stats(m['rps'], '{:.0f}')} "
            f"| {_fmt_stats(m['p50_ms'], '{:.1f}')} | {_fmt_stats(m['p99_ms'], '{:.1f}')} "
            f"| {_fmt_stats(m['cpu_ms_per_request'], '{:.2f}')} "
            f"| {_fmt_stats(m['db_cpu_ms_per_request'], '{:.2f}') if c['db'] == 'pg' else ''} "
            f"| {m['bytes_per_request']['median']:,.0f} | {c['body_bytes']:,} | {c['queries']} "
            f"| {m['not_2xx']} | {m['errors']} | {m['workers_lost']} |"
        )
    crashed = [n for n, m in s["cases"].items() if m["workers_lost"] or m["errors"]]
    if crashed:
        lines += [
            "",
            f"**Warning:** socket errors or worker crashes in {', '.join(crashed)}: see the "
            "gunicorn logs (instance/bench-logs/, with faulthandler stacks) and the JSON.",
        ]
    return "\n".join(lines) + "\n"


def write(data: dict, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / data["date"]
    json_path, md_path = stem.with_suffix(".json"), stem.with_suffix(".md")
    json_path.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    md_path.write_text(markdown(data))
    paths = [json_path, md_path]
    chart = chart_sweep(data, directory / f"{data['date']}-sweep.png")
    if chart:
        paths.append(chart)
    return paths


# The chart's panels: (x axis, x values, {series: the cases measured at those values}).
SWEEPS = [
    (
        "tasks of the user (page of 50)",
        [1_000, 10_000, 100_000],
        {
            "list": ["sweep_1k", "sweep_10k", "list"],
            "search": ["search_1k", "search_10k", "search"],
        },
    ),
    (
        "page size (user with 100k tasks)",
        [10, 50, 200],
        {"list": ["limit_10", "list", "limit_200"]},
    ),
]


def sweep_series(data: dict, metric: str) -> list[tuple[str, list[int], dict]]:
    """The chart's panels as numbers: per panel its x axis, x values and {"<db> <series>":
    [(median, min, max) per x value]}, for `metric` of the summary's cases. A series whose
    cases a run did not have (results from before the search sweep) is left out."""
    s = data["summary"]["cases"]
    dbs = sorted({c["db"] for c in data["cases"].values() if c["db"]})
    panels = []
    for xlabel, xs, series in SWEEPS:
        if data["settings"]["size"] != "full" and xs[-1] == 100_000:
            xlabel += " [tiny data]"
        lines = {}
        for d in dbs:
            for name, cases in series.items():
                if all(f"{d}:{n}" in s for n in cases):
                    stats = [s[f"{d}:{n}"][metric] for n in cases]
                    lines[f"{d} {name}"] = [(x["median"], x["min"], x["max"]) for x in stats]
        panels.append((xlabel, xs, lines))
    return panels


def chart_sweep(data: dict, path: Path) -> Path | None:
    """Req/s and CPU per request of the list and the search against data size, and of the
    list against page size, per database."""
    try:
        import matplotlib
    except ImportError:
        print("bench: matplotlib is not installed; no chart (make bench installs it)")
        return None
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    metrics = (
        ("rps", "requests/s"),
        ("total_cpu_ms_per_request", "CPU ms / request (server + PostgreSQL)"),
    )
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), constrained_layout=True)
    for row, (metric, ylabel) in enumerate(metrics):
        for col, (xlabel, xs, lines) in enumerate(sweep_series(data, metric)):
            ax = axes[row][col]
            for label, points in lines.items():
                med = [m for m, _, _ in points]
                low = [m - lo for m, lo, _ in points]
                high = [hi - m for m, _, hi in points]
                style = "--" if label.endswith("search") else "-"
                marker = "s" if label.endswith("search") else "o"
                ax.errorbar(
                    xs,
                    med,
                    yerr=[low, high],
                    marker=marker,
                    linestyle=style,
                    capsize=4,
                    label=label,
                )
            ax.set_xscale("log")
            ax.set_xticks(xs, [f"{x:,}" for x in xs])
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
            ax.set_ylim(bottom=0)
            ax.grid(alpha=0.3)
            ax.legend()
    fig.suptitle(f"Tasklane list and search: scale sweep, {data['date']} (median, bars = range)")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


if __name__ == "__main__":
    # Re-draw the markdown and chart of a results file: python -m bench.report <date>.json
    import sys

    source = Path(sys.argv[1])
    loaded = json.loads(source.read_text())
    summarise(loaded)
    source.with_suffix(".md").write_text(markdown(loaded))
    chart_sweep(loaded, source.with_name(f"{loaded['date']}-sweep.png"))
