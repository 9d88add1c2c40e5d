"""The inbox, read-only: one thread per member (what they sent the app and what was answered),
filtered and paginated; a member's thread, each message with the answers that name it; the JSON
API's list of messages."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, or_
from sqlalchemy.orm import aliased, selectinload

from ..directory import snapshot
from ..extensions import db
from ..models import Card, ConversationMessage, DirectoryUser
from ..paging import Page

Message = ConversationMessage
PICTURE_KEPT = timedelta(days=3)  # WeCom keeps a member's picture (PicUrl, MediaId) this long


@dataclass(frozen=True)
class Filters:
    """What the inbox shows: members whose userid or name contains ``member``, in ``department``
    (and those below it), who wrote ``q``, between the dates ``start`` and ``end`` (in TIMEZONE)."""

    member: str = ""
    q: str = ""
    department: int | None = None
    start: date | None = None
    end: date | None = None
    unanswered: bool = False


@dataclass(frozen=True)
class Thread:
    """A member's thread in the inbox list."""

    userid: str
    name: str  # from the directory; the userid when it has none
    messages: int  # what the member sent (in the filtered period)
    unanswered: int
    last: Message  # the latest message, either way


@dataclass
class Entry:
    """A message in a thread: an incoming one with its answers, or an answer that names no stored
    message (the welcome on opening the app)."""

    message: Message
    answers: list[Message] = field(default_factory=list)


# --- the list of threads ---------------------------------------------------------------------------


def threads(filters: Filters, page: int = 1, per_page: int = 30) -> Page:
    """Threads with a message the filters choose, latest first; counts are of chosen messages."""
    incoming = Message.direction == "in"
    groups = db.session.execute(
        db.select(Message.userid, func.count().filter(incoming).label("messages"),
                  func.count().filter(incoming, ~Message.answered).label("unanswered"),
                  func.max(Message.id).label("last_id"), func.max(Message.created_at).label("last_at"))
        .where(*_conditions(filters)).group_by(Message.userid)
        .order_by(func.max(Message.created_at).desc(), Message.userid)).all()
    if filters.unanswered:
        groups = [g for g in groups if g.unanswered]
    if filters.department is not None:
        inside = {u.lower() for u in snapshot.load().members([filters.department])}
        groups = [g for g in groups if g.userid.lower() in inside]
    shown = groups[(page - 1) * per_page:page * per_page]
    last = {m.id: m for m in db.session.scalars(db.select(Message).where(
        Message.id.in_([g.last_id for g in shown])))}
    known = names([g.userid for g in shown])
    items = [Thread(g.userid, known.get(g.userid.lower(), g.userid), g.messages, g.unanswered,
                    last[g.last_id]) for g in shown]
    return Page(items, page, per_page, len(groups))


def _conditions(filters: Filters) -> list:
    out = []
    if filters.start:
        out.append(Message.created_at >= day_start(filters.start))
    if filters.end:
        out.append(Message.created_at < day_start(filters.end + timedelta(days=1)))
    if words := filters.q.strip():
        out += [Message.direction == "in", Message.text.icontains(words, autoescape=True)]
    if member := filters.member.strip():
        named = db.select(func.lower(DirectoryUser.userid)).where(
            DirectoryUser.name.icontains(member, autoescape=True))
        out.append(or_(Message.userid.icontains(member, autoescape=True),
                       func.lower(Message.userid).in_(named)))
    return out


def day_start(day: date) -> datetime:
    """Midnight of ``day`` in TIMEZONE, in UTC."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)


def names(userids: list[str]) -> dict[str, str]:
    """{lower-case userid: name} of these members, from the cached directory."""
    lowered = {u.lower() for u in userids}
    rows = db.session.execute(db.select(DirectoryUser.userid, DirectoryUser.name).where(
        func.lower(DirectoryUser.userid).in_(lowered))) if lowered else []
    return {userid.lower(): name for userid, name in rows if name}


# --- a member's thread ---------------------------------------------------------------------------


def thread(userid: str, page: int = 1, per_page: int = 50) -> Page:
    """The member's messages, newest page first, each page in time order (Entry items)."""
    asked = aliased(Message)
    answers_a_message = db.select(asked.id).where(asked.dedupe_key == Message.in_reply_to).exists()
    heads = db.paginate(
        db.select(Message).where(Message.userid == userid, or_(
            Message.direction == "in", Message.in_reply_to.is_(None), ~answers_a_message))
        .order_by(Message.created_at.desc(), Message.id.desc()).options(*_loaded()),
        page=page, per_page=per_page, error_out=False)
    found = answers([m for m in heads.items if m.direction == "in"])
    items = [Entry(m, found.get(m.dedupe_key, []) if m.direction == "in" else [])
             for m in reversed(heads.items)]
    return Page(items, heads.page, per_page, heads.total or 0)


def answers(messages: list[Message]) -> dict[str, list[Message]]:
    """{dedupe_key: its answers in time order} of these incoming messages."""
    keys = [m.dedupe_key for m in messages if m.dedupe_key]
    out: dict[str, list[Message]] = {}
    if keys:
        for row in db.session.scalars(db.select(Message).where(Message.in_reply_to.in_(keys))
                                      .order_by(Message.created_at, Message.id).options(*_loaded())):
            out.setdefault(row.in_reply_to, []).append(row)
    return out


def _loaded() -> tuple:
    return selectinload(Message.rule), selectinload(Message.actor)


def card_names(entries: list[Entry]) -> dict[int, str]:
    """{card id: name} of the cards the entries' answers sent."""
    ids = {(a.data or {}).get("card_id") for e in entries for a in [e.message, *e.answers]
           if a.msg_type == "card"}
    ids = {i for i in ids if isinstance(i, int)}
    return dict(db.session.execute(db.select(Card.id, Card.name).where(Card.id.in_(ids)))) if ids else {}


def picture(message: Message, now: datetime) -> str | None:
    """The member's picture while WeCom keeps it (3 days from its CreateTime), else None."""
    url = web_url((message.data or {}).get("PicUrl"))
    sent = (datetime.fromtimestamp(message.create_time, timezone.utc) if message.create_time
            else message.created_at)
    return url if url and now - sent < PICTURE_KEPT else None


def web_url(value) -> str | None:
    """``value`` when it is an http(s) address, so a page may link to it."""
    if not isinstance(value, str):
        return None
    return value if urlsplit(value.strip()).scheme.lower() in ("http", "https") else None


def incoming(message_id: int) -> Message | None:
    """A message a member sent (answers cannot be answered)."""
    message = db.session.get(Message, message_id)
    return message if message is not None and message.direction == "in" else None


def latest_incoming(userid: str) -> Message | None:
    return db.session.scalar(db.select(Message).filter_by(userid=userid, direction="in")
                             .order_by(Message.created_at.desc(), Message.id.desc()).limit(1))


# --- the API's list ------------------------------------------------------------------------------


def messages(userid: str | None = None, since: datetime | None = None, unanswered: bool | None = None):
    """What members sent, oldest first (a select for db.paginate)."""
    query = db.select(Message).where(Message.direction == "in")
    if userid:
        query = query.where(func.lower(Message.userid) == userid.lower())
    if since is not None:
        query = query.where(Message.created_at >= since)
    if unanswered is not None:
        query = query.where(Message.answered == (not unanswered))
    return query.order_by(Message.created_at, Message.id)

