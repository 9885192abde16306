from __future__ import annotations

from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.admin.services import SORTS
from app.audit import ACTIONS
from app.forms import BaseForm, BoundedIntegerField, confirm_field, new_password_field, strip


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def lower(value):
    return value.lower() if isinstance(value, str) else value


class _QueryForm(BaseForm):
    """Filters read from the query string: no CSRF (a GET changes nothing)."""

    class Meta:
        csrf = False

    page = BoundedIntegerField("Page", validators=[Optional()], minimum=1, maximum=1_000_000)


class UserFilterForm(_QueryForm):
    q = StringField("Search", validators=[Length(max=100)], filters=[strip])
    role = SelectField(
        "Role",
        choices=choices([("", "Any role"), ("admin", "Admins"), ("user", "Not admins")]),
        default="",
    )
    status = SelectField(
        "Status",
        choices=choices([("", "Any status"), ("active", "Active"), ("deactivated", "Deactivated")]),
        default="",
    )
    sort = SelectField("Sort", choices=choices(SORTS.items()), default="email")


class AuditFilterForm(_QueryForm):
    actor = StringField("Actor email", validators=[Length(max=254)], filters=[strip, lower])
    target = StringField("Target email", validators=[Length(max=254)], filters=[strip, lower])
    action = SelectField(
        "Action", choices=choices([("", "Any action"), *ACTIONS.items()]), default=""
    )


class TemporaryPasswordForm(BaseForm):
    password = new_password_field("Temporary password")
    confirm = confirm_field("password")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The admin's own saved password must not be filled in here by the browser.
        for field in (self.password, self.confirm):
            field.render_kw = {"autocomplete": "new-password"}


class DeleteUserForm(BaseForm):
    confirm_email = StringField(
        "Type the user's email to confirm",
        validators=[DataRequired(), Length(max=254)],
        filters=[strip],
    )
