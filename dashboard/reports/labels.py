"""The words a card shows for its keys: question titles, option texts, button and menu texts.

Reports count keys and ids (what WeCom sends back); people read texts. Pure functions of the
template_card dict, so they are tested without a database (outside a request the default titles
are English).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _


@dataclass
class Question:
    key: str
    title: str
    options: dict[str, str]  # option id -> text, in the card's order
    multiple: bool = False  # a checkbox in mode 1: one answer may choose several options


@dataclass
class CardLabels:
    questions: dict[str, Question] = field(default_factory=dict)
    buttons: dict[str, str] = field(default_factory=dict)  # callback key -> text
    menu: dict[str, str] = field(default_factory=dict)  # action_menu key -> text
    submit: str | None = None  # the submit_button key of a vote or multiple card

    def option(self, question_key: str, option_id: str) -> str:
        question = self.questions.get(question_key)
        return question.options.get(option_id, option_id) if question else option_id

    def question(self, question_key: str) -> str:
        question = self.questions.get(question_key)
        return question.title if question else question_key

    def button(self, key: str) -> str:
        return self.buttons.get(key, key)

    def answer(self, selected: dict[str, list[str]]) -> str:
        """'Title: text, text · Title: text' for a person's answers, in the card's order."""
        order = list(self.questions) + [k for k in selected if k not in self.questions]
        return " · ".join(
            f"{self.question(key)}: {', '.join(self.option(key, o) for o in selected[key])}"
            for key in order if selected.get(key))


def _question(block: dict, default_title: str, multiple: bool = False) -> Question:
    return Question(
        key=block.get("question_key", ""), title=block.get("title") or default_title,
        options={o.get("id", ""): o.get("text", o.get("id", "")) for o in block.get("option_list", [])},
        multiple=multiple)


def card_labels(card: dict | None) -> CardLabels:
    """Everything countable on a template_card, labelled; unknown shapes give empty labels."""
    card = card or {}
    labels = CardLabels()
    title = (card.get("main_title") or {}).get("title") or _("Question")
    blocks = []
    if isinstance(card.get("checkbox"), dict):
        blocks.append(_question(card["checkbox"], title, multiple=card["checkbox"].get("mode") == 1))
    if isinstance(card.get("button_selection"), dict):
        blocks.append(_question(card["button_selection"], title))
    for number, item in enumerate(card.get("select_list") or [], 1):
        blocks.append(_question(item, _("Question %(number)s", number=number)))
    labels.questions = {q.key: q for q in blocks if q.key}
    for button in card.get("button_list") or []:
        if button.get("key"):
            labels.buttons[button["key"]] = button.get("text") or button["key"]
    submit = card.get("submit_button") or {}
    if submit.get("key"):
        labels.buttons[submit["key"]] = submit.get("text") or "提交"
        labels.submit = submit["key"]
    for item in (card.get("action_menu") or {}).get("action_list") or []:
        if item.get("key"):
            labels.menu[item["key"]] = item.get("text") or item["key"]
    return labels
