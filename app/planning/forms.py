"""Forms of the planning pages."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, DateField, HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError


def optional_int(value: object) -> int | None:
    """Coerce a choice to an id; the empty placeholder ("Choose a location…") is None, not an error."""
    return None if value in ("", None) else int(value)  # type: ignore[call-overload]


class AssignForm(FlaskForm):
    """Assign one visit: where, which checklist (its latest version), who, when, what to do.

    The three choices start on an empty placeholder and are required: a pre-selected first entry let a
    hurried manager assign the wrong branch or shopper without noticing.
    """

    location = SelectField(_l("Location"), coerce=optional_int,
                           validators=[DataRequired(_l("Choose the location to visit."))])
    checklist = SelectField(_l("Checklist"), default="",
                            validators=[DataRequired(_l("Choose the checklist to fill."))])
    shopper = SelectField(_l("Shopper"), coerce=optional_int,
                          validators=[DataRequired(_l("Choose the shopper who makes the visit."))])
    window_start = DateField(_l("From"), validators=[DataRequired()])
    window_end = DateField(_l("To"), validators=[DataRequired()])
    instructions = TextAreaField(_l("Instructions (what to buy or ask, the scenario)"), validators=[Length(max=5000)])
    #: Ticked after a lockout refusal; `lockout_visit` names the earlier visit the manager was shown, so the
    #: override never covers a different conflict (another shopper or location chosen meanwhile).
    override_lockout = BooleanField(_l("Assign anyway, despite the lockout (recorded in the audit log)"))
    lockout_visit = HiddenField()

    def validate_window_end(self, field: DateField) -> None:
        if self.window_start.data and field.data and field.data < self.window_start.data:
            raise ValidationError(_l("The window must end on or after its first day."))


class EditVisitForm(FlaskForm):
    """Change a planned visit: who goes (until it is started), when, and what to do."""

    shopper = SelectField(_l("Shopper"), coerce=int, validators=[DataRequired()])
    # InputRequired, not DataRequired: a mistyped date then says "not a valid date", not "required".
    window_start = DateField(_l("From"), validators=[InputRequired()])
    window_end = DateField(_l("To"), validators=[InputRequired()])
    instructions = TextAreaField(_l("Instructions (what to buy or ask, the scenario)"), validators=[Length(max=5000)])

    def validate_window_end(self, field: DateField) -> None:
        if self.window_start.data and field.data and field.data < self.window_start.data:
            raise ValidationError(_l("The window must end on or after its first day."))


class CancelVisitForm(FlaskForm):
    """Cancel a visit that was not handed in: the reason is kept with the visit."""

    reason = TextAreaField(_l("Why is the visit cancelled?"), validators=[
        DataRequired(_l("Say why the visit is cancelled.")), Length(max=2000)])


class ImportForm(FlaskForm):
    """Upload a CSV of assignments."""

    file = FileField(_l("CSV file"), validators=[
        FileRequired(_l("Choose a CSV file.")),
        FileAllowed(["csv", "txt"], _l("Upload a .csv file.")),
    ])
    dry_run = BooleanField(_l("Only check the file, assign nothing"))
