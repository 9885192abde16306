"""Security headers on every response; the strict Content-Security-Policy on HTML."""

from __future__ import annotations

from app.htmx import vary_on_hx_request

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


class SecurityHeaders:
    """WSGI middleware: every response gets the headers above that it does not have yet (a
    view's own Cache-Control stays), and Vary: HX-Request.

    At the WSGI layer, on the plain list of header tuples the response is sent with: the
    same work through Flask's Headers (a lookup, a parse of the content type and a newline
    check per header) was 3% of a toggle's instructions (make bench-instructions). The
    values here are constants, so they need no check.
    """

    def __init__(self, wsgi_app, production: bool):
        self.wsgi_app = wsgi_app
        self.production = production

    def __call__(self, environ, start_response):
        production = self.production

        def start(status, headers, exc_info=None):
            present = set()
            html = False
            for name, value in headers:
                lower = name.lower()
                present.add(lower)
                if lower == "content-type":
                    html = value.startswith("text/html")
            for lower, header in _BY_KIND[html, production]:
                if lower not in present:
                    headers.append(header)
            vary_on_hx_request(headers)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)
