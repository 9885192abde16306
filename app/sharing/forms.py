from __future__ import annotations

from wtforms import EmailField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from app.forms import BaseForm, EmailAddress, parse_bounded_int, strip, whole_number
from app.models import Role
from app.url_converters import MAX_ID

# The roles an invitation or a role change may give: the owner is made only by a hand-over.
GIVEN_ROLES = [
    SelectChoice(int(role), role.label) for role in (Role.VIEWER, Role.EDITOR, Role.ADMIN)
]
NOT_A_ROLE = "Choose viewer, editor or admin."
NOT_A_MEMBER = "Choose one of the project's admins."


def _user_id(value) -> int:
    if isinstance(value, int):
        return value
    return parse_bounded_int(value, 1, MAX_ID, NOT_A_MEMBER)


def role_field() -> SelectField:
    return SelectField(
        "Role",
        choices=GIVEN_ROLES,
        coerce=whole_number,  # the choices bound it
        default=int(Role.EDITOR),
        validators=[InputRequired(NOT_A_ROLE)],
        invalid_value_message=NOT_A_ROLE,
        invalid_choice_message=NOT_A_ROLE,
    )


class RoleForm(BaseForm):
    role = role_field()


class InviteForm(BaseForm):
    email = EmailField(
        "Email", validators=[DataRequired(), Length(max=254), EmailAddress()], filters=[strip]
    )
    role = role_field()


class TransferForm(BaseForm):
    """The admin member who becomes the owner (the view fills the choices)."""

    new_owner = SelectField(
        "New owner",
        coerce=_user_id,
        validate_choice=False,  # the service checks they are an admin member, race-safe
        validators=[InputRequired(NOT_A_MEMBER)],
        invalid_value_message=NOT_A_MEMBER,
    )
