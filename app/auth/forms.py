from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from app.forms import BaseForm
from app.passwords import MAX_LENGTH, policy_error


def strip(value):
    return value.strip() if isinstance(value, str) else value


def normalise_email(raw: str) -> str:
    """The one spelling of an address we store and compare: trimmed and lower-cased."""
    return raw.strip().lower()


class EmailAddress:
    """Syntax check with email-validator (no DNS lookups: the server may have no resolver)."""

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


class RegisterForm(BaseForm):
    email = EmailField(
        "Email", validators=[DataRequired(), Length(max=254), EmailAddress()], filters=[strip]
    )
    display_name = StringField(
        "Display name", validators=[DataRequired(), Length(max=80)], filters=[strip]
    )
    password = new_password_field()
    confirm = confirm_field("password")


class LoginForm(BaseForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)], filters=[strip])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_LENGTH)])
    remember = BooleanField("Remember me for 30 days")
