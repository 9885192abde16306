from __future__ import annotations

from wtforms import (
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)
from wtforms.widgets import HiddenInput

from app.forms import (
    CONTROL_MESSAGE,
    BaseForm,
    BoundedIntegerField,
    IdListField,
    has_control_chars,
    strip,
    whole_number,
)
from app.models import Priority
from app.reminders import OFFSETS
from app.tagging import MAX_NAME, clean_name, name_problem
from app.tasks.listing import (
    DEFAULT_LIMIT,
    DUE_FILTERS,
    MAX_LIMIT,
    MAX_QUERY,
    PRIORITY_NAMES,
    SORTS,
    STATUSES,
    BadListQuery,
    ListQuery,
    decode_cursor,
)
from app.tasks.recurrence import MAX_INTERVAL, build_rule
from app.url_converters import MAX_ID


def _choices(pairs):
    return [SelectChoice(value, label) for value, label in pairs]


PRIORITY_CHOICES = _choices((p.value, p.label) for p in Priority)
FREQ_CHOICES = _choices(
    [
        ("", "Does not repeat"),
        ("daily", "Daily"),
        ("weekdays", "Every weekday"),
        ("weekly", "Weekly"),
        ("monthly", "Monthly"),
        ("yearly", "Yearly"),
    ]
)
WEEKDAY_CHOICES = _choices(
    [
        ("MO", "Mon"),
        ("TU", "Tue"),
        ("WE", "Wed"),
        ("TH", "Thu"),
        ("FR", "Fri"),
        ("SA", "Sat"),
        ("SU", "Sun"),
    ]
)
MAX_TAGS_PER_TASK = 20
VERSION_MISSING = "This form is missing the task's version; reload the page and try again."
MAX_BULK = 500  # tasks in one bulk action, and so in one undo
UNKNOWN_TASK = "Unknown task."
UNKNOWN_PROJECT = "Unknown project."
CHOOSE_ASSIGNEE = "Choose who to assign the tasks to."


def split_tags(raw: str) -> list[str]:
    return [name for name in map(clean_name, (raw or "").split(",")) if name]


class QuickAddForm(BaseForm):
    title = StringField(
        "New task",
        validators=[DataRequired("Type a task first."), Length(max=400)],
        filters=[strip],
    )
    # The project whose page the field is on (none: the Inbox); `+name` overrides it.
    project_id = BoundedIntegerField(
        validators=[Optional()],
        minimum=1,
        maximum=MAX_ID,
        invalid_value_message=UNKNOWN_PROJECT,
        widget=HiddenInput(),
    )


class TaskForm(BaseForm):
    title = StringField(
        "Title",
        validators=[DataRequired("A task needs a title."), Length(max=200)],
        filters=[strip],
    )
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=10_000)])
    priority = SelectField("Priority", choices=PRIORITY_CHOICES, coerce=whole_number, default=0)
    due_date = DateField("Due date", validators=[Optional()])
    due_time = TimeField("Time", validators=[Optional()])
    # Offsets in minutes before the due time; only the listed ones are accepted.
    reminders = SelectMultipleField(
        "Remind me",
        choices=_choices(OFFSETS.items()),
        coerce=whole_number,
        validate_choice=True,
    )
    tags = StringField("Tags", validators=[Optional(), Length(max=1000)], filters=[strip])
    # Choices: the projects the user may add to, and the task's own (set by the view). Not
    # sent: the task stays where it is.
    project_id = SelectField("Project", coerce=whole_number, validators=[Optional()])
    # 0: nobody. Choices: the members of the task's project (set by the view), but the view
    # checks the value itself (app/tasks/assignees.py), so a moved task's new project counts
    # and the refusal says why. Not sent: the assignee stays.
    assignee_id = SelectField(
        "Assignee", coerce=whole_number, validators=[Optional()], validate_choice=False
    )
    repeat = SelectField("Repeat", choices=FREQ_CHOICES, default="")
    interval = BoundedIntegerField(
        "Every", validators=[Optional()], minimum=1, maximum=MAX_INTERVAL, default=1
    )
    weekdays = SelectMultipleField("On", choices=WEEKDAY_CHOICES, validate_choice=True)
    # The version column is an INTEGER: anything past it is a form we never rendered.
    version = BoundedIntegerField(
        validators=[InputRequired(VERSION_MISSING)],
        minimum=1,
        maximum=MAX_ID,
        invalid_value_message=VERSION_MISSING,
        widget=HiddenInput(),
    )

    def validate_tags(self, field):
        names = split_tags(field.data)
        if len(names) > MAX_TAGS_PER_TASK:
            raise ValidationError(f"At most {MAX_TAGS_PER_TASK} tags per task.")
        for name in names:
            if problem := name_problem(name):
                raise ValidationError(problem)

    def validate_due_time(self, field):
        if field.data is not None and self.due_date.data is None and not self.due_date.errors:
            raise ValidationError("A time goes with a due date: choose the day too.")

    def validate_weekdays(self, field):
        if self.repeat.data == "weekly" and not field.data:
            field.data = []  # weekly with no day chosen repeats on the due date's weekday

    @property
    def rule(self) -> str | None:
        return build_rule(self.repeat.data or "", self.interval.data or 1, self.weekdays.data or [])


class RestoreForm(BaseForm):
    """Undo: the ids of tasks just deleted (hidden inputs of the undo toast)."""

    ids = IdListField("Tasks", max_ids=MAX_BULK, unknown=UNKNOWN_TASK)


