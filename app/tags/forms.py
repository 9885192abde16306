from __future__ import annotations

import re

from wtforms import ColorField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from app.auth.forms import strip
from app.forms import BaseForm

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
        from wtforms.validators import ValidationError

        if field.data and field.data.startswith("#"):
            field.data = field.data.lstrip("#").strip()
        if not field.data:
            raise ValidationError("A tag needs a name.")
        if "," in field.data:
            raise ValidationError("Tag names cannot contain commas.")
