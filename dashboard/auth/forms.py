from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional, Regexp, ValidationError

from ..extensions import db
from ..i18n import LANGUAGES
from ..models import ROLES, User

ROLE_CHOICES = [SelectChoice(role, role.title()) for role in ROLES]


class LanguageForm(FlaskForm):
    """The language switcher in the navigation bar and on the login page."""

    language = HiddenField(validators=[DataRequired(), AnyOf(list(LANGUAGES))])
    next = HiddenField()


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])
    remember = BooleanField("Keep me signed in")
    submit = SubmitField("Sign in")


class UserCreateForm(FlaskForm):
    username = StringField(
        "Username",
        validators=[
            DataRequired(), Length(max=64),
            Regexp(r"^[A-Za-z0-9_.@-]+$", message="Use letters, digits and _ . @ - only."),
        ],
    )
    role = SelectField("Role", choices=ROLE_CHOICES, default="staff")
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(min=10, message="At least 10 characters.")]
    )
    submit = SubmitField("Create user")

    def validate_username(self, field):
        if db.session.scalar(db.select(User).filter_by(username=field.data)):
            raise ValidationError("That username is taken.")


class UserEditForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)
    active = BooleanField("Active")
    password = PasswordField(
        "New password", validators=[Optional(), Length(min=10, message="At least 10 characters.")]
    )
    submit = SubmitField("Save")
