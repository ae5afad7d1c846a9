"""Review decision forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class DecisionForm(FlaskForm):
    """Approve, return or void: `decision` says which; return and void need the text."""

    decision = HiddenField(validators=[DataRequired()])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=4000)])


class LibraryForm(FlaskForm):
    """Add a reusable comment to the reviewer's library."""

    text = TextAreaField(_l("Reusable comment"), validators=[DataRequired(), Length(max=1000)])


class BulkApproveForm(FlaskForm):
    """Approve the ticked visits of the queue (their ids come as the repeated `visit` field)."""

    include_high_risk = BooleanField(_l("Include high-risk visits"))


class ReviewerForm(FlaskForm):
    """Who reviews a visit: "me", a manager's id, or empty for nobody."""

    reviewer = HiddenField()
