from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=80)],
                       description=_l("What it is for, e.g. “HR system” or “CI pipeline”."))
    submit = SubmitField(_l("Create token"))


class RevokeForm(FlaskForm):
    """Only the CSRF token: revoking is a POST from the list."""
