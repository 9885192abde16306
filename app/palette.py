"""The colours Tasklane picks for new tags, and the stylesheet's class for each.

Standalone (no app imports): bench/raw.py loads it by path to render the same rows.
A tag chip of a palette colour carries the class (`.tag-c0`...`.tag-c7` in static/css/app.css
draw its dot); a colour picked by hand keeps an SVG dot, since the CSP refuses inline styles.
"""

from __future__ import annotations

PALETTE = ("#4f46e5", "#0891b2", "#059669", "#ca8a04", "#ea580c", "#dc2626", "#db2777", "#7c3aed")

PALETTE_CLASS = {colour: f"tag-c{i}" for i, colour in enumerate(PALETTE)}
