from __future__ import annotations

from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.forms import BaseForm, EmailAddress, LinkForm, confirm_field, new_password_field, strip
from app.passwords import MAX_LENGTH
from app.timezones import is_known


def proposed_zone(value):
    """The browser's zone, which static/js/app.js puts in the hidden field: kept if this server
    knows it, else None (no JavaScript, or a value no browser sends), and the account follows
    the instance's zone. Never an error: the person registering cannot see the field."""
    return value if is_known(value) else None


class RegisterForm(BaseForm):
    email = EmailField(
        "Email", validators=[DataRequired(), Length(max=254), EmailAddress()], filters=[strip]
    )
    display_name = StringField(
        "Display name", validators=[DataRequired(), Length(max=80)], filters=[strip]
    )
    password = new_password_field()
    confirm = confirm_field("password")
    timezone = HiddenField(filters=[proposed_zone])


class LoginForm(BaseForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)], filters=[strip])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_LENGTH)])
    remember = BooleanField("Remember me for 30 days")


class ForgotPasswordForm(BaseForm):
    email = EmailField(
        "Email", validators=[DataRequired(), Length(max=254), EmailAddress()], filters=[strip]
    )


class ResetPasswordForm(LinkForm):
    password = new_password_field("New password")
    confirm = confirm_field("password")
