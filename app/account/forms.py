from __future__ import annotations

from flask import current_app
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, ValidationError

from app.digests import HOURS, hour_label
from app.forms import (
    BaseForm,
    confirm_field,
    current_password_field,
    new_password_field,
    strip,
    whole_number,
)
from app.reminders import OFFSETS
from app.timezones import is_known, zone_names

UNKNOWN_ZONE = "Unknown time zone: choose one from the list (a name such as Europe/Paris)."


class ProfileForm(BaseForm):
    display_name = StringField(
        "Display name", validators=[DataRequired(), Length(max=80)], filters=[strip]
    )


class KnownZone:
    """The menu's choice: "" (the instance's zone) or a zone this server knows. Checked here,
    not by the select's own choice check, so that the message says what to do."""

    def __call__(self, form, field):
        if not field.raw_data or (field.data and not is_known(field.data)):
            raise ValidationError(UNKNOWN_ZONE)


class TimezoneForm(BaseForm):
    timezone = SelectField("Time zone", validators=[KnownZone()], validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        default = current_app.config["TIMEZONE"]
        zones = [(name, name) for name in zone_names()]
        self.timezone.choices = [("", f"Same as the server ({default})"), *zones]


def _offset_or_none(value) -> int | None:
    """The default reminder menu's coerce: "" is "no reminder"."""
    return None if value in ("", None) else whole_number(value)


class MailForm(BaseForm):
    """The daily digest, reminder mail, and the default reminder of new tasks with a time."""

    digest = BooleanField("Mail me a daily digest: overdue, due today, assigned to me")
    digest_hour = SelectField(
        "Send it at",
        choices=[SelectChoice(hour, hour_label(hour)) for hour in HOURS],
        coerce=whole_number,
        validators=[NumberRange(min=0, max=23, message="Choose an hour from 00:00 to 23:00.")],
        validate_choice=False,
        default=8,
    )
    reminder_mail = BooleanField("Email me my reminders (they always show in the app)")
    default_reminder = SelectField(
        "Default reminder for tasks with a time",
        choices=[SelectChoice("", "No reminder")]
        + [SelectChoice(offset, label) for offset, label in OFFSETS.items()],
        coerce=_offset_or_none,
        validate_choice=True,
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
