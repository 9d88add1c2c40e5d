from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional, Regexp, ValidationError

from ..extensions import db
from ..i18n import LANGUAGES
from ..models import ROLES, User

# The roles as people read them; the values stored stay admin, staff, manager.
ROLE_LABELS = {"admin": _l("Admin"), "staff": _l("Staff"), "manager": _l("Manager")}
ROLE_CHOICES = [SelectChoice(role, ROLE_LABELS[role]) for role in ROLES]
AT_LEAST_10 = _l("At least 10 characters.")


class LanguageForm(FlaskForm):
    """The language switcher in the navigation bar and on the login page."""

    language = HiddenField(validators=[DataRequired(), AnyOf(list(LANGUAGES))])
    next = HiddenField()


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    remember = BooleanField(_l("Keep me signed in"))
    submit = SubmitField(_l("Sign in"))


class UserCreateForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(), Length(max=64),
            Regexp(r"^[A-Za-z0-9_.@-]+$", message=_l("Use letters, digits and _ . @ - only.")),
        ],
    )
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="staff")
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(min=10, message=AT_LEAST_10)]
    )
    submit = SubmitField(_l("Create user"))

    def validate_username(self, field):
        if db.session.scalar(db.select(User).filter_by(username=field.data)):
            raise ValidationError(_("That username is taken."))


class UserEditForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    active = BooleanField(_l("Active"))
    password = PasswordField(
        _l("New password"), validators=[Optional(), Length(min=10, message=AT_LEAST_10)]
    )
    revoke_tokens = BooleanField(_l("With a new password, also revoke the user's API tokens"),
                                 default=True)  # deactivating always revokes them
    submit = SubmitField(_l("Save"))
