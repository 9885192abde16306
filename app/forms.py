"""The base form every Tasklane form extends."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm

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
