"""WeCom template_card rule table (PROTOCOL.md section 3, plus the update-only fields of 2.3).

Data only: cards.py applies it (validate, limits, ERRCODE_FIELDS) and card_schema.py turns it into
a JSON Schema, so the designer, the API and the schema file cannot disagree. A new WeCom rule is a
new row or key here, not a new branch in the engine.

Texts are measured in characters (len() of the str, i.e. code points); keys, ids and task_id in
UTF-8 bytes. Where WeCom gives only a recommended length (its client truncates) or documents a
server fallback instead of a rejection, the row is a warning with its source: the card stays
usable and the designer and the API show the warning at the field. Hard limits stay errors.
"""
from __future__ import annotations

from functools import partial
from typing import Any

CARD_TYPES = (
    "text_notice", "news_notice", "button_interaction", "vote_interaction", "multiple_interaction",
)

Spec = dict[str, Any]

# --- spec keys ----------------------------------------------------------------------------------
# A spec is a plain dict: type (string/int/bool/float/object/list) plus optional rules:
# required, required_if {sibling: [values]}, default, enum, max_chars, max_bytes, pattern
# (with pattern_words, how a message names it, marked with N_ for translation), min,
# max_exclusive, min_items, max_items, unique (among list siblings), update_only, code (WeCom
# errcode for problems here), dup_code (errcode for duplicates), fields (object members, or the
# members of each list item), name (JSON Schema $defs name for a variant block), and two keys
# for documenting fidelity to WeCom:
#   source: where WeCom states the rule (a doc URL or a PROTOCOL.md section); optional, unused
#     by the engine.
#   severity: "error" (the default when absent) or "warning". A warning spec's limits (the
#     value rules enum ... max_items, and unique) are reported by cards.warnings(), not by
#     validate(); type, required, unknown-field and update-only checks stay errors.
# limits() leaves fields, name, source and severity out of its output (the designer and the tests
# read it; leaving them out keeps its shape the same whatever rows gain a source), and
# json_schema() leaves a warning spec's limits out (a card WeCom accepts passes the schema).
#
# Rules that differ by card type are variants of a block (_VARIANTS); rules that differ by
# purpose (PURPOSES: message/send, update_template_card, a passive reply) are the needs and
# blocks of PURPOSE_NEEDS and PURPOSE_BLOCKS. card_fields() resolves all of them.

SEND_DOC = "https://developer.work.weixin.qq.com/document/path/90236"
"""message/send, 模板卡片消息: the send body's fields and WeCom's recommended lengths."""
UPDATE_DOC = "https://developer.work.weixin.qq.com/document/path/94888"
"""message/update_template_card: what an update's card body needs."""
REPLY_DOC = "https://developer.work.weixin.qq.com/document/path/90241"
"""被动回复消息格式, 模板卡片更新消息: the passive reply that replaces the clicked card."""

PURPOSES = ("send", "update", "reply")
"""What a card body is for: message/send, update_template_card, or a passive reply's card."""


def N_(text: str) -> str:
    """Marks an English message id for `pybabel extract` (a default keyword) and returns it as is:
    this library has no Flask; the web layer translates (dashboard/cards/messages.py)."""
    return text


def severity(spec: Spec) -> str:
    """A spec's severity, so that rows without the key stay errors."""
    return spec.get("severity", "error")


def _spec(type_: str, fields: dict[str, Spec] | None = None, **rules: Any) -> Spec:
    """One field's rules; a rule given as None is left out."""
    rules = {k: v for k, v in rules.items() if v is not None}
    return {"type": type_, **rules, **({"fields": fields} if fields else {})}


_str, _bool, _obj, _list = (partial(_spec, t) for t in ("string", "bool", "object", "list"))


def _int(*allowed: int, **rules: Any) -> Spec:
    return _spec("int", enum=list(allowed), **rules)


def _link(*types: int, url_code: int | None = None, appid_code: int | None = None,
          **type_rules: Any) -> dict[str, Spec]:
    """type/url/appid/pagepath, shared by quote_area, jump_list, card_action, image_text_area."""
    return {"type": _int(*types, **(type_rules or {"default": 0})),
            "url": _str(required_if={"type": [1]}, code=url_code),
            "appid": _str(required_if={"type": [2]}, code=appid_code),
            "pagepath": _str()}


KEY_BYTES = 1024  # every callback key and question_key
ID_BYTES = 128  # option ids and task_id

_OPTION = {
    "id": _str(required=True, max_bytes=ID_BYTES, unique=True, code=42040),
    "text": _str(required=True, max_chars=16, code=42041),
}
_QUESTION_KEY = _str(required=True, max_bytes=KEY_BYTES, code=42043)
_OPTIONS = {"required": True, "min_items": 1, "code": 42037}


