"""Forms of the admin pages; uniqueness is checked in `validate_<field>` methods."""
import re
from collections.abc import Mapping, Sequence
from typing import Any

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import func, select
from wtforms import (
    BooleanField,
    EmailField,
    FloatField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # types-WTForms 3.2 lacks it (3.3)
from wtforms.validators import DataRequired, Email, EqualTo, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.extensions import db
from app.labels import WEBHOOK_EVENT_LABELS
from app.localtime import canonical_zone, zone_choices
from app.models import Location, Region, Role, User
from app.models.locations import default_timezone
from app.models.webhooks import URL_LENGTH
from app.webhooks.events import EVENTS
from app.webhooks.urls import url_problem

ROLE_LABELS = {
    Role.admin: _l("Administrator"),
    Role.manager: _l("Quality manager"),
    Role.shopper: _l("Mystery shopper"),
}
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
PASSWORD_MIN = 10
PASSWORD_LENGTH = _l("The password needs at least 10 characters (200 at most).")


def strip(value: str | None) -> str | None:
    """Trim surrounding spaces from text input."""
    return value.strip() if isinstance(value, str) else value


def check_code(value: str | None) -> None:
    """:raise ValidationError: when a code has characters other than letters, digits, '.', '_' and '-'."""
    if value and not CODE_PATTERN.match(value):
        raise ValidationError(_l("Use letters, digits, dots, dashes and underscores only, e.g. MSK-01."))


class MultiCheckboxField(SelectMultipleField):
    """A multi-select shown as a list of checkboxes (easier to use on a phone than <select multiple>)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CoordinateField(FloatField):
    """A latitude or longitude; accepts a decimal comma as typed on Russian keyboards."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = float(valuelist[0].strip().replace(",", "."))
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a number in decimal degrees, e.g. 55.7558.")) from None


class TimezoneField(SelectField):
    """An IANA time zone picked from a list, Russia's zones first; a name not in the database is refused.

    With `blank` the first option is "no zone of its own" (a location keeps its region's); its data is None.
    """

    def __init__(self, label: Any = None, validators: Any = None, *, blank: Any = None, **kwargs: Any) -> None:
        super().__init__(label, validators, validate_choice=False, **kwargs)
        self.blank = blank

    def set_choices(self) -> None:
        """Fill the options (per request: the labels are in the page language, the offsets today's)."""
        self.choices = ([SelectChoice("", self.blank)] if self.blank else []) + [
            SelectChoice(name, label) for name, label in zone_choices()]

    def pre_validate(self, form: Any) -> None:
        if not self.data and self.blank:
            self.data = None
            return
        name = canonical_zone(self.data)
        if name is None:
            raise ValidationError(_l("Unknown time zone “%(name)s”: choose one from the list, e.g. Europe/Moscow.",
                                     name=self.data or ""))
        self.data = name


class CompleteForm(FlaskForm):
    """A form refused whole when its post lacks any of its fields, so nothing is changed by half.

    A browser always sends every text and select field, and the hidden `complete` marker that
    hidden_tag() renders; only unticked checkboxes are absent, and that absence means "unticked".
    """

    complete = HiddenField(default="1")

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        valid = super().validate(extra_validators)
        sent = request.form
        unticked_may_be_absent = (BooleanField, SelectMultipleField, SubmitField)
        missing = [field.name for field in self if field.name not in sent
                   and not isinstance(field, unticked_may_be_absent) and field.name != "csrf_token"]
        if missing:
            self.form_errors.append(_l("The form arrived incomplete (missing: %(fields)s); nothing was changed. "
                                       "Reload the page and send it again.", fields=", ".join(missing)))
            return False
        return valid


class UserForm(CompleteForm):
    """Create or edit an account; `user` is the account being edited (None when creating)."""

    name = StringField(_l("Full name"), filters=[strip], validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), filters=[strip], validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField(_l("Role"), choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()],
                       default=Role.shopper.value)
    shopper_code = StringField(_l("Shopper code"), filters=[strip], validators=[Length(max=20)])
    regions = MultiCheckboxField(_l("Regions"), coerce=int)
    submit = SubmitField(_l("Save"))

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.regions.choices = [
            SelectChoice(r.id, r.name) for r in db.session.scalars(select(Region).order_by(Region.name))
        ]

    def validate_email(self, field: StringField) -> None:
        query = select(User.id).where(func.lower(User.email) == (field.data or "").lower())
        if self.user is not None:
            query = query.where(User.id != self.user.id)
        if db.session.scalar(query) is not None:
            raise ValidationError(_l("Another account already uses this email."))

    def validate_shopper_code(self, field: StringField) -> None:
        if self.user is None and self.role.data != Role.shopper.value:
            return  # a new non-shopper gets no code, whatever the (hidden) field holds
        if not field.data:
            if self.role.data == Role.shopper.value:
                raise ValidationError(_l("Shoppers need a code: reports show it instead of their name."))
            return
        check_code(field.data)
        query = select(User.id).where(func.lower(User.shopper_code) == (field.data or "").lower())
        if self.user is not None:
            query = query.where(User.id != self.user.id)
        if db.session.scalar(query) is not None:
            raise ValidationError(_l("Another shopper already has this code."))


