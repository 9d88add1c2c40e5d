"""Report summaries kept from the events (dashboard/callback/rollup.py keeps them up to date).

Rows belong to the campaign whose report they count in: a reminder's answers are its parent's.
"""
from sqlalchemy import BigInteger, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class Respondent(db.Model):
    """One row per person who answered a campaign (a template_card_event)."""

    __table_args__ = (
        UniqueConstraint("campaign_id", "userid"),
        Index("ix_respondent_first", "campaign_id", "first_time"),
        Index("ix_respondent_seconds", "campaign_id", "response_seconds"),
        Index("ix_respondent_answers", "campaign_id", "answers"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int]
    userid: Mapped[str] = mapped_column(String(64))
    first_time: Mapped[int] = mapped_column(BigInteger)  # CreateTime of the first answer
    last_time: Mapped[int] = mapped_column(BigInteger)
    answers: Mapped[int]
    sent_time: Mapped[int | None] = mapped_column(BigInteger)  # when the card was delivered to them
    response_seconds: Mapped[int | None] = mapped_column(BigInteger)  # from delivery to first answer


class CurrentAnswer(db.Model):
    """The options of each person's latest answer to each question (CreateTime, then event id,
    decides); ``first_option`` marks one row per person and question."""

    __table_args__ = (
        Index("ix_current_answer_tally", "campaign_id", "question_key", "option_id", "first_option",
              "userid"),
        Index("ix_current_answer_user", "campaign_id", "userid", "question_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int]
    userid: Mapped[str] = mapped_column(String(64))
    question_key: Mapped[str] = mapped_column(String(1024))
    option_id: Mapped[str] = mapped_column(String(128))
    first_option: Mapped[bool]
    event_id: Mapped[int]
    create_time: Mapped[int] = mapped_column(BigInteger)


class OptionTally(db.Model):
    """CurrentAnswer counted: per question and option, the people whose latest answer chose it
    (``n``) and, of those, the rows marked first_option (summed per question: people who answered
    it). Kept with CurrentAnswer, so a report reads a few rows rather than one per person."""

    __table_args__ = (UniqueConstraint("campaign_id", "question_key", "option_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int]
    question_key: Mapped[str] = mapped_column(String(1024))
    option_id: Mapped[str] = mapped_column(String(128))
    n: Mapped[int]
    people: Mapped[int]


class EventCount(db.Model):
    """Clicks per button key and choices per menu key."""

    __table_args__ = (UniqueConstraint("campaign_id", "event", "event_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int]
    event: Mapped[str] = mapped_column(String(64))
    event_key: Mapped[str] = mapped_column(String(1024))
    n: Mapped[int]


class RollupState(db.Model):
    """One row; updating it is the lock that lets one process at a time roll events up."""

    id: Mapped[int] = mapped_column(primary_key=True)
    runs: Mapped[int] = mapped_column(BigInteger, default=0)
    events: Mapped[int] = mapped_column(BigInteger, default=0)
