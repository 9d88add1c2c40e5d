"""Designer input: the JSON arrives as text and is parsed here; the card rules stay in wecom/cards.py."""
import json

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..wecom.cards import CARD_TYPES
from .spec import TYPE_LABELS


def parse_json(text) -> dict:
    """A JSON object from text (already-parsed objects pass); ValidationError says where it broke."""
    if isinstance(text, dict):
        return text
    try:
        value = json.loads(text or "")
    except json.JSONDecodeError as exc:
        raise ValidationError(_("Line %(line)s, column %(column)s: %(error)s. Fix the JSON and try "
                                "again.", line=exc.lineno, column=exc.colno, error=exc.msg)) from None
    if not isinstance(value, dict):
        raise ValidationError(_("Expected a JSON object ({...}), not a %(type)s. Paste the card "
                                "object.", type=type(value).__name__))
    return value


def extract_card(obj: dict) -> tuple[dict, list[str]]:
    """The template_card inside a pasted object (a card, a message/send or update body) and notes."""
    notes = []
    if isinstance(obj.get("template_card"), dict):
        obj = obj["template_card"]
        notes.append(_("Took the template_card from the pasted message body; recipients and "
                       "agentid are chosen when you send."))
    elif "card_type" not in obj:
        raise ValidationError(_("No card_type found at the top level (path: card_type). Paste a "
                                "template_card object or a whole message/send body."))
    if "task_id" in obj:
        obj = {k: v for k, v in obj.items() if k != "task_id"}
        notes.append(_("Removed task_id: the sender assigns a fresh one to every send."))
    if obj.get("card_type") not in CARD_TYPES:
        raise ValidationError(_("card_type: “%(value)s” is not a card type. Use one of %(types)s.",
                                value=obj.get("card_type"), types=", ".join(CARD_TYPES)))
    return obj, notes


class CardForm(FlaskForm):
    """Save: any parseable card is accepted (drafts may have problems; those block campaigns)."""

    name = StringField(_l("Card name"), validators=[DataRequired(), Length(max=120)])
    template_card = TextAreaField(_l("Card JSON"), validators=[DataRequired()])
    submit = SubmitField(_l("Save"))

    def validate_template_card(self, field):
        self.card = parse_json(field.data)
        if self.card.get("card_type") not in CARD_TYPES:
            raise ValidationError(_("card_type must be one of %(types)s.",
                                    types=", ".join(CARD_TYPES)))


class PreviewForm(FlaskForm):
    """The designer's live preview and autosave: the card JSON, optionally the name."""

    template_card = TextAreaField(validators=[DataRequired()])
    name = StringField(validators=[Optional(), Length(max=120)])

    def validate_template_card(self, field):
        self.card = parse_json(field.data)


class ImportForm(FlaskForm):
    text = TextAreaField(_l("Paste JSON"), validators=[DataRequired()])

    def validate_text(self, field):
        self.card, self.notes = extract_card(parse_json(field.data))


class NewCardForm(FlaskForm):
    """Start a blank card of a type (a starter card opens as an unsaved copy instead)."""

    card_type = HiddenField(validators=[DataRequired()])

    def validate_card_type(self, field):
        if field.data not in CARD_TYPES:
            raise ValidationError(_("Unknown card type."))


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter

    q = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    type = SelectField(_l("Type"), choices=[SelectChoice("", _l("All types"))] + [
        SelectChoice(t, TYPE_LABELS[t][0]) for t in CARD_TYPES], validators=[Optional()])
    archived = SelectField(_l("Show"), choices=[SelectChoice("", _l("Active cards")),
                                                SelectChoice("1", _l("Archived cards"))],
                           validators=[Optional()])
