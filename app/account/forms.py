from __future__ import annotations

from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.forms import BaseForm, confirm_field, current_password_field, new_password_field, strip


class ProfileForm(BaseForm):
    display_name = StringField(
        "Display name", validators=[DataRequired(), Length(max=80)], filters=[strip]
    )


class PasswordForm(BaseForm):
    current_password = current_password_field()
    new_password = new_password_field("New password")
    confirm = confirm_field("new_password")


class DeleteAccountForm(BaseForm):
    password = current_password_field()
    confirm_email = StringField(
        "Type your email to confirm", validators=[DataRequired(), Length(max=254)], filters=[strip]
    )


class EmptyForm(BaseForm):
    """A POST button: carries the CSRF token and nothing else."""
