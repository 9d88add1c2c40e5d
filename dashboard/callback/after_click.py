"""What the clicker's card shows after a click: nothing new, a greyed-out button, or a new card.

Configured per card version in ``CardVersion.after_click``::

    {"mode": "none" | "button" | "card", "replace_name": "已选择：{option}", "card": {...},
     "menu": {"<action_menu key>": {"mode": "button" | "card", "replace_name": ..., "card": ...}}}

``{option}`` becomes the texts of the chosen options (or of the clicked button, or of the picked
menu item). "card" with no explicit card replaces the card with itself, the options disabled, the
choices checked and the button greyed out with the caption. ``menu`` answers a pick from the card's
top-right menu (``template_card_menu_event``) the same way, per item; notice cards have a menu but
nothing to grey out, so their items answer with a replacement card or not at all. The update is
the passive reply of PROTOCOL §5.3-5.4 or the API's update_template_card (AFTER_CLICK_VIA).
"""
from __future__ import annotations

import copy
import json
import time
from types import SimpleNamespace

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..i18n import card_error_text
from ..models import CardVersion, audit
from ..models.event import MENU
from ..wecom.cards import validate
from ..wecom.replies import update_button_xml, update_template_card_xml
from . import targets

MODES = {"none": _l("Reply nothing (the card stays as it is)"),
         "button": _l("Grey out the button with a caption"),
         "card": _l("Replace the clicker's card")}
INTERACTIVE = ("button_interaction", "vote_interaction", "multiple_interaction")
MENU_CARDS = ("text_notice", "news_notice", "button_interaction")  # the types with an action_menu
DEFAULT_CAPTION = "已提交"
OPTION_CAPTION = "已选择：{option}"
CHOICE_TYPES = ("vote_interaction", "multiple_interaction")  # cards whose click names options
MAX_CAPTION = 20  # characters; WeCom shows about 10 on a button
OPTION_SEPARATOR = "、"


JOB = "dashboard.callback.jobs.after_click"  # the update job's name in queued work: never change it
USED_FOR = "after_click"  # ResponseCode.used_for of a code this update claimed
FAILED = USED_FOR + " failed"  # "... failed: why" gave up; "... failed N: why" is retried
DEAD_CODE = frozenset({42022, 60140})  # the code is used, invalid or expired: never retried


class AfterClickError(ValueError):
    """The after-click settings cannot be used; ``field`` names the setting at fault, of the menu
    item ``menu_key`` when it is one item's answer."""

    def __init__(self, field: str, message: str, menu_key: str | None = None) -> None:
        super().__init__(message)
        self.field, self.menu_key = field, menu_key


def check(data: dict, template_card: dict) -> dict:
    """The settings, normalized, for a card; AfterClickError says what is wrong."""
    config = _check_answer(data, template_card)
    if menu := _check_menu(data.get("menu"), template_card):
        config["menu"] = menu
    return config


def _check_answer(data: dict, template_card: dict, menu_key: str | None = None) -> dict:
    """One answer: to a click, or to a pick of the menu item ``menu_key``."""
    def refuse(field: str, message: str) -> AfterClickError:
        return AfterClickError(field, message, menu_key)

    mode = data.get("mode") or "none"
    if mode not in MODES:
        raise refuse("mode", _("Choose one of: %(allowed)s.", allowed=", ".join(MODES)))
    if mode == "none":
        return {"mode": "none"}
    card_type = template_card.get("card_type")
    if menu_key is None and card_type not in INTERACTIVE:
        raise AfterClickError("mode", _("Only button, vote and multiple-choice cards call back "
                                        "when clicked; this card can only reply nothing."))
    if mode == "button" and card_type not in INTERACTIVE:
        raise refuse("mode", _("This card has no button to grey out: answer with a "
                                                "replacement card, or nothing."))
    if mode == "card" and card_type not in INTERACTIVE and not data.get("card"):
        raise refuse("card", _("Give the replacement card: a notice card has no "
                                                "button or options to turn read-only."))
    caption = (data.get("replace_name") or "").strip()
    if len(caption) > MAX_CAPTION:
        raise refuse("replace_name", _("At most %(n)s characters.", n=MAX_CAPTION))
    if mode == "button" and not caption:
        raise refuse("replace_name", _("Give the caption the button shows, e.g. 已投票."))
    config = {"mode": mode, "replace_name": caption or DEFAULT_CAPTION}
    card = data.get("card") or None
    if card is not None and not isinstance(card, dict):
        raise refuse("card", _("The replacement card must be a JSON object."))
    sample = card or replacement_card(template_card, _sample_choice(template_card), config["replace_name"])
    if mode == "card" and (errors := validate(sample, for_update=True)):
        problems = "; ".join(f"{e.path}: {card_error_text(e)}" for e in errors[:3])
        raise refuse("card", problems if card else _(
            "the card with its options disabled: %(detail)s", detail=problems))
    if mode == "card" and card:
        config["card"] = card
    return config


