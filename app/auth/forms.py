from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.forms import BaseForm, EmailAddress, LinkForm, confirm_field, new_password_field, strip
from app.passwords import MAX_LENGTH


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


class ForgotPasswordForm(BaseForm):
    email = EmailField(
        "Email", validators=[DataRequired(), Length(max=254), EmailAddress()], filters=[strip]
    )


class ResetPasswordForm(LinkForm):
    password = new_password_field("New password")
    confirm = confirm_field("password")
