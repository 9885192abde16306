"""The base form every Tasklane form extends, and the filters, fields and parsers that
several features' forms share."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from wtforms import ColorField, HiddenField, IntegerField, PasswordField, SelectMultipleField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError
from wtforms.widgets import NumberInput

from app.passwords import MAX_LENGTH, policy_error
from app.url_converters import MAX_ID

# NUL and other C0 controls (tab, newline and carriage return are fine in notes): PostgreSQL
# refuses NUL outright, and none of them belong in a title, a name or an email.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_MESSAGE = "Contains control characters that are not allowed."


def has_control_chars(text: str) -> bool:
    return bool(_CONTROL.search(text))


def strip(value):
    return value.strip() if isinstance(value, str) else value


def normalise_email(raw: str) -> str:
    """The one spelling of an address we store and compare: trimmed and lower-cased."""
    return raw.strip().lower()


class EmailAddress:
    """Syntax check with email-validator (no DNS lookups: the server may have no resolver);
    leaves the address normalised, as users.email and invitations.email store it."""

    def __call__(self, form, field):
        try:
            result = validate_email(field.data or "", check_deliverability=False)
        except EmailNotValidError as exc:
            raise ValidationError(str(exc)) from None
        field.data = normalise_email(result.normalized)


class StrongPassword:
    def __call__(self, form, field):
        problem = policy_error(field.data or "")
        if problem:
            raise ValidationError(problem)


def new_password_field(label: str = "Password") -> PasswordField:
    return PasswordField(label, validators=[DataRequired(), StrongPassword()])


def confirm_field(of: str) -> PasswordField:
    return PasswordField(
        "Repeat password", validators=[DataRequired(), EqualTo(of, "The passwords differ.")]
    )


WRONG_PASSWORD = "Your current password is not correct."  # noqa: S105 (a message)


def current_password_field() -> PasswordField:
    """The password a signed-in user types again to confirm a change to their account."""
    return PasswordField("Current password", validators=[DataRequired(), Length(max=MAX_LENGTH)])


class BaseForm(FlaskForm):
    """Rejects control characters in every text field before the field validators run."""

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in self:
            if isinstance(field.data, str) and has_control_chars(field.data):
                field.errors = [*field.errors, CONTROL_MESSAGE]
                ok = False
        return ok


class LinkForm(BaseForm):
    """The form behind a mailed link's page: its token travels in the form, not the URL the
    form posts to (the request log writes paths, and a token must never reach it)."""

    token = HiddenField(validators=[DataRequired(), Length(max=100)])


# ---- integers from requests ------------------------------------------------------------
# Every integer a request carries (form fields, id lists, query arguments) is read by
# parse_bounded_int: ASCII digits only (int() also takes " 7 ", "1_0" and "٣", and raises on
# "²", which str.isdigit() lets through), at most 20 characters (int() of a long string is
# slow), then a range check, so nothing past what a column holds reaches the database.
_INTEGER = re.compile(r"-?[0-9]{1,20}")
NOT_A_NUMBER = "Not a valid integer value."  # wtforms' own words, as for its IntegerField


def parse_bounded_int(text: str | None, minimum: int, maximum: int, message: str = "") -> int:
    """`text` as an int in minimum..maximum; ValueError with a message a user can act on
    (`message` instead of the default ones) otherwise."""
    if text is None or not _INTEGER.fullmatch(text):
        raise ValueError(message or NOT_A_NUMBER)
    value = int(text)
    if not minimum <= value <= maximum:
        raise ValueError(message or f"Number must be between {minimum} and {maximum}.")
    return value


def whole_number(value) -> int:
    """A select's `coerce`: ints pass (defaults, saved values), text is parsed strictly. The
    field's choices bound it."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return parse_bounded_int(value, -(2**63), 2**63 - 1)


class BoundedIntegerField(IntegerField):
    """An IntegerField read through parse_bounded_int. The range is required: every number
    from a request is range-checked where it is parsed. Empty input is left to the
    Optional/InputRequired validators (data None)."""

    def __init__(self, label=None, validators=None, *, minimum: int, maximum: int, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.minimum, self.maximum = minimum, maximum
        if isinstance(self.widget, NumberInput):  # the browser checks the range too
            self.render_kw = {"min": minimum, "max": maximum, **(self.render_kw or {})}

    def _value(self):
        # What was parsed (a view may replace it: the editor after a conflict), else what was
        # typed, so a refused number is shown back as typed.
        if self.data is not None:
            return str(self.data)
        return self.raw_data[0] if self.raw_data else ""

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0] != "":
            message = self.invalid_value_message or ""
            self.data = parse_bounded_int(valuelist[0], self.minimum, self.maximum, message)


class IdListField(SelectMultipleField):
    """Ids posted as repeated fields (checkboxes, hidden inputs): each 1..MAX_ID, at most
    `max_ids` of them (a list past that is refused whole, before it becomes a query's
    parameters: PostgreSQL takes at most 65,535)."""

    def __init__(self, label=None, validators=None, *, max_ids: int, unknown: str, **kwargs):
        self.max_ids, self.unknown = max_ids, unknown
        super().__init__(label, validators, coerce=int, validate_choice=False, **kwargs)

    def process_data(self, value):
        # No ids given (or an empty body, which flask-wtf passes on as no form at all): an
        # empty list, never None.
        self.data = [int(v) for v in value] if value else []

    def process_formdata(self, valuelist):
        self.data = []
        if len(valuelist) > self.max_ids:
            raise ValueError(f"At most {self.max_ids:,} at once.")
        ids = [parse_bounded_int(value, 1, MAX_ID, self.unknown) for value in valuelist]
        self.data = list(dict.fromkeys(ids))  # a repeated id counts once


# ---- colours ----------------------------------------------------------------------------
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def colour_field(default: str = "#4f46e5") -> ColorField:
    """A #rrggbb colour (tags and projects): what the colour picker sends, or typed."""
    return ColorField(
        "Colour",
        validators=[DataRequired(), Regexp(COLOUR, message="Use a colour like #4f46e5.")],
        filters=[strip],
        default=default,
    )
