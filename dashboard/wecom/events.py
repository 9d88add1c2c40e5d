"""Typed callback messages: template-card clicks and menu picks, directory changes, third-party
suite notices, and everything else kept as is.

PROTOCOL §5.1-5.2 (card events) and §4.2 (de-duplication: WeCom re-sends a callback up to
three times when it gets no 200 within 5 s, so every event has a stable ``dedupe_key``: the
same for WeCom's retries of one event, different for any two events, also two of one kind
from one sender in one second). A retry carries the same inner XML; what differs between
retries (signature, timestamp, nonce, the random prefix) lives in the envelope and the query.
Directory changes are WeCom's ``change_contact`` events (成员变更通知, 部门变更通知,
标签成员变更通知): the element names are those of WeCom's documentation, as WxJava's
``WxCpXmlMessage`` and go-workwx read them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from .errors import XmlParseError
from .xmlsafe import MAX_XML_BYTES, parse_xml

__all__ = [
    "CHANGE_TYPES", "ContactChange", "Event", "GenericMessage", "SuiteNotice", "TemplateCardEvent",
    "TemplateCardMenuEvent", "parse_event",
]

_FORCE_LIST = ("SelectedItem", "OptionId")
MAX_INT = 2**63 - 1
#: The ``ChangeType`` values of ``change_contact`` that concern the cached directory.
CHANGE_TYPES = (
    "create_user", "update_user", "delete_user", "create_party", "update_party", "delete_party", "update_tag",
)
#: The element each change type cannot do without: the id of what changed.
_CHANGE_KEYS = {
    "create_user": "UserID", "update_user": "UserID", "delete_user": "UserID",
    "create_party": "Id", "update_party": "Id", "delete_party": "Id", "update_tag": "TagId",
}


#: Elements of an envelope, never of an event: should a sender echo them inside, they differ
#: between retries of one event, so the content digest leaves them out.
_ENVELOPE_ONLY = frozenset(("Encrypt", "MsgSignature", "Nonce"))


def _digest(*parts: Any) -> str:
    """SHA-256 hex (64 characters: the dedupe_key columns' size) of a JSON array, so no field
    boundary can be forged with separators."""
    blob = json.dumps(parts, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _content(raw: dict[str, Any]) -> dict[str, Any]:
    """What an event says, for keys of events without a natural id: every element but the
    envelope's (its layout, element order and CDATA wrapping do not count)."""
    return {name: value for name, value in raw.items() if name not in _ENVELOPE_ONLY}


@dataclass(frozen=True, slots=True)
class TemplateCardMenuEvent:
    """A pick from a card's top-right menu (``Event`` = ``template_card_menu_event``)."""

    from_user: str
    to_user: str
    create_time: int
    event_key: str
    task_id: str
    card_type: str
    response_code: str | None
    agent_id: int | None
    raw: dict[str, Any] = field(compare=False, hash=False, repr=False)

    @property
    def kind(self) -> str:
        return "template_card_menu_event"

    @property
    def dedupe_key(self) -> str:
        """Same for WeCom's retries of one callback, different for another click."""
        return _digest(self.kind, self.from_user, self.create_time, self.task_id, self.event_key)


@dataclass(frozen=True, slots=True)
class TemplateCardEvent:
    """A click on a card button or a submitted vote / selection (``template_card_event``).

    ``selected`` maps each ``QuestionKey`` to its chosen ``OptionId`` values, in the order sent.
    """

    from_user: str
    to_user: str
    create_time: int
    event_key: str
    task_id: str
    card_type: str
    response_code: str | None
    agent_id: int | None
    selected: dict[str, list[str]] = field(hash=False)
    raw: dict[str, Any] = field(compare=False, hash=False, repr=False)

    @property
    def kind(self) -> str:
        return "template_card_event"

    @property
    def dedupe_key(self) -> str:
        """Same for WeCom's retries of one callback; selections count, their order does not."""
        selections = sorted((key, sorted(ids)) for key, ids in self.selected.items())
        return _digest(self.kind, self.from_user, self.create_time, self.task_id, self.event_key, selections)


@dataclass(frozen=True, slots=True)
class GenericMessage:
    """Any other message or event, kept whole in ``raw`` so nothing is dropped."""

    msg_type: str
    event: str | None
    from_user: str
    create_time: int
    msg_id: str | None
    raw: dict[str, Any] = field(compare=False, hash=False, repr=False)
    to_user: str | None = None
    agent_id: int | None = None

    @property
    def kind(self) -> str:
        """The event name for events (``enter_agent``, ``click`` ...), else the msg type."""
        if self.msg_type == "event":
            return self.event or "event"
        return self.msg_type

    @property
    def dedupe_key(self) -> str:
        """By ``MsgId`` for messages; otherwise by the whole message: two approval changes or
        batch-job results from "sys" in one second differ in their content (SpNo, JobId ...)."""
        if self.msg_id:
            return _digest("msg", self.msg_id)
        return _digest("content", self.msg_type, self.event, _content(self.raw))


@dataclass(frozen=True, slots=True)
class ContactChange:
    """A change to the directory (``Event`` = ``change_contact``), its fields parsed.

    Each field is None when WeCom did not send its element: an update names only what
    changed, and callback URLs set up after 2022-08-15 get only UserID and Department
    of a member. ``departments`` [] (an empty element) differs from None (no element).
    ``msg_type``, ``event``, ``msg_id`` and ``event_key`` match :class:`GenericMessage`'s,
    so code that stores any event can store this one.
    """

    from_user: str
    to_user: str
    create_time: int
    change_type: str
    agent_id: int | None
    raw: dict[str, Any] = field(compare=False, hash=False, repr=False)
    user_id: str | None = None  # UserID
    new_user_id: str | None = None  # NewUserID: the member's userid was changed to this
    name: str | None = None  # Name, of a member or a department
    departments: list[int] | None = field(default=None, hash=False)  # Department
    party_id: int | None = None  # Id
    parent_id: int | None = None  # ParentId
    order: int | None = None  # Order
    tag_id: int | None = None  # TagId
    add_users: list[str] | None = field(default=None, hash=False)  # AddUserItems
    del_users: list[str] | None = field(default=None, hash=False)  # DelUserItems
    add_parties: list[int] | None = field(default=None, hash=False)  # AddPartyItems
    del_parties: list[int] | None = field(default=None, hash=False)  # DelPartyItems

    msg_type = "event"
    event = "change_contact"
    msg_id = None
    event_key = None

    @property
    def kind(self) -> str:
        return "change_contact"

    @property
    def dedupe_key(self) -> str:
        """What the change is about (ChangeType, the member, department or tag id, the new
        userid) and when, then the rest of the message: two changes in one second share sender
        ("sys") and CreateTime, and two updates of one member differ only in what changed."""
        ids = (self.user_id, self.new_user_id, self.party_id, self.tag_id)
        return _digest(self.kind, self.change_type, ids, self.create_time, _content(self.raw))

    def fields(self) -> dict[str, Any]:
        """The parsed fields WeCom sent, JSON-safe, for storing the change until it is applied."""
        names = ("user_id", "new_user_id", "name", "departments", "party_id", "parent_id", "order", "tag_id",
                 "add_users", "del_users", "add_parties", "del_parties")
        values = {name: getattr(self, name) for name in names}
        return {name: value for name, value in values.items() if value is not None}


@dataclass(frozen=True, slots=True)
class SuiteNotice:
    """A third-party suite's notice (指令回调: ``InfoType`` = suite_ticket, create_auth ...),
    which has no ``MsgType``; WeCom wants the bare answer "success". ``msg_type``, ``event``,
    ``msg_id`` and ``event_key`` match :class:`GenericMessage`'s, so it is stored like one.
    """

    info_type: str
    from_user: str  # SuiteId: the suite the notice is for
    create_time: int  # TimeStamp
    raw: dict[str, Any] = field(compare=False, hash=False, repr=False)

    msg_type = "info"
    msg_id = None
    event_key = None
    to_user = None
    agent_id = None

    @property
    def kind(self) -> str:
        return "suite_notice"

    @property
    def event(self) -> str:
        return self.info_type

    @property
    def dedupe_key(self) -> str:
        """By the whole notice: a new suite_ticket every ten minutes, each one kept."""
        return _digest("content", self.msg_type, self.info_type, _content(self.raw))


Event = TemplateCardEvent | TemplateCardMenuEvent | ContactChange | SuiteNotice | GenericMessage

_CARD_FIELDS = ("ToUserName", "FromUserName", "CreateTime", "EventKey", "TaskId", "CardType")


def parse_event(xml: str | bytes, *, max_bytes: int = MAX_XML_BYTES) -> Event:
    """Parse a decrypted callback message into a typed event.

    :param xml: the inner XML returned by :meth:`CallbackCrypto.decrypt`.
    :raises XmlParseError: unsafe or malformed XML, or a required element missing (named).
    """
    root = parse_xml(xml, max_bytes=max_bytes, force_list=_FORCE_LIST)
    raw = next(iter(root.values()))
    if not isinstance(raw, dict):
        raise XmlParseError("message has no child elements")
    msg_type, event = _text(raw, "MsgType"), _text(raw, "Event")
    if "MsgType" not in raw and _text(raw, "InfoType"):
        return _suite_notice(raw)
    if not msg_type:
        raise XmlParseError("required element MsgType (or a suite notice's InfoType) is missing")
    if msg_type == "event" and event in ("template_card_event", "template_card_menu_event"):
        return _card_event(raw, event)
    if msg_type == "event" and event == "change_contact":
        return _contact_change(raw)
    return GenericMessage(
        msg_type=msg_type,
        event=event,
        from_user=_text(raw, "FromUserName") or "",
        create_time=_int(raw, "CreateTime") or 0,
        msg_id=_text(raw, "MsgId"),
        raw=raw,
        to_user=_text(raw, "ToUserName"),
        agent_id=_int(raw, "AgentID"),
    )


def _suite_notice(raw: dict[str, Any]) -> SuiteNotice:
    return SuiteNotice(info_type=_text(raw, "InfoType"), from_user=_text(raw, "SuiteId") or "",
                       create_time=_int(raw, "TimeStamp") or 0, raw=raw)


def _card_event(raw: dict[str, Any], event: str) -> TemplateCardEvent | TemplateCardMenuEvent:
    missing = [name for name in _CARD_FIELDS if not _text(raw, name)]
    if missing:
        raise XmlParseError(f"{event} is missing required element(s): {', '.join(missing)}")
    common = dict(
        from_user=_text(raw, "FromUserName"),
        to_user=_text(raw, "ToUserName"),
        create_time=_int(raw, "CreateTime"),
        event_key=_text(raw, "EventKey"),
        task_id=_text(raw, "TaskId"),
        card_type=_text(raw, "CardType"),
        response_code=_text(raw, "ResponseCode"),
        agent_id=_int(raw, "AgentID"),
        raw=raw,
    )
    if event == "template_card_menu_event":
        return TemplateCardMenuEvent(**common)
    return TemplateCardEvent(selected=_selections(raw.get("SelectedItems")), **common)


def _contact_change(raw: dict[str, Any]) -> ContactChange:
    change_type = _text(raw, "ChangeType", required=True)
    required = ("ToUserName", "FromUserName", "CreateTime", _CHANGE_KEYS.get(change_type, "ChangeType"))
    missing = [name for name in required if not _text(raw, name)]
    if missing:
        raise XmlParseError(
            f"change_contact {change_type} is missing required element(s): {', '.join(missing)}")
    return ContactChange(
        from_user=_text(raw, "FromUserName"),
        to_user=_text(raw, "ToUserName"),
        create_time=_int(raw, "CreateTime"),
        change_type=change_type,
        agent_id=_int(raw, "AgentID"),
        raw=raw,
        user_id=_text(raw, "UserID"),
        new_user_id=_text(raw, "NewUserID") or None,
        name=_text(raw, "Name") or None,
        departments=_int_list(raw, "Department"),
        party_id=_int(raw, "Id"),
        parent_id=_int(raw, "ParentId"),
        order=_int(raw, "Order"),
        tag_id=_int(raw, "TagId"),
        add_users=_text_list(raw, "AddUserItems"),
        del_users=_text_list(raw, "DelUserItems"),
        add_parties=_int_list(raw, "AddPartyItems"),
        del_parties=_int_list(raw, "DelPartyItems"),
    )


def _text_list(raw: dict[str, Any], name: str) -> list[str] | None:
    """A comma-separated list ("a,b" -> ["a", "b"]); None when the element is absent."""
    if name not in raw:
        return None
    return [item.strip() for item in (_text(raw, name) or "").split(",") if item.strip()]


def _int_list(raw: dict[str, Any], name: str) -> list[int] | None:
    """A comma-separated list of ids ("1,2" -> [1, 2]); None when the element is absent."""
    items = _text_list(raw, name)
    if items is None:
        return None
    if not all(_whole(item) for item in items):
        text = _text(raw, name) or ""
        raise XmlParseError(f"element {name} is not a list of whole numbers: {text[:40]!r}")
    return [int(item) for item in items]


def _selections(items: Any) -> dict[str, list[str]]:
    """``SelectedItems/SelectedItem*{QuestionKey, OptionIds/OptionId*}`` -> {key: [ids]}."""
    selected: dict[str, list[str]] = {}
    for item in _children(items, "SelectedItems").get("SelectedItem", []):
        key = _text(item, "QuestionKey") if isinstance(item, dict) else None
        if key is None:
            raise XmlParseError("a SelectedItem is missing its QuestionKey")
        option_ids = _children(item.get("OptionIds"), f"OptionIds of question {key!r}")
        ids = [value or "" for value in option_ids.get("OptionId", [])]
        if not all(isinstance(value, str) for value in ids):
            raise XmlParseError(f"an OptionId of question {key!r} is not text")
        selected.setdefault(key, []).extend(ids)
    return selected


def _children(value: Any, what: str) -> dict[str, Any]:
    """An element's children; absent, empty or whitespace-only means none."""
    if isinstance(value, dict):
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    raise XmlParseError(f"{what} must hold elements, not text")


def _text(raw: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = raw.get(name)
    if isinstance(value, str):
        return value
    if value is None:
        if required:
            raise XmlParseError(f"required element {name} is missing")
        return None
    raise XmlParseError(f"element {name} is not a single text element")


def _int(raw: dict[str, Any], name: str) -> int | None:
    """A whole number that fits a signed 64-bit column (CreateTime, AgentID); None when absent
    or empty (``<AgentID><![CDATA[]]></AgentID>``)."""
    value = _text(raw, name)
    if not value:
        return None
    digits = value.strip()
    if not _whole(digits):
        raise XmlParseError(f"element {name} is not a whole number below 2**63: {value[:40]!r}")
    return int(digits)


def _whole(digits: str) -> bool:
    """ASCII digits of a number below 2**63 (Python's int() takes more: "1_0", "١", 5000 digits)."""
    return digits.isascii() and digits.isdigit() and len(digits) <= 19 and int(digits) <= MAX_INT