BULK_ACTIONS = _choices(
    [
        ("done", "Mark done"),
        ("open", "Mark not done"),
        ("delete", "Delete"),
        ("tag_add", "Add tag"),
        ("tag_remove", "Remove tag"),
        ("priority", "Set priority"),
        ("due", "Set due date"),
        ("move", "Move to project"),
        ("assign", "Assign to"),
    ]
)


class BulkForm(BaseForm):
    ids = IdListField("Tasks", max_ids=MAX_BULK, unknown=UNKNOWN_TASK)
    action = SelectField("Action", choices=BULK_ACTIONS)
    tag = StringField("Tag", validators=[Optional(), Length(max=200)], filters=[strip])
    priority = SelectField("Priority", choices=PRIORITY_CHOICES, coerce=whole_number, default=0)
    due_date = DateField("Due date", validators=[Optional()])
    project = BoundedIntegerField(
        "Project", minimum=1, maximum=MAX_ID, invalid_value_message=UNKNOWN_PROJECT
    )
    # 0: nobody. Whoever else is chosen is assigned only the tasks in projects they are a
    # member of (app/tasks/assignees.py); a number past any id is refused here.
    assignee = BoundedIntegerField(
        "Assign to", minimum=0, maximum=MAX_ID, invalid_value_message=CHOOSE_ASSIGNEE
    )

    def validate_ids(self, field):
        if not field.data and not field.errors:
            raise ValidationError("Select at least one task.")

    def validate_project(self, field):
        if self.action.data == "move" and field.data is None:
            raise ValidationError("Choose the project to move the tasks to.")

    def validate_assignee(self, field):
        if self.action.data == "assign" and field.data is None:
            raise ValidationError(CHOOSE_ASSIGNEE)

    def validate_tag(self, field):
        if self.action.data in ("tag_add", "tag_remove"):
            field.data = clean_name(field.data)  # as the editor reads it: "#work" is work
            if problem := name_problem(field.data):
                raise ValidationError(problem)


# ---- the list's filters -----------------------------------------------------------------
MAX_FILTER_TAGS = 10  # more tags in one URL are ignored


def _or(default: str):
    """A filter: an empty or missing value means `default`."""
    return lambda value: value or default


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def _distinct_names(names) -> tuple[str, ...]:
    """Tag names trimmed, blanks dropped, each once, the first MAX_FILTER_TAGS of them."""
    stripped = (name.strip() for name in names or ())
    return tuple(dict.fromkeys(name for name in stripped if name))[:MAX_FILTER_TAGS]


class ListFilterForm(BaseForm):
    """The list's view, read from its URL (?q=&status=&sort=&due=&priority=&tag=&limit=
    &after=; app/tasks/listing.py applies it). A GET changes nothing: no CSRF.

    A URL with several unusable values is answered with the first one's message, in the
    order of these fields; the cursor (`after`) is read last, in to_query, as it depends on
    the sort.

    The menus are text fields checked with AnyOf rather than SelectFields: the list page
    renders its own menus, and a SelectField checks a value by building every option, on
    every request to the app's most frequent page.

    A BaseForm like every other: control characters are refused (a NUL in the search or a
    tag reached PostgreSQL, which refuses NUL in text, and answered 500)."""

    class Meta:
        csrf = False

    q = StringField(
        "Search",
        default="",
        filters=[strip],
        validators=[
            Length(max=MAX_QUERY, message=f"Search text is limited to {MAX_QUERY} characters.")
        ],
    )
    status = StringField(
        "Show",
        filters=[_or("open")],
        validators=[AnyOf(STATUSES, "Status must be open, done or all.")],
    )
    sort = StringField(
        "Sort",
        filters=[_or("due")],
        validators=[AnyOf(SORTS, "Sort must be one of: " + ", ".join(SORTS) + ".")],
    )
    due = StringField(
        "Due",
        default="",
        validators=[AnyOf(("", *DUE_FILTERS), "Due must be overdue, today, week or none.")],
    )
    priority = StringField(
        "Priority",
        filters=[_or(""), _lower],
        validators=[AnyOf(("", *PRIORITY_NAMES), "Priority must be none, low, medium or high.")],
    )
    tag = SelectMultipleField("Tag", validate_choice=False, filters=[_distinct_names])
    limit = BoundedIntegerField(
        "Show at most",
        minimum=1,
        maximum=MAX_LIMIT,
        invalid_value_message=f"Limit must be a number from 1 to {MAX_LIMIT}.",
    )
    after = StringField("After", default="")

    def validate_tag(self, field):
        if any(len(name) > MAX_NAME for name in field.data):
            raise ValidationError(f"Tag names are at most {MAX_NAME} characters.")
        if any(has_control_chars(name) for name in field.data):  # BaseForm checks text only
            raise ValidationError(CONTROL_MESSAGE)

    def to_query(self) -> ListQuery:
        """The validated view; BadListQuery when the cursor is not one of this sort's."""
        sort, raw_after = self.sort.data, self.after.data
        return ListQuery(
            q=self.q.data,
            status=self.status.data,
            tags=self.tag.data,
            priority=PRIORITY_NAMES[self.priority.data] if self.priority.data else None,
            due=self.due.data,
            sort=sort,
            after=decode_cursor(raw_after, sort) if raw_after else None,
            limit=self.limit.data or DEFAULT_LIMIT,
            raw_after=raw_after,
        )


def list_query(args) -> ListQuery:
    """The view of the list that the query arguments `args` name; BadListQuery, saying which
    value, when one of them cannot be used."""
    form = ListFilterForm(args)
    if not form.validate():
        raise BadListQuery(next(iter(form.errors.values()))[0])
    return form.to_query()
