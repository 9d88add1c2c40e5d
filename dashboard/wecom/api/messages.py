"""消息推送 (message push): send, update and recall template cards as the app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

MAX_USERS, MAX_PARTIES, MAX_TAGS = 1000, 100, 100
MAX_DUPLICATE_CHECK_INTERVAL = 14400

Recipients = str | Iterable[str | int] | None


def _split(value: Recipients) -> list[str]:
    """Ids from a list or a `|`-joined string: stripped, non-empty, first occurrence kept."""
    if value is None:
        return []
    items = value.split("|") if isinstance(value, str) else value
    return list(dict.fromkeys(s for s in (str(i).strip() for i in items) if s))


def _checked(name: str, value: Recipients, limit: int) -> list[str]:
    ids = _split(value)
    if len(ids) > limit:
        raise ValueError(f"{name}: {len(ids)} ids, WeCom allows at most {limit} per call")
    return ids


def build_send_body(
    template_card: dict,
    agent_id: int,
    *,
    touser: Recipients = None,
    toparty: Recipients = None,
    totag: Recipients = None,
    enable_id_trans: bool = False,
    enable_duplicate_check: bool = False,
    duplicate_check_interval: int = 1800,
) -> dict:
    """Build the ``message/send`` body: the one payload both the preview and the sender use.

    Recipients are lists or `|`-joined strings (``"@all"`` allowed as touser), de-duplicated
    and joined with `|`. Every key is always present, in a fixed order, with empty recipient
    fields as ``""`` (as in WeCom's examples), so a card always gives the same bytes.

    :raises ValueError: over 1000 users, 100 parties or 100 tags; an interval not in 1..14400.
    """
    if not 0 < duplicate_check_interval <= MAX_DUPLICATE_CHECK_INTERVAL:
        raise ValueError(f"duplicate_check_interval must be 1..{MAX_DUPLICATE_CHECK_INTERVAL}")
    return {
        "touser": "|".join(_checked("touser", touser, MAX_USERS)),
        "toparty": "|".join(_checked("toparty", toparty, MAX_PARTIES)),
        "totag": "|".join(_checked("totag", totag, MAX_TAGS)),
        "msgtype": "template_card",
        "agentid": int(agent_id),
        "template_card": template_card,
        "enable_id_trans": int(enable_id_trans),
        "enable_duplicate_check": int(enable_duplicate_check),
        "duplicate_check_interval": int(duplicate_check_interval),
    }


def build_update_body(
    response_code: str,
    agent_id: int,
    *,
    userids: Recipients = None,
    partyids: Recipients = None,
    tagids: Recipients = None,
    atall: bool = False,
    template_card: dict | None = None,
    replace_name: str | None = None,
    enable_id_trans: bool = False,
) -> dict:
    """Build the ``message/update_template_card`` body (see ``WeComClient.update_template_card``).

    Empty id lists are left out; ``enable_id_trans`` only goes with ``template_card``.
    """
    if (template_card is None) == (replace_name is None):
        raise ValueError("give exactly one of template_card and replace_name")
    if not response_code:
        raise ValueError("response_code is required")
    targets: dict[str, Any] = {
        "userids": _checked("userids", userids, MAX_USERS),
        "partyids": [int(i) for i in _checked("partyids", partyids, MAX_PARTIES)],
        "tagids": [int(i) for i in _checked("tagids", tagids, MAX_TAGS)],
    }
    if not (atall or any(targets.values())):
        raise ValueError("give userids, partyids or tagids to update, or atall=True")
    body = {k: v for k, v in targets.items() if v}
    body.update(atall=int(atall), agentid=int(agent_id), response_code=response_code)
    if replace_name is not None:
        body["button"] = {"replace_name": replace_name}
    else:
        body.update(template_card=template_card, enable_id_trans=int(enable_id_trans))
    return body


@dataclass(frozen=True)
class SendResult:
    """A successful ``message/send``: who was skipped, and the ids to recall or update it."""

    errcode: int
    errmsg: str
    msgid: str
    response_code: str | None  # only for cards that can call back
    invalid_users: list[str]
    invalid_parties: list[str]
    invalid_tags: list[str]
    unlicensed_users: list[str]
    raw: dict

    @classmethod
    def from_response(cls, data: dict) -> SendResult:
        return cls(
            errcode=data.get("errcode", 0),
            errmsg=data.get("errmsg", ""),
            msgid=data.get("msgid", ""),
            response_code=data.get("response_code") or None,
            invalid_users=_split(data.get("invaliduser")),
            invalid_parties=_split(data.get("invalidparty")),
            invalid_tags=_split(data.get("invalidtag")),
            unlicensed_users=_split(data.get("unlicenseduser")),
            raw=data,
        )


@dataclass(frozen=True)
class UpdateResult:
    """A successful ``message/update_template_card``; WeCom lists invalid users as an array."""

    invalid_users: list[str]
    raw: dict


class MessagesAPI:
    """The message-push calls; mixed into ``WeComClient``, which provides ``_call``."""

    agent_id: int
    _call: Callable[..., dict]

    def send_template_card(
        self,
        template_card: dict,
        *,
        touser: Recipients = None,
        toparty: Recipients = None,
        totag: Recipients = None,
        enable_id_trans: bool = False,
        enable_duplicate_check: bool = False,
        duplicate_check_interval: int = 1800,
    ) -> SendResult:
        """Send a template card to up to 1000 users, 100 departments and 100 tags.

        Arguments as for :func:`build_send_body`. To retry after a :class:`RetryableError`
        with ``request_sent``, build the body yourself and :meth:`send` it again unchanged
        with ``enable_duplicate_check``.

        :raises ValueError: no recipients at all, or too many for one call.
        """
        body = build_send_body(
            template_card,
            self.agent_id,
            touser=touser,
            toparty=toparty,
            totag=totag,
            enable_id_trans=enable_id_trans,
            enable_duplicate_check=enable_duplicate_check,
            duplicate_check_interval=duplicate_check_interval,
        )
        if not (body["touser"] or body["toparty"] or body["totag"]):
            raise ValueError("no recipients: give touser, toparty or totag")
        return self.send(body)

    def send(self, body: dict) -> SendResult:
        """Post a ready ``message/send`` body unchanged (e.g. to retry the identical body)."""
        return SendResult.from_response(self._call("POST", "message/send", body=body))

    def update_template_card(
        self,
        response_code: str,
        *,
        userids: Recipients = None,
        partyids: Recipients = None,
        tagids: Recipients = None,
        atall: bool = False,
        template_card: dict | None = None,
        replace_name: str | None = None,
        enable_id_trans: bool = False,
    ) -> UpdateResult:
        """Update a sent card with a one-time ``response_code`` (from the send or a callback).

        Give exactly one of ``replace_name`` (mode A: grey out the clicked button with this
        caption) and ``template_card`` (mode B: replace the card), and whom to update:
        ``userids``/``partyids``/``tagids`` or ``atall``.

        :raises ValueError: both modes or neither, nobody to update, or too many ids.
        """
        body = build_update_body(
            response_code,
            self.agent_id,
            userids=userids,
            partyids=partyids,
            tagids=tagids,
            atall=atall,
            template_card=template_card,
            replace_name=replace_name,
            enable_id_trans=enable_id_trans,
        )
        data = self._call("POST", "message/update_template_card", body=body)
        return UpdateResult(invalid_users=_split(data.get("invaliduser")), raw=data)

    def recall(self, msgid: str) -> None:
        """Recall a message sent within the last 24 hours (42052 after that)."""
        self._call("POST", "message/recall", body={"msgid": msgid})
