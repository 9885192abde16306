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


def add_security_headers(response, production: bool):
    for name, value in COMMON.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CSP)
        # Pages are per user: never let a shared cache keep them.
        response.headers.setdefault("Cache-Control", "no-store")
    if production:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response
