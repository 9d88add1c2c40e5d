from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .service import REASON_MAX


class DecideForm(FlaskForm):
    """Approve, or reject with an optional reason the author reads."""

    reason = TextAreaField(_l("Reason (for a rejection; the author reads it)"),
                           validators=[Optional(), Length(max=REASON_MAX)])
    approve = SubmitField(_l("Approve"))
    reject = SubmitField(_l("Reject"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Why you rejected it (the author reads it)"),
                           validators=[DataRequired(), Length(max=REASON_MAX)])
    submit = SubmitField(_l("Save the reason"))