def menu_items(template_card: dict) -> list[dict]:
    """The card's menu items (``action_menu.action_list``) that have a key; [] for other cards."""
    if template_card.get("card_type") not in MENU_CARDS:
        return []
    menu = template_card.get("action_menu")
    items = menu.get("action_list") if isinstance(menu, dict) else None
    return [item for item in items or () if isinstance(item, dict) and item.get("key")]


def _check_menu(menu, template_card: dict) -> dict:
    """The answers per menu key; items no longer in the card's menu and "nothing" are left out."""
    if not menu:
        return {}
    if not isinstance(menu, dict):
        raise AfterClickError("menu", _("The menu answers must be an object keyed by menu key."))
    answers = {}
    for item in menu_items(template_card):
        data = menu.get(item["key"])
        if data is None:
            continue
        if not isinstance(data, dict):
            raise AfterClickError("mode", _("Choose one of: %(allowed)s.", allowed=", ".join(MODES)),
                                  item["key"])
        answer = _check_answer(data, template_card, item["key"])
        if answer["mode"] != "none":
            answers[item["key"]] = answer
    return answers


def answer_for(event, config: dict | None) -> dict:
    """The settings that answer this event: the card's own for a click, its item's for a menu pick."""
    config = config or {}
    if getattr(event, "kind", None) == MENU:
        return (config.get("menu") or {}).get(event.event_key) or {"mode": "none"}
    return config


def _answers(event, answer: dict, template_card: dict) -> bool:
    """Whether ``answer`` changes the card: not "none", and a click only on a card that calls back."""
    if answer.get("mode", "none") == "none":
        return False
    return getattr(event, "kind", None) == MENU or template_card.get("card_type") in INTERACTIVE


def changes_card(event, config: dict | None, template_card: dict) -> bool:
    """Whether a click or a menu pick on this card changes the clicker's card."""
    return _answers(event, answer_for(event, config), template_card)


def default_settings(template_card: dict) -> dict | None:
    """What a new interactive card does after a click: the clicker's button turns grey with a
    caption, so a voter sees the vote taken (with "none" the card looks unchanged and people vote
    twice). Vote and multiple-choice cards name the chosen options; a button card says 已提交.
    None for cards nobody clicks. Versions saved before this default keep their None ("none")."""
    card_type = template_card.get("card_type")
    if card_type not in INTERACTIVE:
        return None
    return {"mode": "button",
            "replace_name": OPTION_CAPTION if card_type in CHOICE_TYPES else DEFAULT_CAPTION}


def set_after_click(version: CardVersion, data: dict, *, actor=None) -> dict:
    """Store the after-click settings on a card version (the caller commits)."""
    config = check(data, version.template_card)
    version.after_click = config
    targets.forget()  # this process at once, the other workers within targets.TTL
    audit("card.after_click", version.card, actor=actor, version=version.number, mode=config["mode"])
    return config


def reply_xml(event, config: dict | None, template_card: dict, corp_id: str) -> str | None:
    """The passive reply's inner XML for a click or a menu pick, or None to answer with an empty body."""
    answer = answer_for(event, config)
    if not _answers(event, answer, template_card):
        return None
    caption = caption_for(answer, template_card, event)
    now = int(time.time())
    if answer["mode"] == "button":
        return update_button_xml(event.from_user, corp_id, caption, now)
    return update_template_card_xml(event.from_user, corp_id, _new_card(answer, template_card, event, caption), now)