def _recommended(max_chars: int, **rules: Any) -> Spec:
    """A text WeCom recommends keeping to max_chars characters (its client cuts the rest): a
    warning, not a refusal (SEND_DOC: "建议不超过N个字")."""
    return _str(max_chars=max_chars, severity="warning", source=SEND_DOC, **rules)


def _main_title(title_required: bool, name: str | None = None, desc_chars: int = 44) -> Spec:
    """main_title: WeCom recommends desc ≤ 160 characters on vote and multiple-choice cards and
    ≤ 44 elsewhere (SEND_DOC), hence the per-type variants below."""
    return _obj({"title": _recommended(36, required=title_required or None),
                 "desc": _recommended(desc_chars)}, name=name)


def _card_action(notice: bool) -> Spec:
    type_rules = {"required": True} if notice else {"default": 0}
    types = (1, 2) if notice else (0, 1, 2)
    return _obj(_link(*types, url_code=42028, appid_code=42030, code=42045, **type_rules),
                code=42045, name="card_action_notice" if notice else None)


def _action_menu(max_actions: int, source: str) -> Spec:
    """The "..." menu: 1-3 actions on message/send, 1-10 in a passive reply (REPLY_DOC)."""
    return _obj({"desc": _str(), "action_list": _list(
        {"text": _str(required=True),
         "key": _str(required=True, max_bytes=KEY_BYTES, unique=True, dup_code=42051)},
        required=True, min_items=1, max_items=max_actions, source=source)})


_CARD_TYPE = _str(required=True, enum=list(CARD_TYPES), code=42031)

BLOCKS: dict[str, Spec] = {
    "task_id": _str(max_bytes=ID_BYTES, pattern=r"^[0-9A-Za-z_\-@]*$",
                    pattern_words=N_("letters, digits, _, - and @"), code=42014),
    "source": _obj({"icon_url": _str(), "desc": _str(max_chars=20),
                    "desc_color": _int(0, 1, 2, 3, default=0)}),
    "action_menu": _action_menu(3, SEND_DOC),
    "main_title": _main_title(True),
    "quote_area": _obj({**_link(0, 1, 2), "title": _str(), "quote_text": _str()}),
    "emphasis_content": _obj({"title": _str(max_chars=14), "desc": _str(max_chars=22)}),
    "sub_title_text": _recommended(160),
    "horizontal_content_list": _list({
        "type": _int(0, 1, 2, 3, default=0),
        "keyname": _recommended(5, required=True, code=42027),
        "value": _str(max_chars=30),
        "url": _str(required_if={"type": [1]}, code=42028),
        "media_id": _str(required_if={"type": [2]}, code=42029),
        "userid": _str(required_if={"type": [3]}, code=42050),
    }, max_items=6, code=42035),
    "jump_list": _list({**_link(0, 1, 2, url_code=42028, appid_code=42030),
                        "title": _str(required=True, max_chars=18, code=42033)},
                       max_items=3, code=42042),
    "card_action": _card_action(notice=False),
    "card_image": _obj({"url": _str(required=True, code=42044),
                        "aspect_ratio": _spec("float", default=1.3, min=1.3, max_exclusive=2.25)}),
    "image_text_area": _obj({**_link(0, 1, 2), "title": _str(), "desc": _str(),
                             "image_url": _str(required=True)}),
    "vertical_content_list": _list({"title": _str(required=True, max_chars=38, code=42033),
                                    "desc": _str(max_chars=160)}, max_items=4, code=42036),
    "button_selection": _obj({
        "question_key": _QUESTION_KEY, "title": _str(),
        "option_list": _list(_OPTION, max_items=10, **_OPTIONS),
        "selected_id": _str(source=SEND_DOC), "disable": _bool(update_only=True)}),
    "button_list": _list({
        "type": _int(0, 1, default=0),
        "text": _str(required=True, max_chars=10, code=42038),
        # WeCom shows style 1 for any other value (SEND_DOC: "默认为1").
        "style": _int(1, 2, 3, 4, default=1, severity="warning", source=SEND_DOC),
        "key": _str(required_if={"type": [0]}, max_bytes=KEY_BYTES, unique=True, code=42039),
        "url": _str(required_if={"type": [1]}),
    }, min_items=1, max_items=6),
    "checkbox": _obj({
        "question_key": _QUESTION_KEY,
        "option_list": _list({**_OPTION, "text": _str(required=True, max_chars=17, code=42041),
                              "is_checked": _bool(required=True)}, max_items=20, **_OPTIONS),
        "mode": _int(0, 1, default=0), "disable": _bool(update_only=True)}),
    "select_list": _list({
        "question_key": {**_QUESTION_KEY, "unique": True}, "title": _str(),
        "selected_id": _str(source=SEND_DOC),
        "option_list": _list(_OPTION, max_items=10, **_OPTIONS),
        "disable": _bool(update_only=True)}, min_items=1, max_items=3, code=42047),
    "submit_button": _obj({"text": _str(max_chars=10, default="提交", code=42049),
                           "key": _str(required=True, max_bytes=KEY_BYTES, code=42046)}),
    "replace_text": _str(update_only=True),
}
"""Every top-level block's spec, as most card types take it."""

