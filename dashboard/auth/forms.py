import re

from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, RadioField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length, Optional, Regexp, ValidationError

from ..extensions import db
from ..i18n import LANGUAGES
from ..models import ROLES, DirectoryDepartment, DirectoryTag, DirectoryUser, User

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
    wecom_userid = StringField(_l("WeCom userid"), validators=[Optional(), Length(max=64)],
                               description=_l("Their account in WeCom's directory, or their name there: "
                                              "they sign in with WeCom as this user."))
    password = PasswordField(
        _l("Password"), validators=[Optional(), Length(min=10, message=AT_LEAST_10)],
        description=_l("Leave empty for a user who signs in with WeCom only."))
    submit = SubmitField(_l("Create user"))

    def validate_username(self, field):
        if db.session.scalar(db.select(User).filter_by(username=field.data)):
            raise ValidationError(_("That username is taken."))

    def validate_wecom_userid(self, field):
        field.data = linkable_userid(field.data)

    def validate(self, extra_validators=None) -> bool:
        """A password, or a WeCom userid to sign in with (or both)."""
        if not super().validate(extra_validators):
            return False
        if not self.password.data and not self.wecom_userid.data:
            self.password.errors.append(_("Give a password, or a WeCom userid for a user who signs in "
                                          "with WeCom only."))
            return False
        return True


class UserEditForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    active = BooleanField(_l("Active"))
    wecom_userid = StringField(_l("WeCom userid"), validators=[Optional(), Length(max=64)],
                               description=_l("The WeCom member who signs in as this user; empty: nobody."))
    password_login = BooleanField(_l("Password sign-in"),
                                  description=_l("Off: this user signs in with WeCom only (given a WeCom userid)."))
    may_approve = BooleanField(_l("May approve big sends"),
                               description=_l("As admins do: approves other people's sends that need a "
                                              "second person (given a WeCom userid, for the card)."))
    password = PasswordField(
        _l("New password"), validators=[Optional(), Length(min=10, message=AT_LEAST_10)]
    )
    revoke_tokens = BooleanField(_l("With a new password, also revoke the user's API tokens"),
                                 default=True)  # deactivating always revokes them
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, obj=user, **kwargs)
        self.user = user

    def validate_wecom_userid(self, field):
        field.data = linkable_userid(field.data, user=self.user)

    @property
    def password_login_wanted(self) -> bool:
        """Password sign-in stays on for a user without a WeCom userid: else nothing signs them in."""
        return self.password_login.data or not self.wecom_userid.data


def linkable_userid(value: str | None, *, user: User | None = None) -> str | None:
    """A WeCom userid a user may be linked to (as the account page checks it), that no other user
    has: one WeCom member signs in as one user. None for an empty value."""
    value = (value or "").strip()
    if not value:
        return None
    value = checked_userid(value)
    others = db.select(User.id).where(db.func.lower(User.wecom_userid) == value.lower())
    if user is not None:
        others = others.where(User.id != user.id)
    if db.session.scalar(others.limit(1)) is not None:
        raise ValidationError(_("Another user is linked to the WeCom member “%(id)s”.", id=value))
    return value


class GrantForm(FlaskForm):
    """A role for everyone in a WeCom department (and below it) or with a WeCom tag."""

    kind = RadioField(_l("Who"), choices=[SelectChoice("department", _l("Everyone in a department")),
                                          SelectChoice("tag", _l("Everyone with a tag"))], default="department")
    target = StringField(_l("Department or tag"), validators=[DataRequired(), Length(max=64)],
                         description=_l("Its name in the directory, or its ID."))
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="staff")
    submit = SubmitField(_l("Grant"))

    def validate_target(self, field):
        """The department's or tag's id, from its id or its name in the cached directory."""
        model = DirectoryDepartment if self.kind.data == "department" else DirectoryTag
        value = field.data.strip()
        if value.isdigit():
            known = db.session.scalar(db.select(model.id).filter_by(id=int(value)))
            if known is None and directory_is_read():
                raise ValidationError(_("No department or tag %(id)s in the directory.", id=value))
            field.data = int(value)
            return
        named = db.session.scalars(db.select(model.id).filter_by(name=value).limit(2)).all()
        if len(named) != 1:
            raise ValidationError(_("No department or tag is called “%(name)s” in the directory.", name=value)
                                  if not named else _("Several have this name: give the ID."))
        field.data = named[0]


class PasswordChangeForm(FlaskForm):
    """The account page's "change my password": the current one first (a borrowed session cannot
    take the account over), the new one twice."""

    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=256)])
    password = PasswordField(_l("New password"), validators=[
        DataRequired(), Length(min=10, message=AT_LEAST_10), Length(max=256)])
    confirm = PasswordField(_l("New password, again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two new passwords differ."))])
    revoke_tokens = BooleanField(_l("Also revoke my API tokens"), default=True,
                                 description=_l("Your sign-ins elsewhere end either way."))
    submit = SubmitField(_l("Change password"))


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


class NoticesForm(FlaskForm):
    """The account page's "notices in WeCom" switch."""

    wecom_notices = BooleanField(_l("Tell me in WeCom when my campaigns finish, start on schedule, or are approved or rejected"))
    submit = SubmitField(_l("Save"))


class WeComUseridForm(FlaskForm):
    """The account page's "my WeCom userid": checked against the directory once it was read."""

    wecom_userid = StringField(
        _l("My WeCom userid"), validators=[Optional(), Length(max=64)],
        description=_l("Your account (账号) in WeCom's directory, or your name there; test sends "
                       "go to it unless you choose other people."))
    next = HiddenField()
    submit = SubmitField(_l("Save"))

    def validate_wecom_userid(self, field):
        field.data = linkable_userid(field.data, user=current_user._get_current_object())

    def validate(self, extra_validators=None) -> bool:
        """A user who signs in with WeCom only (no password sign-in, or let in by a grant) keeps
        the link an admin or the grant made: changing it would lock them out."""
        if not super().validate(extra_validators):
            return False
        wecom_only = not current_user.password_login or current_user.granted_by_id is not None
        if wecom_only and ((self.wecom_userid.data or "").strip() or None) != current_user.wecom_userid:
            self.wecom_userid.errors.append(_("You sign in with this WeCom account: only an admin changes it."))
            return False
        return True


def checked_userid(value: str) -> str:
    """A well-formed userid while the directory was never read, else the directory's userid for a
    userid or name (directory_member); ValidationError otherwise."""
    if not directory_is_read():  # nothing to look up yet: take a well-formed userid as it is
        if not USERID.fullmatch(value):
            raise ValidationError(_("A WeCom userid uses letters, digits and _ . @ - only, "
                                    "starting with a letter or digit."))
        return value
    if (found := directory_member(value)) is None:
        raise ValidationError(_("No member “%(id)s” in the directory.", id=value))
    return found
