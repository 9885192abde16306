"""The stylesheet gives each selector one rule: a second rule for the same selector is how two
components came to share `.filters` (the later one silently restyled the other)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

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
