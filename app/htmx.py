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


def trigger(response, event: str):
    """Have htmx fire `event` on the page's body when `response` arrives (the HX-Trigger
    header, which takes several events separated by commas); returns `response`."""
    existing = response.headers.get("HX-Trigger")
    response.headers["HX-Trigger"] = f"{existing}, {event}" if existing else event
    return response


def vary_on_hx_request(headers: list[tuple[str, str]]) -> None:
    """Caches must key pages on HX-Request: the same URL answers a page or a fragment.

    On the response's WSGI header list (see app/seams/wsgi_headers.py), merged into
    the Vary header the response already has (Flask's Cookie, say)."""
    for i, (name, value) in enumerate(headers):
        if name.lower() == "vary":
            if "hx-request" not in value.lower():
                headers[i] = (name, f"{value}, HX-Request")
            return
    headers.append(("Vary", "HX-Request"))
