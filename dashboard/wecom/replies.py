"""Inner XML for passive replies (PROTOCOL §5.4; text and news: CONVERSATIONS §3) and for
simulated card events (PROTOCOL §5.1-5.2).

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
    "NEWS_LIMIT",
    "TEXT_LIMIT",
    "XML_NAMES",
    "build_reply",
    "event_xml",
    "news_reply_xml",
    "template_card_fields",
    "text_reply_xml",
    "to_xml",
    "update_button_xml",
    "update_template_card_xml",
    "utf8_cut",
    "xml_name",
]

#: Bytes of a passive text reply's Content (UTF-8); WeCom cuts longer text (CONVERSATIONS §3).
TEXT_LIMIT = 2048

#: Articles of a passive news reply: 8 as for message/send, the stricter of the two readings
#: (the old doc said 10; CONVERSATIONS §3).
NEWS_LIMIT = 8

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

# Control characters except \t and \n, and what XML 1.0 cannot carry at all (surrogates, U+FFFE/F).
_UNSENDABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


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


def utf8_cut(text: str, limit: int) -> str:
    """The longest start of ``text`` that fits in ``limit`` UTF-8 bytes, never half a character.

    WeCom counts a text's length in UTF-8 bytes (a CJK character 3, an emoji 4) and cuts it
    where the count ends, even inside a character; the UI counts the same way.
    """
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return text
    cut = max(limit, 0)
    while cut and (data[cut] & 0xC0) == 0x80:  # a continuation byte: the cut is inside a character
        cut -= 1
    return data[:cut].decode("utf-8", "surrogatepass")


def text_reply_xml(to_user: str, from_user: str, content: str, create_time: int) -> str:
    """Passive text reply: ``content`` without control characters, cut to :data:`TEXT_LIMIT` bytes.

    :param to_user: the member's userid (the message's ``FromUserName``).
    :param from_user: the CorpID (the message's ``ToUserName``).
    """
    return to_xml(
        {
            "ToUserName": to_user,
            "FromUserName": from_user,
            "CreateTime": int(create_time),
            "MsgType": "text",
            "Content": utf8_cut(_UNSENDABLE.sub("", content), TEXT_LIMIT),
        }
    )


def news_reply_xml(
    to_user: str, from_user: str, articles: Sequence[Mapping[str, Any]], create_time: int
) -> str:
    """Passive news (图文) reply of 1 to :data:`NEWS_LIMIT` articles, the first shown large.

    :param to_user: the member's userid (the message's ``FromUserName``).
    :param from_user: the CorpID (the message's ``ToUserName``).
    :param articles: each with ``title`` and optionally ``description``, ``url``, ``picurl``;
        other keys are ignored.
    :raises ValueError: no article, more than :data:`NEWS_LIMIT`, or an article without title.
    """
    if not 1 <= len(articles) <= NEWS_LIMIT:
        raise ValueError(f"a news reply has 1 to {NEWS_LIMIT} articles, not {len(articles)}")
    items = [_article(number, article) for number, article in enumerate(articles, 1)]
    return to_xml(
        {
            "ToUserName": to_user,
            "FromUserName": from_user,
            "CreateTime": int(create_time),
            "MsgType": "news",
            "ArticleCount": len(items),
            "Articles": {"item": items},
        }
    )


def _article(number: int, article: Mapping[str, Any]) -> dict[str, str | None]:
    """One ``<item>`` in the doc's order; empty fields are left out."""
    fields = {
        name: _sendable(article.get(key))
        for name, key in (("Title", "title"), ("Description", "description"), ("PicUrl", "picurl"), ("Url", "url"))
    }
    if not fields["Title"]:
        raise ValueError(f"article {number} of a news reply has no title")
    return fields


def _sendable(value: Any) -> str | None:
    text = _UNSENDABLE.sub("", value).strip() if isinstance(value, str) else None
    return text or None


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
