"""Inner XML for passive replies (PROTOCOL §5.4) and for simulated card events (§5.1-5.2).

Strings go out as CDATA that survives any text (see :func:`~dashboard.wecom.xmlsafe.cdata`),
numbers as plain text, booleans as ``true``/``false``, lists as repeated sibling elements,
None values are left out. Every element sits on its own line, like WeCom's own examples.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .errors import GenReturnXmlError
from .xmlsafe import cdata

if TYPE_CHECKING:  # pragma: no cover
    from .crypto import CallbackCrypto

__all__ = [
    "XML_NAMES",
    "build_reply",
    "event_xml",
    "template_card_fields",
    "to_xml",
    "update_button_xml",
    "update_template_card_xml",
    "xml_name",
]

#: template_card JSON key -> element name in the XML reply (PROTOCOL §5.4).
XML_NAMES: dict[str, str] = {
    "card_type": "CardType", "task_id": "TaskId",
    "source": "Source", "icon_url": "IconUrl", "desc": "Desc", "desc_color": "DescColor",
    "action_menu": "ActionMenu", "action_list": "ActionList", "text": "Text", "key": "Key",
    "main_title": "MainTitle", "title": "Title",
    "quote_area": "QuoteArea", "type": "Type", "url": "Url", "appid": "AppId", "pagepath": "PagePath",
    "quote_text": "QuoteText", "emphasis_content": "EmphasisContent", "sub_title_text": "SubTitleText",
    "horizontal_content_list": "HorizontalContentList", "keyname": "KeyName", "value": "Value",
    "media_id": "MediaId", "userid": "UserId",
    "jump_list": "JumpList", "card_action": "CardAction",
    "card_image": "CardImage", "aspect_ratio": "AspectRatio",
    "image_text_area": "ImageTextArea", "image_url": "ImageUrl",
    "vertical_content_list": "VerticalContentList",
    "button_selection": "ButtonSelection", "question_key": "QuestionKey", "option_list": "OptionList",
    "id": "Id", "selected_id": "SelectedId", "disable": "Disable",
    "button_list": "ButtonList", "style": "Style",
    "checkbox": "CheckBox", "is_checked": "IsChecked", "mode": "Mode",
    "select_list": "SelectList", "submit_button": "SubmitButton", "replace_text": "ReplaceText",
}  # fmt: skip

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")


def xml_name(key: str) -> str:
    """The XML element name of a template_card key: the table, else snake_case -> CamelCase."""
    return XML_NAMES.get(key) or "".join(part[:1].upper() + part[1:] for part in key.split("_"))


def template_card_fields(card: Mapping[str, Any]) -> dict[str, Any]:
    """Rename a template_card dict's keys, at every depth, to their XML element names."""

    def rename(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {xml_name(k): rename(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [rename(item) for item in value]
        return value

    return rename(card)


def to_xml(fields: Mapping[str, Any], *, root: str = "xml") -> str:
    """Render a mapping whose keys are already element names as one XML document.

    :raises GenReturnXmlError: a bad element name, an unsupported value type, or text that
        XML cannot carry.
    """
    out: list[str] = []
    _render(root, fields, out)
    return "\n".join(out)


def _render(name: str, value: Any, out: list[str]) -> None:
    if value is None:
        return
    if not isinstance(name, str) or not _NAME.match(name):
        raise GenReturnXmlError(f"{name!r} is not a valid XML element name")
    if isinstance(value, Mapping):
        start = len(out)
        for child, child_value in value.items():
            _render(child, child_value, out)
        if len(out) == start:
            out.append(f"<{name}></{name}>")
        else:
            out.insert(start, f"<{name}>")
            out.append(f"</{name}>")
    elif isinstance(value, (list, tuple)):
        for item in value:
            _render(name, item, out)
    else:
        out.append(f"<{name}>{_scalar(value)}</{name}>")


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return cdata(value)
    raise GenReturnXmlError(f"cannot put a {type(value).__name__} in reply XML")


def update_button_xml(to_user: str, from_user: str, replace_name: str, create_time: int) -> str:
    """Reply that greys out the clicked button with the caption ``replace_name``.

    :param to_user: the clicking member's userid (the event's ``FromUserName``).
    :param from_user: the CorpID (the event's ``ToUserName``).
    """
    return to_xml(
        {
            "ToUserName": to_user,
            "FromUserName": from_user,
            "CreateTime": int(create_time),
            "MsgType": "update_button",
            "Button": {"ReplaceName": replace_name},
        }
    )


def update_template_card_xml(
    to_user: str, from_user: str, template_card: Mapping[str, Any], create_time: int
) -> str:
    """Reply that replaces the clicking member's card with ``template_card`` (the send-API JSON shape).

    :param to_user: the clicking member's userid (the event's ``FromUserName``).
    :param from_user: the CorpID (the event's ``ToUserName``).
    """
    return to_xml(
        {
            "ToUserName": to_user,
            "FromUserName": from_user,
            "CreateTime": int(create_time),
            "MsgType": "update_template_card",
            "TemplateCard": template_card_fields(template_card),
        }
    )


def build_reply(crypto: CallbackCrypto, inner_xml: str, nonce: str | int, timestamp: str | int | None) -> str:
    """Encrypt and sign ``inner_xml`` into the HTTP response body (``crypto.encrypt_reply``)."""
    return crypto.encrypt_reply(inner_xml, nonce, timestamp)


def event_xml(
    *,
    to_user: str,
    from_user: str,
    create_time: int,
    event_key: str,
    task_id: str,
    card_type: str,
    response_code: str | None,
    agent_id: int | None,
    selected: Mapping[str, Sequence[str]] | None = None,
    event: str = "template_card_event",
) -> str:
    """Inner XML of a card callback exactly as WeCom sends it (for the sandbox simulator).

    :param to_user: the CorpID.
    :param from_user: the clicking member's userid.
    :param selected: question_key -> option ids; only for ``template_card_event``.
    :param event: ``template_card_event`` or ``template_card_menu_event``.
    :raises ValueError: an unknown event, or selections on a menu event.
    """
    if event not in ("template_card_event", "template_card_menu_event"):
        raise ValueError(f"event must be template_card_event or template_card_menu_event, not {event!r}")
    if selected and event == "template_card_menu_event":
        raise ValueError("a template_card_menu_event carries no selections")
    items = [
        {"QuestionKey": key, "OptionIds": {"OptionId": list(ids)}} for key, ids in (selected or {}).items()
    ]
    return to_xml(
        {
            "ToUserName": to_user,
            "FromUserName": from_user,
            "CreateTime": int(create_time),
            "MsgType": "event",
            "Event": event,
            "EventKey": event_key,
            "TaskId": task_id,
            "CardType": card_type,
            "ResponseCode": response_code,
            "AgentID": agent_id,
            "SelectedItems": {"SelectedItem": items} if items else None,
        }
    )
