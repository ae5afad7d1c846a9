"""Review decision forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class DecisionForm(FlaskForm):
    """Approve, return or void: `decision` says which; return and void need the text."""

    decision = HiddenField(validators=[DataRequired()])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=4000)])


class LibraryForm(FlaskForm):
    """Add a reusable comment to the reviewer's library."""

    text = TextAreaField(_l("Reusable comment"), validators=[DataRequired(), Length(max=1000)])
