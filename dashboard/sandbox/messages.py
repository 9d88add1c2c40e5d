"""message/send, message/update_template_card and message/recall, as WeCom answers them.

message/send takes template cards, text and news (CONVERSATIONS §5); each lands in the inboxes
as a SandboxMessage whose card_type is the card's type, or "text" or "news" with the checked
content in ``card``.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import timedelta

from flask import current_app

from ..extensions import db
from ..models import SandboxEmployee, SandboxInboxCard, SandboxMessage, SandboxResponseCode, utcnow
from ..wecom.cards import validate
from ..wecom.replies import NEWS_LIMIT, TEXT_LIMIT
from .answers import Refusal, ok
from .directory import Resolved, resolve

MAX_USERS, MAX_PARTIES, MAX_TAGS = 1000, 100, 100
TEXT, NEWS = "text", "news"  # message/send's plain types, kept as the row's card_type
CHAT = "chat"  # card_type of the row holding one employee's own messages (chat.py): not sent by the app
NOT_CARDS = (TEXT, NEWS, CHAT)
# Article fields (doc 90236): title and description are cut at these bytes, links refused past theirs.
TITLE_BYTES, DESCRIPTION_BYTES, LINK_BYTES, PAGEPATH_BYTES = 128, 512, 2048, 128
_LINK = re.compile(r"https?://[^\s/?#]+\S*\Z", re.IGNORECASE)
CALLBACK_TYPES = {"button_interaction", "vote_interaction", "multiple_interaction"}
CODE_LIFE = timedelta(hours=72)  # PROTOCOL 2.3, current docs
RECALL_WINDOW = timedelta(hours=24)
MAX_INTERVAL = 14400
PER_MINUTE, PER_HOUR = 30, 1000  # per member from one app; the excess is dropped silently


def _check_agent(body: dict) -> None:
    agent = body.get("agentid")
    if agent is None:
        raise Refusal(41011, "missing agentid")
    if isinstance(agent, bool) or not isinstance(agent, int) or (
            agent != int(current_app.config["WECOM_AGENT_ID"])):
        raise Refusal(40056, f"invalid agentid {agent!r}")


def _ids(body: dict, name: str, limit: int, errcode: int) -> list[str]:
    value = body.get(name) or ""
    if not isinstance(value, str):
        raise Refusal(40058, f"{name} must be a string of ids joined with |")
    ids = list(dict.fromkeys(s.strip() for s in value.split("|") if s.strip()))
    if len(ids) > limit:
        raise Refusal(errcode, f"{name} has {len(ids)} ids, at most {limit} allowed")
    return ids


def _check_card(card, *, for_update: bool = False) -> None:
    if not isinstance(card, dict):
        raise Refusal(40063, "template_card is empty or not an object")
    if problems := validate(card, for_update=for_update):
        first = problems[0]
        where = f"template_card.{first.path}" if first.path else "template_card"
        raise Refusal(first.code or 40058, f"invalid {where}: {first.message}")


def new_response_code(message: SandboxMessage, userid: str | None) -> str:
    code = secrets.token_urlsafe(32)
    db.session.add(SandboxResponseCode(code=code, message=message, userid=userid,
                                       expires_at=utcnow() + CODE_LIFE))
    return code


def cut_like_wecom(text: str, limit: int) -> str:
    """WeCom keeps the first ``limit`` UTF-8 bytes of a longer text, even inside a character
    (the broken end shows as U+FFFD): a sender must cut on a character boundary itself."""
    data = text.encode("utf-8", "surrogatepass")
    return text if len(data) <= limit else data[:limit].decode("utf-8", "replace")


def _text_content(value) -> dict:
    content = value.get("content") if isinstance(value, dict) else None
    if content is not None and not isinstance(content, str):
        raise Refusal(40058, "text.content must be a string")
    if not content:
        raise Refusal(40063, "text.content is empty")
    return {"content": cut_like_wecom(content, TEXT_LIMIT)}


def _news_content(value) -> dict:
    articles = value.get("articles") if isinstance(value, dict) else None
    if not isinstance(articles, list) or not articles:
        raise Refusal(40063, "news.articles is empty")
    if len(articles) > NEWS_LIMIT:
        raise Refusal(40058, f"news.articles has {len(articles)} articles, at most {NEWS_LIMIT} allowed")
    return {"articles": [_article(f"news.articles[{i}]", a) for i, a in enumerate(articles)]}


def _article(where: str, article) -> dict:
    """One article as WeCom keeps it: title and description cut, a link or a mini program."""
    if not isinstance(article, dict):
        raise Refusal(40058, f"{where} must be an object")
    fields = {key: article.get(key) or "" for key in ("title", "description", "url", "picurl", "appid",
                                                      "pagepath")}
    if any(not isinstance(value, str) for value in fields.values()):
        raise Refusal(40058, f"{where}: title, description, url, picurl, appid and pagepath are strings")
    if not fields["title"].strip():
        raise Refusal(40063, f"{where}.title is empty")
    if not fields["url"] and not (fields["appid"] and fields["pagepath"]):
        raise Refusal(40058, f"{where} needs a url, or an appid with a pagepath")
    for key in ("url", "picurl"):
        if fields[key] and not (_LINK.match(fields[key]) and len(fields[key].encode()) <= LINK_BYTES):
            raise Refusal(40058, f"invalid {where}.{key}: http(s) links of at most {LINK_BYTES} bytes")
    if len(fields["pagepath"].encode()) > PAGEPATH_BYTES:
        raise Refusal(40058, f"invalid {where}.pagepath: at most {PAGEPATH_BYTES} bytes")
    fields["title"] = cut_like_wecom(fields["title"], TITLE_BYTES)
    fields["description"] = cut_like_wecom(fields["description"], DESCRIPTION_BYTES)
    return {key: value for key, value in fields.items() if value}


def _card_content(card) -> dict:
    _check_card(card)
    return card


#: msgtype -> its checker, which returns the content as inboxes show it (Refusal when WeCom refuses).
CONTENTS = {"template_card": _card_content, TEXT: _text_content, NEWS: _news_content}


def send(query, body: dict) -> dict:
    _check_agent(body)
    msgtype = body.get("msgtype")
    if msgtype not in CONTENTS:
        raise Refusal(40008, f"invalid message type {msgtype!r}")
    users = _ids(body, "touser", MAX_USERS, 40032)
    parties, tags = _ids(body, "toparty", MAX_PARTIES, 40058), _ids(body, "totag", MAX_TAGS, 40058)
    if not (users or parties or tags):
        raise Refusal(82001, "All touser & toparty & totag invalid")
    content = CONTENTS[msgtype](body.get(msgtype))
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    if (earlier := _duplicate(body, digest)) is not None:
        return earlier.answer
    task_id = content.get("task_id") if msgtype == "template_card" else None
    if task_id and db.session.scalar(db.select(SandboxMessage.id).filter_by(task_id=task_id)):
        raise Refusal(42014, f"task_id {task_id!r} has already been used by this app")
    kind = content["card_type"] if msgtype == "template_card" else msgtype
    return _deliver(body, kind, content, digest, resolve(users, parties, tags))


def _duplicate(body: dict, digest: str) -> SandboxMessage | None:
    """With enable_duplicate_check, the identical body within the interval is not sent again."""
    if not body.get("enable_duplicate_check"):
        return None
    interval = min(int(body.get("duplicate_check_interval") or 1800), MAX_INTERVAL)
    return db.session.scalar(db.select(SandboxMessage).filter_by(body_hash=digest).where(
        SandboxMessage.created_at > utcnow() - timedelta(seconds=interval)).limit(1))


def _deliver(body: dict, kind: str, content: dict, digest: str, found: Resolved) -> dict:
    licensed = {e.lower() for e in _licensed(found.targets)}
    unlicensed = [u.lower() for u in found.targets if u.lower() not in licensed]
    lists = {"invaliduser": "|".join(found.invalid_users), "invalidparty": "|".join(found.invalid_parties),
             "invalidtag": "|".join(found.invalid_tags), "unlicenseduser": "|".join(unlicensed)}
    reached = [u for u in found.targets if u.lower() in licensed]
    if not reached and not unlicensed:
        raise Refusal(81013, "user & party & tag all invalid", **lists)
    now, dropped = utcnow(), _over_limits(reached)
    message = SandboxMessage(msgid=secrets.token_urlsafe(32), task_id=content.get("task_id") or None,
                             card_type=kind, card=content, request=body, body_hash=digest,
                             recipients=reached, dropped=dropped, answer={}, created_at=now)
    db.session.add(message)
    db.session.add_all(SandboxInboxCard(message=message, userid=u, delivered_at=now)
                       for u in reached if u not in dropped)
    answer = ok(**lists, msgid=message.msgid)
    if kind in CALLBACK_TYPES or (kind not in NOT_CARDS and "action_menu" in content):
        answer["response_code"] = new_response_code(message, None)
    message.answer = answer
    return answer


def _licensed(userids: list[str]) -> list[str]:
    return list(db.session.scalars(db.select(SandboxEmployee.userid).where(
        SandboxEmployee.userid.in_(userids), SandboxEmployee.licensed.is_(True))))


def _over_limits(userids: list[str]) -> list[str]:
    """Members who already got 30 messages this minute or 1000 this hour (dropped silently)."""
    now, over = utcnow(), []
    for window, limit in ((timedelta(minutes=1), PER_MINUTE), (timedelta(hours=1), PER_HOUR)):
        counts = db.session.execute(
            db.select(SandboxInboxCard.userid, db.func.count()).join(SandboxInboxCard.message).where(
                SandboxInboxCard.userid.in_(userids), SandboxInboxCard.delivered_at > now - window,
                SandboxMessage.card_type != CHAT)
            .group_by(SandboxInboxCard.userid)).all()
        over += [u for u, n in counts if n >= limit]
    return list(dict.fromkeys(over))


def update_template_card(query, body: dict) -> dict:
    _check_agent(body)
    if not body.get("response_code"):
        raise Refusal(40063, "response_code is empty")
    button, card = body.get("button"), body.get("template_card")
    if (button is None) == (card is None):
        raise Refusal(40058, "give exactly one of button and template_card")
    if button is not None and not (isinstance(button, dict) and isinstance(
            button.get("replace_name"), str) and button["replace_name"]):
        raise Refusal(40058, "button.replace_name is required")
    if card is not None:
        _check_card(card, for_update=True)
    code = _use_code(str(body["response_code"]))
    rows, invalid = _update_targets(code.message, body)
    for row in rows:
        row.card, row.replace_name = (card, None) if card is not None else (row.card, button["replace_name"])
        row.version += 1
    return ok(invaliduser=invalid)


def _use_code(value: str) -> SandboxResponseCode:
    code = db.session.get(SandboxResponseCode, value)
    if code is None or code.expires_at <= utcnow():
        raise Refusal(60140, "invalid response_code")
    if code.used_at is not None:
        raise Refusal(42022, "response_code has been used")
    code.used_at = utcnow()
    return code


def _update_targets(message: SandboxMessage, body: dict) -> tuple[list[SandboxInboxCard], list[str]]:
    rows = db.session.scalars(db.select(SandboxInboxCard).filter_by(message_id=message.id)).all()
    if body.get("atall") == 1:
        return rows, []
    lists = [body.get(k) or [] for k in ("userids", "partyids", "tagids")]
    if not all(isinstance(v, list) for v in lists):
        raise Refusal(40058, "userids, partyids and tagids must be arrays")
    if len(lists[0]) > MAX_USERS or len(lists[1]) > MAX_PARTIES or len(lists[2]) > MAX_TAGS:
        raise Refusal(40058, "too many userids, partyids or tagids")
    found = resolve(*([str(i) for i in ids] for ids in lists))
    recipients = {u.lower() for u in message.recipients}
    invalid = found.invalid_users + [u.lower() for u in found.targets if u.lower() not in recipients]
    wanted = {u.lower() for u in found.targets}
    return [r for r in rows if r.userid.lower() in wanted], invalid


def recall(query, body: dict) -> dict:
    msgid = body.get("msgid")
    if not isinstance(msgid, str) or not msgid:
        raise Refusal(40063, "msgid is empty")
    message = db.session.scalar(db.select(SandboxMessage).filter_by(msgid=msgid))
    if message is None:
        raise Refusal(40058, "invalid msgid")
    if message.created_at < utcnow() - RECALL_WINDOW:
        raise Refusal(42052, "msgid expired: only messages of the last 24 hours can be recalled")
    message.recalled_at = message.recalled_at or utcnow()
    db.session.execute(db.update(SandboxInboxCard).filter_by(message_id=message.id)
                       .values(version=SandboxInboxCard.version + 1))
    return ok()
