"""Security headers on every response; the strict Content-Security-Policy on HTML."""

from __future__ import annotations

# No 'unsafe-inline' or 'unsafe-eval': htmx is configured (base.html) to need neither, and
# all behaviour lives in static/js/app.js. Tag colours use SVG fill attributes, not style=.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


# (lower-case name, header) for each kind of response, built once.
def _headers(html: bool, production: bool) -> tuple[tuple[str, tuple[str, str]], ...]:
    headers = dict(COMMON)
    if html:
        headers["Content-Security-Policy"] = CSP
        # Pages are per user: never let a shared cache keep them.
        headers["Cache-Control"] = "no-store"
    if production:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return tuple((name.lower(), (name, value)) for name, value in headers.items())


_BY_KIND = {(html, prod): _headers(html, prod) for html in (True, False) for prod in (True, False)}


def headers_for(html: bool, production: bool) -> tuple[tuple[str, tuple[str, str]], ...]:
    """The headers a response gets, as (lower-case name, (name, value)): every response
    gets each of them it does not have yet (a view's own Cache-Control stays), and
    Vary: HX-Request (app.htmx). Added by a framework seam, app/seams/wsgi_headers.py."""
    return _BY_KIND[html, production]