class NewUserForm(UserForm):
    """Create an account with its first password."""

    password = PasswordField(
        _l("Initial password"), validators=[DataRequired(), Length(PASSWORD_MIN, 200, PASSWORD_LENGTH)]
    )
    submit = SubmitField(_l("Create account"))


class PasswordResetForm(FlaskForm):
    """Set a new password for someone else."""

    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(PASSWORD_MIN, 200, PASSWORD_LENGTH)]
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Set password"))


class RegionForm(CompleteForm):
    """Create or edit a region."""

    code = StringField(_l("Code"), filters=[strip], validators=[DataRequired(), Length(max=20)])
    name = StringField(_l("Name"), filters=[strip], validators=[DataRequired(), Length(max=120)])
    timezone = TimezoneField(_l("Time zone"))
    submit = SubmitField(_l("Save"))

    def __init__(self, *args: Any, region: Region | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region = region
        self.timezone.set_choices()
        if region is None and not self.timezone.data:
            self.timezone.data = default_timezone()

    def validate_code(self, field: StringField) -> None:
        check_code(field.data)
        query = select(Region.id).where(func.lower(Region.code) == (field.data or "").lower())
        if self.region is not None:
            query = query.where(Region.id != self.region.id)
        if db.session.scalar(query) is not None:
            raise ValidationError(_l("Another region already has this code."))

    def validate_name(self, field: StringField) -> None:
        query = select(Region.id).where(func.lower(Region.name) == (field.data or "").lower())
        if self.region is not None:
            query = query.where(Region.id != self.region.id)
        if db.session.scalar(query) is not None:
            raise ValidationError(_l("Another region already has this name."))


class LocationForm(CompleteForm):
    """Create or edit a location (branch, store, office)."""

    code = StringField(_l("Code"), filters=[strip], validators=[DataRequired(), Length(max=20)])
    name = StringField(_l("Name"), filters=[strip], validators=[DataRequired(), Length(max=160)])
    address = StringField(_l("Address"), filters=[strip], validators=[Length(max=300)])
    region_id = SelectField(_l("Region"), coerce=int, validators=[DataRequired(_l("Choose a region."))])
    latitude = CoordinateField(
        _l("Latitude"), validators=[Optional(), NumberRange(-90, 90, _l("Latitude must be between -90 and 90."))]
    )
    longitude = CoordinateField(
        _l("Longitude"), validators=[Optional(), NumberRange(-180, 180, _l("Longitude must be between -180 and 180."))]
    )
    timezone = TimezoneField(_l("Time zone"), blank=_l("Same as its region"))
    active = BooleanField(_l("Active (can be planned and visited)"), default=True)
    submit = SubmitField(_l("Save"))

    def __init__(self, *args: Any, location: Location | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.location = location
        self.timezone.set_choices()
        self.region_id.choices = [SelectChoice(0, _l("Choose a region"))] + [
            SelectChoice(r.id, r.name) for r in db.session.scalars(select(Region).order_by(Region.name))
        ]

    def validate_code(self, field: StringField) -> None:
        check_code(field.data)
        query = select(Location.id).where(func.lower(Location.code) == (field.data or "").lower())
        if self.location is not None:
            query = query.where(Location.id != self.location.id)
        if db.session.scalar(query) is not None:
            raise ValidationError(_l("Another location already has this code."))

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        """Validate the fields, then ask for both coordinates or neither."""
        valid = super().validate(extra_validators)
        lat, lon = self.latitude, self.longitude
        if not lat.errors and not lon.errors and (lat.data is None) != (lon.data is None):
            missing = lon if lon.data is None else lat
            # One coordinate without the other puts the pin nowhere.
            missing.errors = [*missing.errors, _l("Enter both latitude and longitude, or leave both empty.")]
            valid = False
        return valid


class LocationImportForm(FlaskForm):
    """Upload a CSV of locations."""

    file = FileField(_l("CSV file"), validators=[
        FileRequired(_l("Choose a CSV file.")), FileAllowed(["csv", "txt"], _l("Upload a .csv file."))])
    dry_run = BooleanField(_l("Only check the file, save nothing"))


class ConfirmForm(FlaskForm):
    """An empty form: the CSRF token of the one-button actions (deactivate, reactivate)."""


class WebhookForm(CompleteForm):
    """Register or change a webhook endpoint: its https address, what it is for, its events, on or off."""

    url = StringField(_l("Address"), filters=[strip], validators=[DataRequired(), Length(max=URL_LENGTH)])
    description = StringField(_l("What it is for"), filters=[strip], validators=[Length(max=200)])
    events = MultiCheckboxField(_l("Events"))
    active = BooleanField(_l("Active: send it events"), default=True)
    submit = SubmitField(_l("Save"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.events.choices = [(name, str(WEBHOOK_EVENT_LABELS[name])) for name in EVENTS]

    def validate_url(self, field: StringField) -> None:
        problem = url_problem(field.data or "", allow_loopback=bool(current_app.config.get("WEBHOOKS_ALLOW_LOOPBACK")))
        if problem:
            raise ValidationError(problem)

    def validate_events(self, field: MultiCheckboxField) -> None:
        if not field.data:
            raise ValidationError(_l("Choose at least one event."))
