from __future__ import annotations

from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.forms import BaseForm, colour_field, strip, whole_number
from app.models import PROJECT_NAME_MAX
from app.palette import DEFAULT_COLOUR

NAME_LENGTH = f"A project name is at most {PROJECT_NAME_MAX} characters."


def _collapse(value):
    """Runs of spaces inside a name count as one, as quick add's `+"two  words"` reads them."""
    return " ".join(value.split()) if isinstance(value, str) else value


class ProjectForm(BaseForm):
    name = StringField(
        "Name",
        validators=[
            DataRequired("A project needs a name."),
            Length(max=PROJECT_NAME_MAX, message=NAME_LENGTH),
        ],
        filters=[strip, _collapse],
    )
    colour = colour_field(DEFAULT_COLOUR)


class DeleteProjectForm(BaseForm):
    """The delete page: optionally a project to move the tasks to first (choices: the
    projects the user may add to, set by the view)."""

    move_to = SelectField("Move its tasks first to", coerce=whole_number, validators=[Optional()])
