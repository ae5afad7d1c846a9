"""Forms of the survey pages: the public form's hidden guards, and the CSV import."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from wtforms import BooleanField, HiddenField, StringField, SubmitField


class SurveyForm(FlaskForm):
    """The CSRF token and the abuse guards of the public form; the answers are parsed by services."""

    #: Signed time the form was shown, for the minimum fill time.
    started = HiddenField()
    #: Honeypot: hidden from people (and from screen readers), filled in by form-filling bots.
    website = StringField()


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[
        FileRequired(_l("Choose a CSV file.")),
        FileAllowed(["csv", "txt"], _l("The file must be a .csv file.")),
        FileSize(max_size=10 * 1024 * 1024, message=_l("The file is larger than 10 MB.")),
    ])
    dry_run = BooleanField(_l("Only check the file, import nothing"))
    submit = SubmitField(_l("Import"))
