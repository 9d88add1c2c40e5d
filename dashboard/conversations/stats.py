"""Read-only figures of the conversations report: messages a day, the rules matched most, the
members who wrote, and the words of unanswered messages (ideas for new rules).

Days are the local days of TIMEZONE, counted in SQL between their UTC bounds (so a zone with
summer time still gets whole days); the words are counted in Python over the newest unanswered
texts, by the rule that :func:`frequent_words` documents.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from ..extensions import db
from ..models import ConversationMessage, DirectoryUser, ReplyRule, utcnow
from .matcher import TRIGGER_LIMITS, normalise

M = ConversationMessage
PERIOD_MAX = 366  # days: a year, leap or not
WORD_SAMPLE = 5_000  # the newest unanswered texts read for words: what people ask lately
TEXT_SAMPLE = 200  # characters of each text read for words (a pasted essay counts as its start)
MIN_MESSAGES = 2  # a word in one message only is no idea for a rule

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # the CJK ideographs: extension A, unified, compatibility
TOKEN = re.compile(f"(?P<cjk>[{CJK}]+)|(?P<word>[^\\W_{CJK}]+)")
CJK_WORD = re.compile(f"[{CJK}]+")
CJK_SIZES = (2, 3, 4)
# A CJK piece that starts or ends with one of these is not a word of its own: particles and pronouns.
STOP_EDGES = frozenset("的了是我你他她它吗呢吧啊呀哦嗯么")
# Whole words too common to suggest a rule: Chinese phrases of politeness and grammar, English ones.
STOP_WORDS = frozenset("""什么 怎么 一下 可以 请问 谢谢 你好 我们 你们 这个 那个 没有 还是 就是 因为 所以 如果
    但是 the a an and or is are was be to of in on at for it this that with my me you your we our
    what how can do does not no yes hi hello please thanks thank""".split())


@dataclass(frozen=True)
class Period:
    """The last ``days`` local days up to today: their dates and their UTC bounds (one more
    bound than dates: the end of today)."""

    days: int
    zone: str
    dates: tuple[date, ...]
    bounds: tuple[datetime, ...]

    @property
    def start(self) -> datetime:
        return self.bounds[0]

    @property
    def end(self) -> datetime:
        return self.bounds[-1]


@dataclass(frozen=True)
class Day:
    date: date
    messages: int
    unanswered: int

    @property
    def answered(self) -> int:
        return self.messages - self.unanswered


@dataclass(frozen=True)
class RuleUse:
    rule_id: int
    name: str
    kind: str
    times: int  # messages (and entries, for the welcome) the rule answered
    last: datetime


@dataclass(frozen=True)
class Writer:
    userid: str
    name: str | None  # from the cached directory; None when it does not know the member
    messages: int
    last: datetime


@dataclass(frozen=True)
class Word:
    word: str
    messages: int  # unanswered messages that hold it


def period(days: int, zone: str, now: datetime | None = None) -> Period:
    """The last ``days`` days (1 to PERIOD_MAX) of ``zone``, today included."""
    days, tz = min(max(days, 1), PERIOD_MAX), ZoneInfo(zone)
    today = (now or utcnow()).astimezone(tz).date()
    dates = tuple(today - timedelta(days=days - 1 - index) for index in range(days))
    bounds = tuple(datetime.combine(day, time(), tz).astimezone(timezone.utc)
                   for day in (*dates, today + timedelta(days=1)))
    return Period(days, zone, dates, bounds)


def _received(p: Period):
    """What members sent the app (messages and menu clicks) within the period."""
    return (M.direction == "in", M.created_at >= p.start, M.created_at < p.end)


def daily(p: Period) -> list[Day]:
    """Messages received and left unanswered on each day of the period, oldest first."""
    day = db.case(*[(M.created_at < bound, index) for index, bound in enumerate(p.bounds[1:])])
    unanswered = db.func.sum(db.case((db.not_(M.answered), 1), else_=0))
    counts = {index: (n, left) for index, n, left in db.session.execute(
        db.select(day, db.func.count(), unanswered).where(*_received(p)).group_by(day))}
    return [Day(when, *counts.get(index, (0, 0))) for index, when in enumerate(p.dates)]


def writer_count(p: Period) -> int:
    """How many members wrote to the app in the period."""
    return db.session.scalar(db.select(db.func.count(db.distinct(M.userid))).where(*_received(p)))


def top_rules(p: Period, limit: int | None = None) -> list[RuleUse]:
    """The rules that answered most in the period (a rule of several replies counts once per
    message), then the most recently used; rules deleted since are left out."""
    times, last = db.func.count(db.distinct(M.in_reply_to)), db.func.max(M.created_at)
    query = (db.select(ReplyRule.id, ReplyRule.name, ReplyRule.kind, times, last)
             .join(ReplyRule, ReplyRule.id == M.rule_id)
             .where(M.direction == "out", M.via.in_(("passive", "active")),
                    M.created_at >= p.start, M.created_at < p.end)
             .group_by(ReplyRule.id, ReplyRule.name, ReplyRule.kind)
             .order_by(times.desc(), last.desc(), ReplyRule.id).limit(limit))
    return [RuleUse(*row) for row in db.session.execute(query)]


def writers(p: Period, limit: int | None = None) -> list[Writer]:
    """The members who wrote most in the period, with their names from the cached directory."""
    messages, last = db.func.count(), db.func.max(M.created_at)
    query = (db.select(M.userid, DirectoryUser.name, messages, last)
             .outerjoin(DirectoryUser, DirectoryUser.userid == M.userid).where(*_received(p))
             .group_by(M.userid, DirectoryUser.name)
             .order_by(messages.desc(), last.desc(), M.userid).limit(limit))
    return [Writer(*row) for row in db.session.execute(query)]


def unanswered_texts(p: Period) -> list[str]:
    """The newest WORD_SAMPLE texts members sent in the period that nothing answered."""
    return list(db.session.scalars(
        db.select(M.text).where(*_received(p), M.msg_type == "text", db.not_(M.answered))
        .order_by(M.created_at.desc(), M.id.desc()).limit(WORD_SAMPLE)))


def frequent_words(texts: Iterable[str], limit: int | None = None) -> list[Word]:
    """The words most messages hold, by how many messages hold each.

    Chinese has no spaces, so the rule is a simple one:

    1. a text is read as the matcher reads it (``normalise``: full-width to half-width, any
       case), its first TEXT_SAMPLE characters;
    2. in a run of CJK characters, every piece of 2, 3 or 4 characters is a word, unless it
       starts or ends with a particle or pronoun (STOP_EDGES: 的 了 吗 我 你 ...);
    3. elsewhere, whole words of letters and digits are words (2 to 30 characters, a keyword's
       limits), but not numbers alone;
    4. STOP_WORDS (什么, 谢谢, the, please ...) are not; a word counts once per message, and
       only a word in MIN_MESSAGES messages or more is shown;
    5. a CJK piece held by exactly as many messages as a longer piece containing it (so by the
       same messages) is left out: 请假条 in 3 messages hides 请假 in 3, not 请假 in 5.
    """
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(_words(normalise(text[:TEXT_SAMPLE])))
    hidden = {piece for word, n in counts.items() if len(word) > 2 and CJK_WORD.fullmatch(word)
              for piece in (word[:-1], word[1:]) if counts.get(piece) == n}
    ranked = sorted((item for item in counts.items() if item[1] >= MIN_MESSAGES and item[0] not in hidden),
                    key=lambda item: (-item[1], -len(item[0]), item[0]))
    return [Word(word, n) for word, n in ranked[:limit]]


def _words(text: str) -> set[str]:
    found: set[str] = set()
    for token in TOKEN.finditer(text):
        run = token.group("cjk")
        if run:
            found.update(piece for size in CJK_SIZES for piece in _pieces(run, size)
                         if piece[0] not in STOP_EDGES and piece[-1] not in STOP_EDGES)
        elif 2 <= len(word := token.group("word")) <= TRIGGER_LIMITS["keyword_max"] and not word.isdecimal():
            found.add(word)
    return found - STOP_WORDS


def _pieces(run: str, size: int) -> Iterable[str]:
    return (run[start:start + size] for start in range(len(run) - size + 1))
