import re

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional, Regexp, ValidationError

from ..extensions import db
from ..i18n import LANGUAGES
from ..models import ROLES, DirectoryUser, User

# The roles as people read them; the values stored stay admin, staff, manager.
ROLE_LABELS = {"admin": _l("Admin"), "staff": _l("Staff"), "manager": _l("Manager")}
ROLE_CHOICES = [SelectChoice(role, ROLE_LABELS[role]) for role in ROLES]
AT_LEAST_10 = _l("At least 10 characters.")
USERID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")  # WeCom's rule for a userid


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


def directory_member(value: str) -> str | None:
    """The cached directory's userid for value: a userid in any case, or a name only one member
    has (张伟); None when nobody there goes by it. Read from the table, since the directory
    feature builds on this one."""
    found = db.session.scalar(db.select(DirectoryUser.userid).filter_by(userid=value)) or \
        db.session.scalar(db.select(DirectoryUser.userid).where(  # WeCom's userids ignore case
            db.func.lower(DirectoryUser.userid) == value.lower()).limit(1))
    named = db.session.scalars(db.select(DirectoryUser.userid).filter_by(name=value).limit(2)).all()
    return found or (named[0] if len(named) == 1 else None)


def directory_is_read() -> bool:
    return db.session.scalar(db.select(DirectoryUser.userid).limit(1)) is not None


class WeComUseridForm(FlaskForm):
    """The account page's "my WeCom userid": checked against the directory once it was read."""

    wecom_userid = StringField(
        _l("My WeCom userid"), validators=[Optional(), Length(max=64)],
        description=_l("Your account (账号) in WeCom's directory, or your name there; test sends "
                       "go to it unless you choose other people."))
    next = HiddenField()
    submit = SubmitField(_l("Save"))

    def validate_wecom_userid(self, field):
        value = field.data.strip()
        if not directory_is_read():  # nothing to look up yet: take a well-formed userid as it is
            if not USERID.fullmatch(value):
                raise ValidationError(_("A WeCom userid uses letters, digits and _ . @ - only, "
                                        "starting with a letter or digit."))
        elif (value := directory_member(value)) is None:
            raise ValidationError(_("No member “%(id)s” in the directory.", id=field.data.strip()))
        field.data = value
