"""What members say to the app and what it answers: reply rules, the inbox's messages, the menu.

The callback writes an incoming message and the app's passive answer in one transaction with the
event (dashboard/conversations/); the worker sends the active answers (more replies, cards).
"""
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Json, JSONType, UTCDateTime, utcnow

RULE_KINDS = ("keyword", "default", "welcome")  # 关键词回复, 收到消息回复, the welcome on enter_agent
REPLY_MODES = ("all", "random")


class ReplyRule(db.Model):
    """A rule: triggers (``[{"match": "whole"|"contains"|"pattern", "text"}]``) and replies
    (``[{"type": "text", "text"} | {"type": "news", "articles": [...]} | {"type": "card",
    "card_id"}]``), all sent or one at random. The default reply and the welcome are rules of
    their own kind, without triggers (at most one of each)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(16), default="keyword", index=True)
    priority: Mapped[int] = mapped_column(default=100)  # lower first
    enabled: Mapped[bool] = mapped_column(default=True)
    reply_mode: Mapped[str] = mapped_column(String(8), default="all")
    triggers: Mapped[list] = mapped_column(JSONType, default=list)
    replies: Mapped[list] = mapped_column(JSONType, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    created_by = relationship("User")


class ConversationMessage(db.Model):
    """One message in a member's thread: what they sent the app (``direction`` "in": text, image,
    voice, video, location, link, a menu click) or what the app or a staff member answered ("out").

    An answer names the message it answers by that message's ``dedupe_key`` (``in_reply_to``):
    the callback writes both in one transaction, before either has an id.
    """

    __table_args__ = (
        Index("ix_conversation_message_user_created", "userid", "created_at"),
        Index("ix_conversation_message_reply_to", "in_reply_to"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    userid: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(3))  # in, out
    msg_type: Mapped[str] = mapped_column(String(32))  # text, image, ..., event:click; out: text, news, card
    text: Mapped[str] = mapped_column(Text, default="")  # the words, a menu key, a place's label ...
    data: Mapped[Json | None] = mapped_column(JSONType)  # the rest: MediaId, PicUrl, articles, card_id ...
    create_time: Mapped[int | None] = mapped_column(BigInteger)  # WeCom's CreateTime of an incoming one
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(64), unique=True)  # incoming: the event's
    answered: Mapped[bool] = mapped_column(default=False)  # incoming: the app or a person answered
    in_reply_to: Mapped[str | None] = mapped_column(String(64))  # outgoing: the dedupe_key answered
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("reply_rule.id", ondelete="SET NULL"), index=True)
    via: Mapped[str | None] = mapped_column(String(16))  # passive, active, manual (out)
    status: Mapped[str | None] = mapped_column(String(16))  # out: sent, queued, failed
    error: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # who answered by hand

    rule = relationship("ReplyRule")
    actor = relationship("User")


class ReplyCampaign(db.Model):
    """The standing campaign that carries a rule's card reply: its recipients grow as people ask,
    and its clicks and votes count in its report like any campaign's."""

    __table_args__ = (UniqueConstraint("rule_id", "card_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("reply_rule.id", ondelete="CASCADE"))
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))


class AppMenu(db.Model):
    """The app's custom menu (one row, id 1) as edited, and when it was last published."""

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    menu: Mapped[Json] = mapped_column(JSONType, default=dict)  # {"button": [...]}, WeCom's JSON
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    publish_error: Mapped[str | None] = mapped_column(Text)

    published_by = relationship("User")
