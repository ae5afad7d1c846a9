"""Forms of the planning pages."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError


class AssignForm(FlaskForm):
    """Assign one visit: where, which checklist (its latest version), who, when, what to do."""

    location = SelectField(_l("Location"), coerce=int, validators=[DataRequired()])
    checklist = SelectField(_l("Checklist"), validators=[DataRequired()])
    shopper = SelectField(_l("Shopper"), coerce=int, validators=[DataRequired()])
    window_start = DateField(_l("From"), validators=[DataRequired()])
    window_end = DateField(_l("To"), validators=[DataRequired()])
    instructions = TextAreaField(_l("Instructions (what to buy or ask, the scenario)"), validators=[Length(max=5000)])

    def validate_window_end(self, field):
        if self.window_start.data and field.data and field.data < self.window_start.data:
            raise ValidationError(_l("The window must end on or after its first day."))


class ImportForm(FlaskForm):
    """Upload a CSV of assignments."""

    file = FileField(_l("CSV file"), validators=[
        FileRequired(_l("Choose a CSV file.")),
        FileAllowed(["csv", "txt"], _l("Upload a .csv file.")),
    ])
    dry_run = BooleanField(_l("Only check the file, assign nothing"))
