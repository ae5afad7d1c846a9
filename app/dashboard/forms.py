"""Dashboard filters (GET, no CSRF) and the corrective-action forms."""
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, EmailField, Form, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from app.dashboard.queries import Period
from app.extensions import db
from app.models import ActionStatus, ChecklistVersion, Region

PRESETS = [
    SelectChoice("30d", _l("Last 30 days")),
    SelectChoice("90d", _l("Last 90 days")),
    SelectChoice("quarter", _l("This quarter")),
    SelectChoice("last_quarter", _l("Last quarter")),
    SelectChoice("year", _l("This year")),
    SelectChoice("custom", _l("Custom dates")),
]
CHANNELS = [SelectChoice(value, label) for value, label in (
    ("", _l("All channels")), ("store", _l("Store")), ("phone", _l("Phone")), ("email", _l("Email")),
    ("web", _l("Web")), ("chat", _l("Chat")), ("other", _l("Other")))]
#: Longest period a dashboard may ask for; a typo such as 1024 instead of 2024 stays cheap.
MAX_DAYS = 3 * 366


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class FilterForm(Form):
    """The dashboard's filters, read from the query string."""

    period = SelectField(_l("Period"), choices=PRESETS, default="90d")
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
    region = SelectField(_l("Region"), coerce=_int_or_none, validate_choice=True)
    checklist = SelectField(_l("Checklist"), default="")
    channel = SelectField(_l("Channel"), choices=CHANNELS, default="")

    def __init__(self, formdata, *, scope, today: date | None = None, **kwargs):
        super().__init__(formdata, **kwargs)
        self.today = today or date.today()
        regions = select(Region.id, Region.name).order_by(Region.name)
        if scope is not None:
            regions = regions.where(Region.id.in_(sorted(scope)))
        self.region.choices = [SelectChoice(None, _l("All regions"))] + [
            SelectChoice(rid, name) for rid, name in db.session.execute(regions)]
        slugs = select(ChecklistVersion.checklist_id, ChecklistVersion.title).order_by(
            ChecklistVersion.checklist_id, ChecklistVersion.version.desc())
        titles: dict[str, str] = {}
        for slug, title in db.session.execute(slugs):
            titles.setdefault(slug, title)
        self.checklist.choices = [SelectChoice("", _l("All checklists"))] + [
            SelectChoice(slug, title) for slug, title in titles.items()]

    def validate(self, extra_validators=None) -> bool:
        # Checked here, not in validate_end: Optional() stops a field's chain when it is empty.
        valid = super().validate(extra_validators)
        if self.period.data != "custom" or self.start.errors or self.end.errors:
            return valid
        start, end = self.start.data, self.end.data
        if not start or not end:
            message = _l("Choose both dates of a custom period.")
        elif end < start:
            message = _l("The end date is before the start date.")
        elif (end - start).days > MAX_DAYS:
            message = _l("Choose a period of at most three years.")
        else:
            return valid
        self.end.errors = [*self.end.errors, message]
        return False

    def get_period(self) -> Period:
        """Return the chosen period (the default when the filters are invalid)."""
        today = self.today
        preset = self.period.data if not self.errors else "90d"
        if preset == "custom":
            return Period(self.start.data, self.end.data)
        if preset == "30d":
            return Period.last_days(30, today)
        if preset == "quarter":
            return Period.quarter(today)
        if preset == "last_quarter":
            return Period.quarter(today).previous()
        if preset == "year":
            return Period.year(today)
        return Period.last_days(90, today)

    def filters(self) -> dict:
        """Return the keyword filters for the queries (region, checklist, channel)."""
        if self.errors:
            return {"region_id": None, "checklist_id": None, "channel": None}
        return {"region_id": self.region.data, "checklist_id": self.checklist.data or None,
                "channel": self.channel.data or None}


def period_args(period: Period) -> dict:
    """Return query-string arguments that select exactly this period."""
    return {"period": "custom", "start": period.start.isoformat(), "end": period.end.isoformat()}


class ActionForm(FlaskForm):
    """A corrective action: what to fix, who owns it, by when."""

    description = TextAreaField(_l("What must be fixed"), validators=[DataRequired(), Length(max=2000)])
    owner_name = StringField(_l("Owner (location manager)"), validators=[DataRequired(), Length(max=120)])
    owner_email = EmailField(_l("Owner's e-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    due_date = DateField(_l("Due date"), validators=[DataRequired()],
                         default=lambda: date.today() + timedelta(days=14))

    def validate_due_date(self, field):
        if field.data and field.data < date.today() - timedelta(days=1):
            raise ValidationError(_l("The due date is in the past."))


class ActionStatusForm(FlaskForm):
    """Move an action to another state."""

    status = SelectField(_l("State"), choices=[SelectChoice(s.value, s.value) for s in ActionStatus])
