"""Figures measured by the security and reliability tests, printed at the end of the run and
written to tests/artifacts/security-figures.json (docs/SECURITY.md quotes them)."""

from __future__ import annotations

import json
from pathlib import Path

FIGURES: dict[str, object] = {}
OUTPUT = Path(__file__).resolve().parent / "artifacts" / "security-figures.json"


def record(name: str, value) -> None:
    FIGURES[name] = value


def add(name: str, amount: int) -> None:
    FIGURES[name] = int(FIGURES.get(name, 0)) + amount


def write() -> str | None:
    if not FIGURES:
        return None
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(json.dumps(FIGURES, indent=2, sort_keys=True) + "\n")
    return json.dumps(FIGURES, indent=2, sort_keys=True)
