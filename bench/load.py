"""Drive one server with wrk for a fixed time and read back exact totals.

Each run is a separate wrk process on loopback: 2 threads, N connections, `--latency`, and a
timeout long enough (10 s) that slow requests are counted, not dropped. The case's Lua script
(bench/lua/) is joined with report.lua, whose done() prints requests, bytes, non-2xx count
and latency percentiles as one JSON line.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"
_scripts: dict[str, Path] = {}


def wrk_path() -> str | None:
    return shutil.which("wrk")


def script(name: str) -> Path:
    """bench/lua/<name>.lua followed by report.lua, written once to a temporary file."""
    if name not in _scripts:
        text = (LUA / f"{name}.lua").read_text() + "\n" + (LUA / "report.lua").read_text()
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (kept for the whole run)
            "w", suffix=f"-{name}.lua", prefix="tasklane-bench-", delete=False
        )
        handle.write(text)
        handle.close()
        _scripts[name] = Path(handle.name)
    return _scripts[name]


def cleanup() -> None:
    for path in _scripts.values():
        path.unlink(missing_ok=True)
    _scripts.clear()


@dataclass
class Load:
    url: str
    seconds: int
    connections: int
    threads: int = 2
    timeout: str = "10s"
    headers: dict | None = None
    lua: str = "get"
    args: tuple[str, ...] = ()


def run(load: Load) -> dict:
    """Run wrk once; return its totals plus req/s, and the command line (without secrets)."""
    command = [
        wrk_path() or "wrk",
        f"-t{min(load.threads, load.connections)}",
        f"-c{load.connections}",
        f"-d{load.seconds}s",
        "--latency",
        "--timeout",
        load.timeout,
        "-s",
        str(script(load.lua)),
    ]
    for name, value in (load.headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    command.append(load.url)
    if load.args:
        command += ["--", *load.args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=load.seconds + 60)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH-JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = json.loads(line.removeprefix("BENCH-JSON "))
    seconds = result["duration_us"] / 1e6
    result["rps"] = result["requests"] / seconds if seconds else 0.0
    result["bytes_per_request"] = result["bytes"] / result["requests"] if result["requests"] else 0
    result["errors"] = sum(
        result[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    return result
