from __future__ import annotations

import re

from wtforms import ColorField, StringField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from app.forms import BaseForm, strip
from app.tagging import clean_name, name_problem

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class TagForm(BaseForm):
    name = StringField(
        "Name", validators=[DataRequired("A tag needs a name."), Length(max=50)], filters=[strip]
    )
    colour = ColorField(
        "Colour",
        validators=[DataRequired(), Regexp(COLOUR, message="Use a colour like #4f46e5.")],
        filters=[strip],
        default="#4f46e5",
    )

    def validate_name(self, field):
        field.data = clean_name(field.data)
        problem = name_problem(field.data)
        if problem:
            raise ValidationError(problem)
