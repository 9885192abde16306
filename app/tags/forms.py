from __future__ import annotations

from wtforms import StringField
from wtforms.validators import DataRequired, Length, ValidationError

from app.forms import BaseForm, colour_field, strip
from app.tagging import clean_name, name_problem


class TagForm(BaseForm):
    name = StringField(
        "Name", validators=[DataRequired("A tag needs a name."), Length(max=50)], filters=[strip]
    )
    colour = colour_field()

    def validate_name(self, field):
        field.data = clean_name(field.data)
        problem = name_problem(field.data)
        if problem:
            raise ValidationError(problem)
