from datetime import timezone
from zoneinfo import ZoneInfo, available_timezones

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileSize
from wtforms import (BooleanField, DateTimeLocalField, IntegerField, RadioField,
                     SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..extensions import db
from ..models import Audience, Campaign, CardVersion, utcnow
from ..directory import snapshot
from . import queries
from .recipients import Parsed, merge, normalize, parse_csv, parse_pasted, unknown_users

COMMON_ZONES = (
    "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo",
    "Asia/Seoul", "Asia/Kolkata", "Asia/Dubai", "Europe/London", "Europe/Paris",
    "Europe/Berlin", "America/New_York", "America/Chicago", "America/Los_Angeles",
    "Australia/Sydney", "UTC",
)
SHOWN_ERRORS = 20
CHECKBOXES = {"widget": ListWidget(prefix_label=False), "option_widget": CheckboxInput()}


def _flag_all(field, problems: list[str]) -> None:
    """Every problem at the field (the last one raised), at most SHOWN_ERRORS of them."""
    shown = problems[:SHOWN_ERRORS]
    if len(problems) > SHOWN_ERRORS:
        shown.append(_("… and %(n)s more.", n=len(problems) - SHOWN_ERRORS))
    field.errors.extend(shown[:-1])
    raise ValidationError(shown[-1])


def _audience_choices() -> list[SelectChoice]:
    audiences = db.session.scalars(db.select(Audience).order_by(Audience.name))
    return [SelectChoice("", "—")] + [SelectChoice(str(a.id), a.name) for a in audiences]


def _audience_spec(audience_id) -> dict:
    audience = db.session.get(Audience, int(audience_id)) if audience_id else None
    return audience.recipients if audience else {}


class CampaignForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)],
                          render_kw={"rows": 3})
    card_version = SelectField(_l("Card"), coerce=int)
    enable_duplicate_check = BooleanField(_l("Duplicate check (recommended)"), default=True)
    duplicate_check_interval = IntegerField(
        _l("Duplicate-check interval, seconds"), default=1800,
        validators=[DataRequired(), NumberRange(1, 14400, _l("Between 1 and 14400 seconds (4 hours)."))])
    enable_id_trans = BooleanField(_l("ID translation (third-party apps only)"))
    privacy = RadioField(_l("Answers in reports"), default="named", choices=[
        SelectChoice("named", _l("Named: managers see who answered what")),
        SelectChoice("aggregate", _l("Aggregates only: counts, never names"))])
    when = RadioField(_l("When"), default="now", choices=[
        SelectChoice("now", _l("As soon as I confirm on the check page")),
        SelectChoice("later", _l("At a time I choose"))])
    send_at = DateTimeLocalField(_l("Date and time"), validators=[Optional()])
    timezone = SelectField(_l("Time zone"))
    submit = SubmitField(_l("Save and choose recipients"))

    def __init__(self, *args, current: CardVersion | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        versions = queries.usable_card_versions()
        if current is not None and current not in versions:
            versions.insert(0, current)
        self.card_version.choices = [
            SelectChoice(str(v.id), f"{v.card.name} · v{v.number} ({v.card.card_type})")
            for v in versions]
        zones = dict.fromkeys((current_app.config["TIMEZONE"], *COMMON_ZONES))
        self.timezone.choices = [SelectChoice(z, z.replace("_", " ")) for z in zones]

    @classmethod
    def for_campaign(cls, campaign: Campaign) -> "CampaignForm":
        local = campaign.send_at.astimezone(ZoneInfo(campaign.timezone)) if campaign.send_at else None
        options = campaign.options or {}
        return cls(current=campaign.card_version, data={
            "name": campaign.name, "notes": campaign.notes, "timezone": campaign.timezone,
            "card_version": campaign.card_version_id, "when": "later" if local else "now",
            "send_at": local.replace(tzinfo=None) if local else None,
            "enable_duplicate_check": options.get("enable_duplicate_check", True),
            "duplicate_check_interval": options.get("duplicate_check_interval", 1800),
            "enable_id_trans": options.get("enable_id_trans", False), "privacy": campaign.privacy})

    def validate_timezone(self, field):
        if field.data not in available_timezones():
            raise ValidationError(_("Not a time zone this server knows."))

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.when.data == "later" and not self.send_at.data:
            self.send_at.errors.append(_("Choose the date and time to send."))
        elif self.when.data == "later" and self.send_at_utc() <= utcnow():
            self.send_at.errors.append(_("That time has passed; choose a time in the future."))
        return not self.send_at.errors

    def send_at_utc(self):
        if self.when.data != "later" or not self.send_at.data:
            return None
        return self.send_at.data.replace(tzinfo=ZoneInfo(self.timezone.data)).astimezone(timezone.utc)

    def campaign_fields(self) -> dict:
        """The keyword arguments of service.create_campaign / update_campaign."""
        return {
            "name": self.name.data.strip(), "notes": (self.notes.data or "").strip(),
            "card_version": db.session.get(CardVersion, self.card_version.data),
            "timezone": self.timezone.data, "send_at": self.send_at_utc(), "privacy": self.privacy.data,
            "options": {"enable_duplicate_check": self.enable_duplicate_check.data,
                        "duplicate_check_interval": self.duplicate_check_interval.data,
                        "enable_id_trans": self.enable_id_trans.data},
        }


class RecipientsForm(FlaskForm):
    everyone = BooleanField(_l("Everyone in the app's visible range (@all)"))
    confirm_everyone = BooleanField(_l("Yes, send this campaign to everyone"))
    departments = SelectMultipleField(_l("Departments"), coerce=int, **CHECKBOXES)
    tags = SelectMultipleField(_l("Tags"), coerce=int, **CHECKBOXES)
    users = SelectMultipleField(_l("People"))
    pasted = TextAreaField(_l("Paste user ids"),
                           render_kw={"rows": 4, "placeholder": "lisi\nwangwu, zhaoliu | zhangsan"})
    upload = FileField(_l("Or upload a CSV"), validators=[FileSize(4 * 1024 * 1024)])
    audience = SelectField(_l("Add a saved audience"), default="")
    exclude_departments = SelectMultipleField(_l("Exclude departments"), coerce=int)
    exclude_tags = SelectMultipleField(_l("Exclude tags"), coerce=int)
    exclude_users = TextAreaField(_l("Exclude user ids"), render_kw={"rows": 2})
    save_as = StringField(_l("Also save this selection as an audience named"),
                          validators=[Optional(), Length(max=120)])
    submit = SubmitField(_l("Save and check"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        departments = [SelectChoice(str(d.id), "\u2003" * depth + d.name)
                       for d, depth in snapshot.department_tree()]
        tags = [SelectChoice(str(t.id), t.name) for t in snapshot.tags()]
        self.departments.choices = self.exclude_departments.choices = departments
        self.tags.choices = self.exclude_tags.choices = tags
        self.users.choices = [SelectChoice(u.userid, f"{u.name} ({u.userid})")
                              for u in snapshot.users()]
        self.audience.choices = _audience_choices()
        self.uploaded = Parsed()

    @classmethod
    def for_spec(cls, spec: dict) -> "RecipientsForm":
        """Directory people in the picker, other user ids in the paste box."""
        spec = normalize(spec)
        unknown = set(unknown_users(spec, snapshot.load()))
        return cls(data={
            "everyone": spec["all"], "confirm_everyone": spec["all"],
            "departments": spec["departments"], "tags": spec["tags"],
            "users": [u for u in spec["users"] if u not in unknown],
            "pasted": "\n".join(u for u in spec["users"] if u in unknown),
            "exclude_departments": spec["exclude"]["departments"],
            "exclude_tags": spec["exclude"]["tags"],
            "exclude_users": "\n".join(spec["exclude"]["users"])})

    def validate_pasted(self, field):
        if problems := parse_pasted(field.data).errors:
            _flag_all(field, problems)

    def validate_exclude_users(self, field):
        if problems := parse_pasted(field.data).errors:
            _flag_all(field, problems)

    def validate_upload(self, field):
        if field.data and field.data.filename:
            self.uploaded = parse_csv(field.data.read())
            if self.uploaded.errors:
                _flag_all(field, self.uploaded.errors)

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.everyone.data and not self.confirm_everyone.data:
            self.confirm_everyone.errors.append(_("Confirm that everyone should get this campaign."))
            return False
        if not (self.everyone.data or self.departments.data or self.tags.data or self.users.data
                or parse_pasted(self.pasted.data).userids or self.uploaded.userids
                or self.audience.data):
            self.users.errors.append(_("Choose at least one recipient."))
            return False
        return True

    def spec(self) -> dict:
        chosen = {
            "all": self.everyone.data, "departments": self.departments.data,
            "tags": self.tags.data,
            "users": self.users.data + parse_pasted(self.pasted.data).userids + self.uploaded.userids,
            "exclude": {"departments": self.exclude_departments.data,
                        "tags": self.exclude_tags.data,
                        "users": parse_pasted(self.exclude_users.data).userids}}
        return merge(chosen, _audience_spec(self.audience.data))


class TestSendForm(FlaskForm):
    userids = StringField(_l("WeCom user ids"), description=_l("Comma-separated; at most 50 people."))
    audience = SelectField(_l("Or a test group (saved audience)"), default="")
    submit = SubmitField(_l("Send a test"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.audience.choices = _audience_choices()

    def validate_userids(self, field):
        if problems := parse_pasted(field.data).errors:
            _flag_all(field, problems)
        if not (parse_pasted(field.data).userids or self.audience.data):
            raise ValidationError(_("Give at least one user id, or choose a test group."))

    def recipients(self) -> dict:
        return merge({"users": parse_pasted(self.userids.data).userids},
                     _audience_spec(self.audience.data))

