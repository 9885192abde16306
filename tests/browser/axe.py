"""axe-core, the accessibility checker (an npm dev dependency), run inside a page."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
needs_axe = pytest.mark.skipif(not AXE.exists(), reason="axe-core not installed (npm ci)")
# Only serious and critical findings fail a test; axe's minor and moderate ones are advice.
SERIOUS = """
async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
  .filter((v) => ["serious", "critical"].includes(v.impact))
  .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`)
"""


@functools.cache
def _source() -> str:
    return AXE.read_text()


def serious_violations(page) -> list[str]:
    """axe's serious and critical violations on the page as it is now, one line each. The
    script is evaluated through the browser's debugging protocol, so the CSP allows it."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_source())
    return page.evaluate(SERIOUS)
