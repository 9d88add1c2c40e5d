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

from ..auth.forms import directory_is_read, directory_member
from ..extensions import db
from ..models import Audience, Campaign, CardVersion, utcnow
from ..directory import search, snapshot
from . import queries
from .recipients import (SEPARATORS, Parsed, from_values, merge, normalize, parse_csv, parse_pasted,
                         shortlist, to_values, unique)

COMMON_ZONES = (
    "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo",
    "Asia/Seoul", "Asia/Kolkata", "Asia/Dubai", "Europe/London", "Europe/Paris",
    "Europe/Berlin", "America/New_York", "America/Chicago", "America/Los_Angeles",
    "Australia/Sydney", "UTC",
)


def _flag_all(field, problems: list[str]) -> None:
    """Every problem at the field (the last one raised), the first 20 of them."""
    shown = shortlist(problems)
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
    card_version = SelectField(_l("Card"), coerce=lambda value: int(value) if value not in ("", None) else None)
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
        # A new campaign starts on no card: an earlier card preselected gets sent by mistake.
        self.card_version.choices = [SelectChoice("", _("— choose a card —"))] + [
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

    def validate_card_version(self, field):
        if field.data is None:
            raise ValidationError(_("Choose the card to send."))

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
    chosen = SelectMultipleField(_l("People, departments and tags"), validate_choice=False)
    pasted = TextAreaField(_l("Paste user ids or names"),
                           render_kw={"rows": 4, "placeholder": "lisi\nwangwu, 张三 | zhaoliu"})
    upload = FileField(_l("Or upload a CSV"), validators=[FileSize(4 * 1024 * 1024)])
    audience = SelectField(_l("Add a saved audience"), default="")
    excluded = SelectMultipleField(_l("Leave out"), validate_choice=False)
    save_as = StringField(_l("Also save this selection as an audience named"),
                          validators=[Optional(), Length(max=120)])
    submit = SubmitField(_l("Save and check"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.audience.choices = _audience_choices()
        self.imported: list[str] = []  # user ids kept from the pasted text and the file
        self.left_out: list[str] = []  # the lines of them that were not kept

    @classmethod
    def for_spec(cls, spec: dict) -> "RecipientsForm":
        spec = normalize(spec)
        return cls(data={"everyone": spec["all"], "confirm_everyone": spec["all"],
                         "chosen": to_values(spec), "excluded": to_values(spec["exclude"])})

    def validate_chosen(self, field):
        try:
            from_values(field.data)
        except ValueError:
            raise ValidationError(_("Choose people, departments and tags from the list.")) from None

    validate_excluded = validate_chosen

    def validate_pasted(self, field):
        if field.data:
            self._import(field, parse_pasted(field.data, snapshot.names()))

    def validate_upload(self, field):
        if field.data and field.data.filename:
            self._import(field, parse_csv(field.data.read(), snapshot.names()))

    def _import(self, field, parsed: Parsed) -> None:
        """Keep the good lines; the others are left out, or block the form when none is good."""
        self.imported += parsed.userids
        if parsed.userids:
            self.left_out += parsed.problems()
        elif problems := parsed.problems():
            _flag_all(field, problems)

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.everyone.data and not self.confirm_everyone.data:
            self.confirm_everyone.errors.append(_("Confirm that everyone should get this campaign."))
            return False
        if not (self.everyone.data or self.chosen.data or self.imported or self.audience.data):
            self.chosen.errors.append(_("Choose at least one recipient."))
            return False
        return True

    def keep_imported(self) -> None:
        """A form shown again keeps what its file and text gave as chosen people (a browser
        does not keep the chosen file)."""
        self.chosen.data = unique([*(self.chosen.data or []), *to_values({"users": self.imported})])

    def read_import(self) -> Parsed:
        """What the posted file (or else the pasted text) holds, read without saving anything."""
        names, upload = snapshot.names(), self.upload.data
        if upload and getattr(upload, "filename", None):
            return parse_csv(upload.read(), names)
        return parse_pasted(self.pasted.data or "", names)

    def chosen_items(self) -> list[dict]:
        return search.items(self.chosen.data or [])

    def excluded_items(self) -> list[dict]:
        return search.items(self.excluded.data or [])

    def spec(self) -> dict:
        chosen = from_values(self.chosen.data)
        chosen["users"] += self.imported
        chosen.update({"all": self.everyone.data, "exclude": from_values(self.excluded.data)})
        return merge(chosen, _audience_spec(self.audience.data))


class TestSendForm(FlaskForm):
    userids = StringField(_l("WeCom user ids"),
                          description=_l("Comma-separated user ids or names; at most 50 people."))
    remember = BooleanField(_l("Remember it as mine"))
    audience = SelectField(_l("Or a test group (saved audience)"), default="")
    submit = SubmitField(_l("Send a test"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.audience.choices = _audience_choices()

    def validate_userids(self, field):
        """Names become userids; once the directory was read, an id it does not know is refused
        here, rather than sent to WeCom, which would only list it as invalid."""
        read = directory_is_read()
        items = [s.strip() for s in SEPARATORS.split(field.data or "") if s.strip()]
        field.data = ", ".join(directory_member(i) or i for i in items) if read else field.data
        parsed = parse_pasted(field.data)
        problems = parsed.errors + [_("No member “%(id)s” in the directory.", id=u)
                                    for u in parsed.userids if read and directory_member(u) is None]
        if problems:
            _flag_all(field, problems)
        if not (parsed.userids or self.audience.data):
            raise ValidationError(_("Give at least one user id, or choose a test group."))

    def recipients(self) -> dict:
        return merge({"users": parse_pasted(self.userids.data).userids},
                     _audience_spec(self.audience.data))

    def mine(self) -> str | None:
        """The one user id to remember as the user's own, when they asked to."""
        userids = parse_pasted(self.userids.data).userids
        return userids[0] if self.remember.data and len(userids) == 1 else None
