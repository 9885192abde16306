"""The one place that decides between a full page and an htmx fragment."""

from __future__ import annotations

from flask import render_template, request


def is_htmx() -> bool:
    """A real htmx swap: not a boosted navigation and not a history restore (those want pages)."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def render(page: str, fragment: str, status: int = 200, /, **context):
    """Render `fragment` for htmx, else `page` (which includes the same fragment)."""
    template = fragment if is_htmx() else page
    return render_template(template, **context), status


def add_vary(response):
    """Caches must key pages on HX-Request: the same URL answers a page or a fragment."""
    vary = response.headers.get("Vary")
    if not vary:
        response.headers["Vary"] = "HX-Request"
    elif "hx-request" not in vary.lower():
        response.headers["Vary"] = f"{vary}, HX-Request"
    return response