# Blocks whose rules differ by card type (everything else is shared).
_VARIANTS: dict[str, dict[str, Spec]] = {
    "text_notice": {"main_title": _main_title(False, name="main_title_text_notice"),
                    "card_action": _card_action(notice=True)},
    "news_notice": {"card_action": _card_action(notice=True)},
    "vote_interaction": {"main_title": _main_title(True, name="main_title_choice", desc_chars=160)},
    "multiple_interaction": {"main_title": _main_title(True, name="main_title_choice",
                                                       desc_chars=160)},
}

_O, _R = "optional", "required"
BLOCKS_BY_TYPE: dict[str, dict[str, str]] = {
    "text_notice": {
        "source": _O, "action_menu": _O, "task_id": _O, "main_title": _O, "quote_area": _O,
        "emphasis_content": _O, "sub_title_text": _O, "horizontal_content_list": _O,
        "jump_list": _O, "card_action": _R},
    "news_notice": {
        "source": _O, "action_menu": _O, "task_id": _O, "main_title": _R, "quote_area": _O,
        "horizontal_content_list": _O, "jump_list": _O, "card_action": _R, "card_image": _O,
        "image_text_area": _O, "vertical_content_list": _O},
    "button_interaction": {
        "source": _O, "action_menu": _O, "task_id": _R, "main_title": _R, "quote_area": _O,
        "sub_title_text": _O, "horizontal_content_list": _O, "card_action": _O,
        "button_selection": _O, "button_list": _R, "replace_text": _O},
    "vote_interaction": {
        "source": _O, "task_id": _R, "main_title": _R, "checkbox": _R, "submit_button": _R,
        "replace_text": _O},
    "multiple_interaction": {
        "source": _O, "task_id": _R, "main_title": _R, "select_list": _R, "submit_button": _R,
        "replace_text": _O},
}
"""Which top-level blocks each card type accepts (PROTOCOL 3.1). Treat as read-only.

Conditional rules are not in this table: text_notice needs main_title.title or sub_title_text,
news_notice needs card_image or image_text_area, and a notice card with action_menu needs
task_id. replace_text is accepted only by validate(..., purpose="update") (or "reply").
"""

PURPOSE_NEEDS: dict[str, dict[str, dict[str, str]]] = {
    "send": {},
    # update_template_card: submit_button is optional on vote and multiple-choice cards.
    "update": {"vote_interaction": {"submit_button": _O},
               "multiple_interaction": {"submit_button": _O}},
}
PURPOSE_NEEDS["reply"] = PURPOSE_NEEDS["update"]  # a passive reply updates the clicked card
"""Per purpose, per card type, the blocks whose need differs from BLOCKS_BY_TYPE (a send's);
sources: UPDATE_DOC, REPLY_DOC."""

PURPOSE_BLOCKS: dict[str, dict[str, Spec]] = {
    "send": {}, "update": {},
    "reply": {"action_menu": _action_menu(10, REPLY_DOC)},
}
"""Per purpose, the blocks whose rules differ from a send's (the passive reply's 1-10 actions)."""

CROSS_RULES: dict[str, tuple[str, ...]] = {
    "text_notice": ("title_or_subtitle", "task_id_for_menu"),
    "news_notice": ("image_or_text_area", "task_id_for_menu"),
    "button_interaction": ("selected_ids",),
    "vote_interaction": ("single_choice",),
    "multiple_interaction": ("selected_ids",),
}
"""Per card type, in order, the cross-field rules that apply (named functions in cards.py)."""


def card_fields(card_type: str, *, task_id_required: bool = True,
                purpose: str = "send") -> dict[str, Spec]:
    """The top-level specs of one card type for one purpose, so the checker and the schema
    resolve it alike."""
    fields = {"card_type": _CARD_TYPE}
    needs = {**BLOCKS_BY_TYPE[card_type], **PURPOSE_NEEDS[purpose].get(card_type, {})}
    for block, need in needs.items():
        spec = PURPOSE_BLOCKS[purpose].get(block) or _VARIANTS.get(card_type, {}).get(
            block, BLOCKS[block])
        required = need == _R and (block != "task_id" or task_id_required)
        fields[block] = {**spec, "required": True} if required else spec
    return fields
