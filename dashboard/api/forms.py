from flask_babel import lazy_gettext as _l, lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from .service import MAX_DAYS

SCOPE_CHOICES = [SelectChoice("full", _l("Full: read and change, as your role allows")),
                 SelectChoice("read", _l("Read only: GET requests"))]


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=80)],
                       description=_l("What it is for, e.g. “HR system” or “CI pipeline”."))
    scope = SelectField(lazy_pgettext("token scope", "Access"), choices=SCOPE_CHOICES, default="full")
    expires_in = IntegerField(_l("Expires after (days)"),
                              validators=[Optional(), NumberRange(min=1, max=MAX_DAYS)],
                              description=_l("Empty: it works until you revoke it."))
    submit = SubmitField(_l("Create token"))


class RevokeForm(FlaskForm):
    """Only the CSRF token: revoking is a POST from the list."""
