"""The "after a click" settings of an interactive card; the rules live in after_click.check."""
import json

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (FieldList, Form, FormField, HiddenField, RadioField, SelectField, StringField,
                     SubmitField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from .after_click import INTERACTIVE, MAX_CAPTION, MODES, OPTION_CAPTION, AfterClickError, check, menu_items


DESIGNER_PREFIX = "after_click"


MENU_MODES = {"none": _l("Nothing (the card stays as it is)"),
              "button": _l("Grey out the button with a caption"),
              "card": _l("Replace the picker's card")}


class MenuAnswerForm(Form):
    """What one item of the card's top-right menu answers when picked."""

    key = HiddenField()
    text = HiddenField()
    mode = SelectField(_l("When picked"), default="none",
                       choices=[SelectChoice(key, label) for key, label in MENU_MODES.items()])
    replace_name = StringField(_l("Caption"), validators=[Optional(), Length(max=MAX_CAPTION)])
    card = TextAreaField(_l("Replacement card (JSON)"), validators=[Optional(), Length(max=20000)])


def _card_json(card: dict | None) -> str:
    return json.dumps(card, ensure_ascii=False, indent=2) if card else ""


def _parsed_card(field) -> tuple[dict | None, bool]:
    """The JSON in a card field (None when empty), and False with the error at the field."""
    if not (field.data or "").strip():
        return None, True
    try:
        return json.loads(field.data), True
    except json.JSONDecodeError as exc:
        field.errors = [*field.errors, _("Line %(line)s, column %(column)s: %(message)s.",
                                         line=exc.lineno, column=exc.colno, message=exc.msg)]
        return None, False


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
    menu = FieldList(FormField(MenuAnswerForm))
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
        answers = config.get("menu") or {}
        menu = [{"key": item["key"], "text": item.get("text") or item["key"],
                 "mode": answers.get(item["key"], {}).get("mode", "none"),
                 "replace_name": answers.get(item["key"], {}).get("replace_name", ""),
                 "card": _card_json(answers.get(item["key"], {}).get("card"))}
                for item in menu_items(template_card)]
        data = {"mode": config.get("mode", "none"), "replace_name": config.get("replace_name", ""),
                "card": _card_json(config.get("card")), "menu": menu}
        return cls(template_card=template_card, data=data, **kwargs)

    @property
    def clickable(self) -> bool:
        """Whether the card itself calls back when clicked (else only its menu answers)."""
        return self.template_card.get("card_type") in INTERACTIVE

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        card, ok = _parsed_card(self.card)
        menu = {}
        for entry in self.menu:
            item_card, item_ok = _parsed_card(entry.form.card)
            ok = ok and item_ok
            menu[entry.form.key.data] = {"mode": entry.form.mode.data, "card": item_card,
                                         "replace_name": entry.form.replace_name.data}
        if not ok:
            return False
        data = {"mode": self.mode.data, "replace_name": self.replace_name.data, "card": card, "menu": menu}
        try:
            check(data, self.template_card)
        except AfterClickError as exc:
            self._field_of(exc).errors.append(str(exc))
            return False
        self.settings = data
        return True

    def _field_of(self, exc: AfterClickError):
        """The field an error belongs to: the card's own, or one menu item's."""
        for entry in self.menu if exc.menu_key is not None else ():
            if entry.form.key.data == exc.menu_key:
                return getattr(entry.form, exc.field)
        return getattr(self, exc.field if exc.field in ("mode", "replace_name", "card") else "mode")


def after_click_form(template_card: dict, settings: dict | None) -> "AfterClickForm | None":
    """The designer's after-click fields for an interactive card or a card with a menu, named
    "after_click-…" inside its one form (whose CSRF token covers them); None for cards nobody clicks."""
    if template_card.get("card_type") not in INTERACTIVE and not menu_items(template_card):
        return None
    return AfterClickForm.for_settings(template_card, settings, prefix=DESIGNER_PREFIX,
                                       meta={"csrf": False})


class ClosePollForm(FlaskForm):
    submit = SubmitField(_l("Close the poll"))
