from __future__ import annotations

from wtforms import EmailField
from wtforms.validators import DataRequired, Length

from app.forms import BaseForm, EmailAddress, current_password_field, strip


class ChangeEmailForm(BaseForm):
    new_email = EmailField(
        "New email", validators=[DataRequired(), Length(max=254), EmailAddress()], filters=[strip]
    )
    current_password = current_password_field()
