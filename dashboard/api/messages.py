"""The inbox in the JSON API: what members sent the app with what answered it, and answering one
by hand (the same queries and service the inbox pages use)."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import request
from flask_babel import gettext as _

from ..conversations import queries
from ..conversations import service as conversations
from ..extensions import db
from ..models import ConversationMessage
from ..wecom.replies import TEXT_LIMIT
from . import schemas
from .auth import api_role_required, api_user
from .errors import ApiError, Invalid
from .openapi import RESPONSES
from .views import ID, READERS, WRITERS, bp


@bp.get("/messages")
@api_role_required(*READERS)
def message_list():
    query = queries.messages(_userid(), _since(), _flag("unanswered"))
    page = db.paginate(query, page=schemas.query_int("page", 1, 1, 100_000),
                       per_page=schemas.query_int("per_page", 50, 1, 100), error_out=False)
    found = queries.answers(page.items)
    return {"items": [message_json(m, found.get(m.dedupe_key, [])) for m in page.items],
            "total": page.total, "page": page.page, "per_page": page.per_page}


@bp.post(f"/messages/<{ID}:message_id>/reply")
@api_role_required(*WRITERS)
def message_reply(message_id):
    message = queries.incoming(message_id)
    if message is None:
        raise ApiError(404, _("There is no message %(id)s from a member.", id=message_id))
    text = _reply_text()
    answer = conversations.reply_by_hand(message, text, actor=api_user())
    if answer.status == "failed":
        raise ApiError(502, _("WeCom refused or did not answer: %(error)s", error=answer.error),
                       answer=answer_json(answer))
    return answer_json(answer), 201


def _reply_text() -> str:
    """The body's text: not blank, within WeCom's 2,048 bytes; 422 at "text" otherwise."""
    data = schemas.json_body()
    if errors := schemas.problems(data, RESPONSES["MessageReply"]):
        raise Invalid(errors)
    text = data["text"].strip()
    size = len(text.encode())
    if not text:
        raise Invalid([{"path": "text", "message": _("Write the answer first.")}])
    if size > TEXT_LIMIT:
        raise Invalid([{"path": "text", "message": _("%(size)s bytes; at most %(limit)s.",
                                                     size=f"{size:,}", limit=f"{TEXT_LIMIT:,}")}])
    return text


def _userid() -> str | None:
    userid = request.args.get("userid", "")
    if len(userid) > 64:
        raise Invalid([{"path": "userid", "message": _("must be at most %(max)s characters", max=64)}])
    return userid or None


def _since() -> datetime | None:
    raw = request.args.get("since")
    if raw is None:
        return None
    if problem := schemas.FORMATS["date-time"](raw):
        raise Invalid([{"path": "since", "message": problem}])
    return datetime.fromisoformat(raw).astimezone(timezone.utc)


def _flag(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw not in (None, "true", "false"):
        raise Invalid([{"path": name, "message": _("must be %(type)s", type=schemas.ARTICLES["boolean"])}])
    return None if raw is None else raw == "true"


def message_json(message: ConversationMessage, answers: list[ConversationMessage]) -> dict:
    return {"id": message.id, "userid": message.userid, "msgtype": message.msg_type,
            "text": message.text, "time": message.created_at.isoformat(), "answered": message.answered,
            "answers": [answer_json(a) for a in answers]}


def answer_json(answer: ConversationMessage) -> dict:
    """The answer with what identifies its reply: the words, a news reply's articles, a card's id."""
    data = answer.data or {}
    return {"rule_id": answer.rule_id, "rule": answer.rule.name if answer.rule else None,
            "type": answer.msg_type, "text": answer.text,
            "articles": data.get("articles") if answer.msg_type == "news" else None,
            "card_id": data.get("card_id") if answer.msg_type == "card" else None,
            "via": answer.via, "status": answer.status}
