"""Designer input: the JSON arrives as text and is parsed here; the card rules stay in wecom/cards.py."""
import json

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..wecom.cards import CARD_TYPES
from .gallery import starters
from .spec import TYPE_LABELS


def parse_json(text) -> dict:
    """A JSON object from text (already-parsed objects pass); ValidationError says where it broke."""
    if isinstance(text, dict):
        return text
    try:
        value = json.loads(text or "")
    except json.JSONDecodeError as exc:
        raise ValidationError(f"Line {exc.lineno}, column {exc.colno}: {exc.msg}. "
                              "Fix the JSON and try again.") from None
    if not isinstance(value, dict):
        raise ValidationError("Expected a JSON object ({...}), not a "
                              f"{type(value).__name__}. Paste the card object.")
    return value


def extract_card(obj: dict) -> tuple[dict, list[str]]:
    """The template_card inside a pasted object (a card, a message/send or update body) and notes."""
    notes = []
    if isinstance(obj.get("template_card"), dict):
        obj = obj["template_card"]
        notes.append("Took the template_card from the pasted message body; recipients and agentid "
                     "are chosen when you send.")
    elif "card_type" not in obj:
        raise ValidationError("No card_type found at the top level (path: card_type). Paste a "
                              "template_card object or a whole message/send body.")
    if "task_id" in obj:
        obj = {k: v for k, v in obj.items() if k != "task_id"}
        notes.append("Removed task_id: the sender assigns a fresh one to every send.")
    if obj.get("card_type") not in CARD_TYPES:
        raise ValidationError(f"card_type: “{obj.get('card_type')}” is not a card type. Use one of "
                              f"{', '.join(CARD_TYPES)}.")
    return obj, notes


class CardForm(FlaskForm):
    """Save: any parseable card is accepted (drafts may have problems; those block campaigns)."""

    name = StringField("Card name", validators=[DataRequired(), Length(max=120)])
    template_card = TextAreaField("Card JSON", validators=[DataRequired()])
    submit = SubmitField("Save")

    def validate_template_card(self, field):
        self.card = parse_json(field.data)
        if self.card.get("card_type") not in CARD_TYPES:
            raise ValidationError(f"card_type must be one of {', '.join(CARD_TYPES)}.")


class PreviewForm(FlaskForm):
    """The designer's live preview and autosave: the card JSON, optionally the name."""

    template_card = TextAreaField(validators=[DataRequired()])
    name = StringField(validators=[Optional(), Length(max=120)])

    def validate_template_card(self, field):
        self.card = parse_json(field.data)


class ImportForm(FlaskForm):
    text = TextAreaField("Paste JSON", validators=[DataRequired()])

    def validate_text(self, field):
        self.card, self.notes = extract_card(parse_json(field.data))


class NewCardForm(FlaskForm):
    """Start a card from a blank type or from a starter card of the gallery."""

    card_type = HiddenField(validators=[Optional()])
    starter = HiddenField(validators=[Optional()])

    def validate(self, extra_validators=None):
        if not super().validate(extra_validators):
            return False
        if bool(self.card_type.data) == bool(self.starter.data):
            self.card_type.errors.append("Choose a card type or a starter card.")
            return False
        if self.card_type.data and self.card_type.data not in CARD_TYPES:
            self.card_type.errors.append("Unknown card type.")
            return False
        if self.starter.data and self.starter.data not in starters():
            self.starter.errors.append("Unknown starter card.")
            return False
        return True


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter

    q = StringField("Name", validators=[Optional(), Length(max=120)])
    type = SelectField("Type", choices=[SelectChoice("", "All types")] + [
        SelectChoice(t, TYPE_LABELS[t][0]) for t in CARD_TYPES], validators=[Optional()])
    archived = SelectField("Show", choices=[SelectChoice("", "Active cards"),
                                            SelectChoice("1", "Archived cards")],
                           validators=[Optional()])
