"""The colours Tasklane picks for new tags, and the stylesheet's class for each.

Standalone (no app imports): bench/raw.py loads it by path to render the same rows.
A tag chip of a palette colour carries the class (`.tag-c0`...`.tag-c8` in static/css/app.css
draw its dot); a colour picked by hand keeps an SVG dot, since the CSP refuses inline styles.
The chips themselves are made here (chips_maker), for every page that shows them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache

from markupsafe import Markup

PALETTE = ("#4f46e5", "#0891b2", "#059669", "#ca8a04", "#ea580c", "#dc2626", "#db2777", "#7c3aed")

# A new project's colour (not one offered for tags): a class too, `.tag-c8`, as most projects
# keep it and each of a view's rows shows its project's dot.
DEFAULT_COLOUR = "#6b7280"

PALETTE_CLASS = {colour: f"tag-c{i}" for i, colour in enumerate((*PALETTE, DEFAULT_COLOUR))}


@lru_cache(maxsize=4096)
def _chip(url: str, name: str, colour: str) -> Markup:
    # Keyed by the link too, so a different application root makes its own chip.
    css = PALETTE_CLASS.get(colour)
    if css:
        return Markup('<a class="chip {}" href="{}">{}</a>').format(css, url, name)
    return Markup(
        '<a class="chip" href="{}"><svg class="chip-dot" aria-hidden="true" width="8" height="8"'
        ' viewBox="0 0 8 8"><circle cx="4" cy="4" r="4" fill="{}"/></svg>{}</a>'
    ).format(url, colour, name)


def chips_maker(tag_url: Callable[[str], str]) -> Callable[[Iterable], Markup]:
    """The template global `chips(tags)`: tag chips linking to the list filtered by each tag
    (`tag_url(name)`), each tag a `name` and a `colour`. Python rather than a Jinja loop: a
    page of 50 rows shows ~150 chips, of a few dozen tags, so each chip is made once and
    then looked up, where the loop cost a dict call, a URL call and three escapes a chip."""

    def chips(tags: Iterable) -> Markup:
        # Each chip is Markup already (its name and link escaped as it was made): a str join,
        # as Markup.join would escape and copy each again.
        return Markup("".join([_chip(tag_url(tag.name), tag.name, tag.colour) for tag in tags]))  # noqa: S704

    return chips
