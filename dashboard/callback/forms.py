"""The "after a click" settings of an interactive card; the rules live in after_click.check."""
import json

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from .after_click import INTERACTIVE, MAX_CAPTION, MODES, OPTION_CAPTION, AfterClickError, check


DESIGNER_PREFIX = "after_click"


class AfterClickForm(FlaskForm):
    """Also embedded in the designer's one form (prefix "after_click", the designer's CSRF token)."""

    mode = RadioField(_l("What the clicker sees"), default="button",
                      choices=[SelectChoice(key, label) for key, label in MODES.items()])
    replace_name = StringField(
        _l("Caption"), default=OPTION_CAPTION, validators=[Optional(), Length(max=MAX_CAPTION)],
        description=_l("Shown on the greyed-out button. {option} becomes the chosen options, "
                       "e.g. 已选择：{option}. Empty in card mode: 已提交."))
    card = TextAreaField(
        _l("Replacement card (JSON, optional)"), validators=[Optional(), Length(max=20000)],
        description=_l("Leave empty to show the same card with its options disabled and the "
                       "clicker's choices checked."))
    submit = SubmitField(_l("Save after-click settings"))

    def __init__(self, *args, template_card: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.template_card = template_card
        self.settings: dict | None = None  # the checked settings, after validate()

    @classmethod
    def for_version(cls, version, **kwargs) -> "AfterClickForm":
        """The form filled in with the version's current settings."""
        return cls.for_settings(version.template_card, version.after_click, **kwargs)

    @classmethod
    def for_settings(cls, template_card: dict, settings: dict | None, **kwargs) -> "AfterClickForm":
        """The form filled in with these settings (None: reply nothing, as such versions do);
        posted values win."""
        config = settings or {}
        card = config.get("card")
        data = {"mode": config.get("mode", "none"), "replace_name": config.get("replace_name", ""),
                "card": json.dumps(card, ensure_ascii=False, indent=2) if card else ""}
        return cls(template_card=template_card, data=data, **kwargs)

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        card = None
        if (self.card.data or "").strip():
            try:
                card = json.loads(self.card.data)
            except json.JSONDecodeError as exc:
                self.card.errors.append(_("Line %(line)s, column %(column)s: %(message)s.",
                                          line=exc.lineno, column=exc.colno, message=exc.msg))
                return False
        data = {"mode": self.mode.data, "replace_name": self.replace_name.data, "card": card}
        try:
            check(data, self.template_card)
        except AfterClickError as exc:
            getattr(self, exc.field).errors.append(str(exc))
            return False
        self.settings = data
        return True


def after_click_form(template_card: dict, settings: dict | None) -> "AfterClickForm | None":
    """The designer's after-click fields for an interactive card, named "after_click-…" inside its
    one form (whose CSRF token covers them); None for cards nobody clicks."""
    if template_card.get("card_type") not in INTERACTIVE:
        return None
    return AfterClickForm.for_settings(template_card, settings, prefix=DESIGNER_PREFIX,
                                       meta={"csrf": False})


class ClosePollForm(FlaskForm):
    submit = SubmitField(_l("Close the poll"))