def update_request(event, config: dict | None, template_card: dict) -> dict | None:
    """The keyword arguments of ``update_template_card`` (after the event's response code) that
    change the clicker's card as the passive reply would: only the clicker (``userids``), and
    ``replace_name`` (WeCom's ``button.replace_name``) or the replacement ``template_card``.
    None when the card stays as it is."""
    answer = answer_for(event, config)
    if not _answers(event, answer, template_card):
        return None
    caption = caption_for(answer, template_card, event)
    if answer["mode"] == "button":
        return {"userids": [event.from_user], "replace_name": caption}
    return {"userids": [event.from_user], "template_card": _new_card(answer, template_card, event, caption)}


def _new_card(config: dict, template_card: dict, event, caption: str) -> dict:
    """The configured replacement card, or the clicked card made read-only; captioned."""
    card = config.get("card")
    if card is None:
        return replacement_card(template_card, _chosen(event), caption)
    if "replace_text" not in card and card.get("card_type") in INTERACTIVE:
        return {**card, "replace_text": caption}
    return card


def caption_for(config: dict, template_card: dict, event) -> str:
    caption = config.get("replace_name") or DEFAULT_CAPTION
    if "{option}" in caption:
        caption = caption.replace("{option}", OPTION_SEPARATOR.join(option_texts(template_card, event)))
    return caption


def option_texts(template_card: dict, event) -> list[str]:
    """Texts of the options the event chose, in order; else the clicked button's text."""
    texts = {}
    for question in questions(template_card):
        for option in question.get("option_list") or ():
            texts[(question.get("question_key"), option.get("id"))] = option.get("text")
    chosen = [texts.get((key, option_id)) or option_id
              for key, ids in _chosen(event).items() for option_id in ids]
    if chosen:
        return chosen
    clickable = menu_items(template_card) if getattr(event, "kind", None) == MENU else \
        template_card.get("button_list") or ()
    texts = {b.get("key"): b.get("text") for b in clickable if isinstance(b, dict)}
    return [texts[event.event_key]] if texts.get(event.event_key) else []


def _chosen(event) -> dict[str, list[str]]:
    """The options an event chose; a menu pick chooses none."""
    return getattr(event, "selected", None) or {}


def replacement_card(template_card: dict, selected: dict[str, list[str]], replace_text: str) -> dict:
    """The same card, read-only: choices checked or selected, selectors disabled, button greyed."""
    card = copy.deepcopy(template_card)
    card.pop("task_id", None)
    if checkbox := card.get("checkbox"):
        checkbox["disable"] = True
        chosen = set(selected.get(checkbox.get("question_key"), ()))
        for option in checkbox.get("option_list") or ():
            option["is_checked"] = option.get("id") in chosen
    for selector in selectors(card):
        selector["disable"] = True
        if ids := selected.get(selector.get("question_key")):
            selector["selected_id"] = ids[0]
    card["replace_text"] = replace_text
    return card


def selectors(card: dict) -> list[dict]:
    """Single-choice selectors: button_selection and each select_list item."""
    found = [card["button_selection"]] if isinstance(card.get("button_selection"), dict) else []
    return found + [q for q in card.get("select_list") or () if isinstance(q, dict)]


def questions(card: dict) -> list[dict]:
    """Every selector with options, the vote checkbox included."""
    return ([card["checkbox"]] if isinstance(card.get("checkbox"), dict) else []) + selectors(card)


def _sample_choice(template_card: dict) -> dict[str, list[str]]:
    """A choice of the first option of every selector, to check the replacement card with."""
    return {q.get("question_key"): [q["option_list"][0].get("id")]
            for q in questions(template_card) if q.get("option_list")}


def example(version: CardVersion) -> dict | None:
    """What a clicker choosing the first option of every question would get (for the settings page)."""
    config, card = version.after_click or {}, version.template_card
    if config.get("mode", "none") == "none":
        return None
    choice = _sample_choice(card)
    buttons = card.get("button_list") or [{}]
    click = SimpleNamespace(selected=choice, event_key=buttons[0].get("key"))
    caption = caption_for(config, card, click)
    if config["mode"] == "button":
        return {"mode": "button", "caption": caption, "card_json": None}
    replacement = config.get("card") or replacement_card(card, choice, caption)
    return {"mode": "card", "caption": caption,
            "card_json": json.dumps(replacement, ensure_ascii=False, indent=2)}


def failure(used_for: str | None) -> tuple[str, bool] | None:
    """(why, retrying) of a code whose after-click update failed, from its ``used_for``, or None."""
    if not used_for or not used_for.startswith(FAILED):
        return None
    head, _sep, why = used_for.partition(": ")
    return why, head != FAILED
