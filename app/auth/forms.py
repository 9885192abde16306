from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from app.forms import (
    BaseForm,
    confirm_field,
    new_password_field,
    normalise_email,
    strip,
)
from app.passwords import MAX_LENGTH


class EmailAddress:
    """Syntax check with email-validator (no DNS lookups: the server may have no resolver)."""

    def __call__(self, form, field):
        try:
            result = validate_email(field.data or "", check_deliverability=False)
        except EmailNotValidError as exc:
            raise ValidationError(str(exc)) from None
        field.data = normalise_email(result.normalized)


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
