"""The corrective-action forms (the filter bar is app.analytics.filters.FilterForm)."""
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # types-WTForms 3.2 lacks it (3.3)
from wtforms.validators import DataRequired, Email, Length, ValidationError

from app.models import ActionStatus


class ActionForm(FlaskForm):
    """A corrective action: what to fix, who owns it, by when."""

    description = TextAreaField(_l("What must be fixed"), validators=[DataRequired(), Length(max=2000)])
    owner_name = StringField(_l("Owner (location manager)"), validators=[DataRequired(), Length(max=120)])
    owner_email = EmailField(_l("Owner's e-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    due_date = DateField(_l("Due date"), validators=[DataRequired()],
                         default=lambda: date.today() + timedelta(days=14))

    def validate_due_date(self, field: DateField) -> None:
        if field.data and field.data < date.today() - timedelta(days=1):
            raise ValidationError(_l("The due date is in the past."))


class ActionStatusForm(FlaskForm):
    """Move an action to another state."""

    status = SelectField(_l("State"), choices=[SelectChoice(s.value, s.value) for s in ActionStatus])
