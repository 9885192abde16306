"""The colours Tasklane picks for new tags, and how any colour's dot is drawn.

Standalone (no app imports): bench/raw.py loads it by path to render the same rows.
One rule for every dot (a tag's chip, a row's project, the project list): a palette colour
is a class (`.tag-c0`...`.tag-c8`; static/css/app.css draws the dot), any other colour an
SVG dot, since the CSP refuses inline styles (dot()). The tag chips are made here
(chips_maker), for every page that shows them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import NamedTuple

from markupsafe import Markup

PALETTE = ("#4f46e5", "#0891b2", "#059669", "#ca8a04", "#ea580c", "#dc2626", "#db2777", "#7c3aed")

# A new project's colour (not one offered for tags): a class too, `.tag-c8`, as most projects
# keep it and each of a view's rows shows its project's dot.
DEFAULT_COLOUR = "#6b7280"

PALETTE_CLASS = {colour: f"tag-c{i}" for i, colour in enumerate((*PALETTE, DEFAULT_COLOUR))}


class Dot(NamedTuple):
    css: str  # the palette colour's class, or ""
    svg: Markup  # another colour's SVG dot, or ""


@lru_cache(maxsize=1024)
def svg_dot(colour: str, size: int) -> Markup:
    """A dot of `colour`, `size` pixels wide, drawn whatever the colour (a page's heading)."""
    return Markup(
        '<svg class="chip-dot" aria-hidden="true" width="{0}" height="{0}" viewBox="0 0 {0} {0}">'
        '<circle cx="{1}" cy="{1}" r="{1}" fill="{2}"/></svg>'
    ).format(size, size // 2, colour)


@lru_cache(maxsize=1024)
def dot(colour: str, size: int) -> Dot:
    """How a link's dot of `colour` is drawn: the palette colour's class for the link, or
    an SVG dot to put in it."""
    css = PALETTE_CLASS.get(colour)
    return Dot(css, Markup("")) if css else Dot("", svg_dot(colour, size))


@lru_cache(maxsize=4096)
def _chip(url: str, name: str, colour: str) -> Markup:
    # Keyed by the link too, so a different application root makes its own chip.
    css, svg = dot(colour, 8)
    return Markup('<a class="{}" href="{}">{}{}</a>').format(
        f"chip {css}" if css else "chip", url, svg, name
    )


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
