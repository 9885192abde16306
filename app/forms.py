"""The base form every Tasklane form extends, and the CSRF token templates put in forms."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf

# NUL and other C0 controls (tab, newline and carriage return are fine in notes): PostgreSQL
# refuses NUL outright, and none of them belong in a title, a name or an email.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_MESSAGE = "Contains control characters that are not allowed."


def has_control_chars(text: str) -> bool:
    return bool(_CONTROL.search(text))


class BaseForm(FlaskForm):
    """Rejects control characters in every text field before the field validators run."""

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in self:
            if isinstance(field.data, str) and has_control_chars(field.data):
                field.errors = [*field.errors, CONTROL_MESSAGE]
                ok = False
        return ok


def csrf_token_per_render() -> dict:
    """Context processor: `csrf_token()` in a template asks flask-wtf once per render.

    flask-wtf keeps the token for the request, but each `generate_csrf()` call still reads
    config, session and g through Flask's proxies, and a list page calls it twice per row:
    that was 7% of the page's instructions (make bench-instructions' count for the list).
    Lazily, so a page without forms makes no token (and no session cookie for it).
    Templates imported without context (macros) keep flask-wtf's own global.
    """
    token = None

    def csrf_token() -> str:
        nonlocal token
        if token is None:
            token = generate_csrf()
        return token

    return {"csrf_token": csrf_token}
