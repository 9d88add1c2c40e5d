"""The reply rule editor's form: fixed rows of triggers, reply blocks and articles (the script
shows them one by one; without it every row is there and empty rows are left out), checked by
validation.rule_problems like the API, each problem shown at its field."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, FieldList, Form, FormField, IntegerField, RadioField, SelectField,
                     StringField, SubmitField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from ..cards.queries import library
from ..cards.service import card_problems
from ..extensions import db
from ..models import Card, ReplyRule
from .validation import LIMITS, rule_fields, rule_problems

MATCH_CHOICES = [SelectChoice("whole", _l("Whole message")), SelectChoice("contains", _l("Contains")),
                 SelectChoice("pattern", _l("Pattern (RE2)"))]
TYPE_CHOICES = [SelectChoice("text", _l("Text")), SelectChoice("news", _l("News (articles)")),
                SelectChoice("card", _l("A card"))]
_PATH = re.compile(r"([A-Za-z_]+)|\[(\d+)\]")


class TriggerForm(Form):
    match = SelectField(_l("Match"), choices=MATCH_CHOICES, default="whole")
    text = StringField(_l("Keyword or pattern"), render_kw={"maxlength": 200})


class ArticleForm(Form):
    title = StringField(_l("Title"), render_kw={"data-bytes": LIMITS["title"]})
    description = StringField(_l("Description"), render_kw={"data-bytes": LIMITS["description"]})
    url = StringField(_l("Link"), render_kw={"type": "url", "placeholder": "https://"})
    picurl = StringField(_l("Picture address"), render_kw={"type": "url", "placeholder": "https://"})


class ReplyForm(Form):
    type = SelectField(_l("Reply with"), choices=TYPE_CHOICES, default="text",
                       render_kw={"data-reply-type": ""})
    text = TextAreaField(_l("Text"), render_kw={"rows": 4, "data-bytes": LIMITS["text"]})
    articles = FieldList(FormField(ArticleForm), max_entries=LIMITS["articles"])
    card_id = SelectField(_l("Card"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        pad(self.articles)


def pad(rows: FieldList) -> None:
    """Empty rows up to the list's maximum. Not min_entries: WTForms pads with rows that read the
    submitted data again under shifted names (triggers-3 sent alone would fill two rows)."""
    while len(rows) < rows.max_entries:
        rows.append_entry()


class ActionForm(FlaskForm):
    """A button that changes a rule (delete, on/off): its CSRF token, and ``enabled`` for the switch."""

    enabled = BooleanField()


@dataclass
class Slots:
    """Which form row each item of the body came from (empty rows are left out of the body)."""

    triggers: list[int] = field(default_factory=list)
    replies: list[int] = field(default_factory=list)
    articles: dict[int, list[int]] = field(default_factory=dict)  # reply row -> its article rows


class RuleForm(FlaskForm):
    """One editor for the three kinds: keyword rules have triggers and a priority, the default
    reply and the welcome have neither."""

    name = StringField(_l("Name"), render_kw={"maxlength": LIMITS["name"]})
    enabled = BooleanField(_l("On"), default=True)
    priority = IntegerField(_l("Priority"), default=100, validators=[Optional()],
                            render_kw={"min": 0, "max": LIMITS["priority"]})
    reply_mode = RadioField(_l("Send"), default="all", choices=[
        SelectChoice("all", _l("Every reply, in this order")),
        SelectChoice("random", _l("One reply at random"))])
    triggers = FieldList(FormField(TriggerForm), max_entries=LIMITS["triggers"])
    replies = FieldList(FormField(ReplyForm), max_entries=LIMITS["replies"])
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, kind: str = "keyword", rule: ReplyRule | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind, self.rule_id = kind, rule.id if rule else None
        self.group_errors: dict[str, list[str]] = {}
        self.body: dict = {}
        pad(self.triggers)
        pad(self.replies)
        choices = card_choices(rule)
        for reply in self.replies:
            reply.form.card_id.choices = choices

    @classmethod
    def for_rule(cls, rule: ReplyRule | None, kind: str, *, name: str = "") -> RuleForm:
        """The form of ``rule`` (a new one when None), filled from it unless this is a submit."""
        if rule is None:
            return cls(kind=kind, data={"name": name})
        replies = [{**reply, "card_id": str(reply.get("card_id", ""))} for reply in rule.replies]
        return cls(kind=kind, rule=rule, data={
            "name": rule.name, "enabled": rule.enabled, "priority": rule.priority,
            "reply_mode": rule.reply_mode, "triggers": rule.triggers, "replies": replies})

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        self.body, slots = self._body()
        problems = rule_problems(self.body, rule_id=self.rule_id)
        for problem in problems:
            self._show(problem["path"], problem["message"], slots)
        return not problems

    def fields(self) -> dict:
        """What service.save_rule takes, once :meth:`validate` passed."""
        return rule_fields(self.body)

    def _body(self) -> tuple[dict, Slots]:
        slots = Slots()
        body = {"name": self.name.data or "", "kind": self.kind, "enabled": self.enabled.data,
                "reply_mode": self.reply_mode.data, "replies": []}
        if self.kind == "keyword":
            body["triggers"] = []
            if self.priority.data is not None:
                body["priority"] = self.priority.data
            for row, trigger in enumerate(self.triggers):
                if (trigger.form.text.data or "").strip():
                    body["triggers"].append({"match": trigger.form.match.data,
                                             "text": trigger.form.text.data})
                    slots.triggers.append(row)
        for row, reply in enumerate(self.replies):
            found = _reply(reply.form)
            if found is not None:
                body["replies"].append(found[0])
                slots.replies.append(row)
                slots.articles[row] = found[1]
        return body, slots

    def _show(self, path: str, message: str, slots: Slots) -> None:
        """A problem at its field, or above its group of rows when it is about the group."""
        parts = [name or int(index) for name, index in _PATH.findall(path)]
        target = self._field(parts, slots)
        if target is None:
            group = "-".join(str(part) for part in _group(parts, slots)) or "form"
            self.group_errors.setdefault(group, []).append(message)
        else:
            target.errors.append(message)

    def _field(self, parts: list, slots: Slots):
        if parts in (["name"], ["priority"], ["enabled"], ["reply_mode"]):
            return self[parts[0]]
        if len(parts) == 3 and parts[0] == "triggers":
            return self.triggers[slots.triggers[parts[1]]].form[parts[2]]
        if len(parts) == 3 and parts[0] == "replies" and parts[2] != "articles":
            return self.replies[slots.replies[parts[1]]].form[parts[2]]
        if len(parts) == 5 and parts[0] == "replies":
            row = slots.replies[parts[1]]
            return self.replies[row].form.articles[slots.articles[row][parts[3]]].form[parts[4]]
        return None


def _group(parts: list, slots: Slots) -> list:
    """The group a problem belongs to: ["triggers"], ["replies"], ["replies", row, "articles"]."""
    if parts[:1] == ["replies"] and len(parts) >= 3:
        return ["replies", slots.replies[parts[1]], "articles"]
    return parts[:1] if parts[:1] in (["triggers"], ["replies"]) else []


def _reply(form: ReplyForm) -> tuple[dict, list[int]] | None:
    """A reply block as the body's reply and its article rows; None when the block is empty."""
    if form.type.data == "news":
        rows = [(row, _article(article.form)) for row, article in enumerate(form.articles)]
        rows = [(row, article) for row, article in rows if article]
        return ({"type": "news", "articles": [article for _row, article in rows]},
                [row for row, _article_ in rows]) if rows else None
    if form.type.data == "card":
        card_id = form.card_id.data or ""
        if not card_id:
            return None
        return {"type": "card", "card_id": int(card_id) if card_id.isdecimal() else card_id}, []
    text = (form.text.data or "").replace("\r\n", "\n")  # browsers send a textarea's newlines as CRLF
    return ({"type": "text", "text": text}, []) if text.strip() else None


def _article(form: ArticleForm) -> dict:
    return {key: form[key].data for key in ("title", "description", "url", "picurl")
            if (form[key].data or "").strip()}


def card_choices(rule: ReplyRule | None) -> list[SelectChoice]:
    """The cards a reply can send (in the library, ready to send), and those the rule names already."""
    named = {reply.get("card_id") for reply in (rule.replies if rule else []) if reply.get("type") == "card"}
    cards = [card for card in db.session.scalars(library()) if not card_problems(card)]
    cards += db.session.scalars(db.select(Card).where(Card.id.in_(named - {card.id for card in cards}))).all()
    return [SelectChoice("", "—")] + [SelectChoice(str(card.id), f"{card.name} ({card.card_type})")
                                      for card in cards]
