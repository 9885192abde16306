"""The stylesheet gives each selector one rule: a second rule for the same selector is how two
components came to share `.filters` (the later one silently restyled the other)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CSS = ROOT / "static" / "css" / "app.css"


def rule_headers(css: str) -> list[tuple[tuple[str, ...], str]]:
    """(the at-rules around it, its selector list) for every style rule, in order. The
    selector list is normalised: whitespace collapsed, selectors sorted."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    headers, stack, start = [], [], 0
    for i, char in enumerate(css):
        if char == "{":
            header = " ".join(css[start:i].split())
            if not header.startswith("@") and not any(s.startswith("@keyframes") for s in stack):
                selectors = sorted(s.strip() for s in header.split(","))
                headers.append((tuple(stack), ", ".join(selectors)))
            stack.append(header)
            start = i + 1
        elif char == "}":
            stack.pop()
            start = i + 1
        elif char == ";" and (not stack or stack[-1].startswith("@")):
            start = i + 1  # an at-rule without a block, such as @import
    assert not stack, "unbalanced braces"
    return headers


def test_no_selector_heads_two_rules():
    counts = Counter(rule_headers(CSS.read_text()))
    twice = [
        f"{' '.join(context)} {selector}".strip()
        for (context, selector), n in counts.items()
        if n > 1
    ]
    assert twice == []


def test_the_check_sees_a_second_rule_inside_and_outside_media_queries():
    css = """
    .a { color: red; } /* .a { in a comment } */
    @media (max-width: 600px) { .b, .a { margin: 0; } }
    @keyframes spin { to { opacity: 1; } } @keyframes fade { to { opacity: 0; } }
    .a { display: grid; }
    @media (max-width: 600px) { .a,  .b { padding: 0; } }
    """
    counts = Counter(rule_headers(css))
    assert [key for key, n in counts.items() if n > 1] == [
        ((), ".a"),
        (("@media (max-width: 600px)",), ".a, .b"),
    ]


HEX_TOKEN = re.compile(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\s*;")


def colour_tokens(css: str) -> dict[str, dict[str, str]]:
    """The hex colour custom properties of :root, light and (overridden) dark."""
    light = re.search(r":root \{(.*?)\}", css, re.DOTALL).group(1)
    dark = re.search(r"prefers-color-scheme: dark\) \{\s*:root \{(.*?)\}", css, re.DOTALL).group(1)
    tokens = dict(HEX_TOKEN.findall(light))
    return {"light": tokens, "dark": tokens | dict(HEX_TOKEN.findall(dark))}


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# Text colour: the backgrounds it is drawn on. accent-soft is also a selected row's background,
# so every colour a row's text can take is checked on it (axe sees no row selected).
TEXT_ON = {
    "text": [
        "bg",
        "surface",
        "surface-2",
        "accent-soft",
        "danger-soft",
        "warning-soft",
        "success-soft",
    ],
    "muted": ["bg", "surface", "surface-2", "accent-soft", "danger-soft"],
    "accent": ["bg", "surface", "surface-2", "accent-soft"],
    "accent-text": ["accent"],
    "danger-text": ["danger"],
    "danger": ["bg", "surface", "accent-soft", "danger-soft"],
    "success": ["surface", "accent-soft", "success-soft"],
    "warning": ["surface", "accent-soft", "warning-soft"],
    "bg": ["text"],
}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_colours_keep_4_5_to_1_on_their_backgrounds(scheme):
    tokens = colour_tokens(CSS.read_text())[scheme]
    low = [
        f"{fg} on {bg}: {contrast(tokens[fg], tokens[bg]):.2f}"
        for fg, backgrounds in TEXT_ON.items()
        for bg in backgrounds
        if contrast(tokens[fg], tokens[bg]) < 4.5
    ]
    assert low == []


def test_contrast_matches_known_ratios():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48
