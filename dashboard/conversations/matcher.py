"""Which reply rule answers a member's message, in a time that does not grow with the number of rules.

The callback runs this on every text a member sends, within WeCom's 5 seconds, so all rules' triggers
live in three structures built once: whole keywords in one dict, contained keywords in one
Aho-Corasick automaton, patterns in one RE2 set (RE2 runs in linear time: no pattern can hang the
callback, whatever it backtracks on under Python's ``re``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import ahocorasick
import re2
from flask_babel import gettext as _

__all__ = [
    "MATCH_KINDS",
    "PATTERN_MEMORY",
    "TRIGGER_LIMITS",
    "Matcher",
    "RuleSpec",
    "Trigger",
    "check_keyword",
    "check_pattern",
    "normalise",
]

MatchKind = Literal["whole", "contains", "pattern"]
MATCH_KINDS: tuple[MatchKind, ...] = ("whole", "contains", "pattern")

#: As WeChat's console (关键词回复): at most 10 triggers a rule, a keyword of 1-30 characters;
#: a pattern up to 200 characters.
TRIGGER_LIMITS: dict[str, int] = {"per_rule": 10, "keyword_min": 1, "keyword_max": 30, "pattern_max": 200}

#: RE2's memory budget for one set of patterns (it is allocated only as the set needs it); all the
#: patterns of thousands of rules fit, and a set that does not is split in two until it does.
PATTERN_MEMORY = 64 << 20

Rank = tuple[int, int]  # (priority, rule id): the lower wins


@dataclass(frozen=True)
class Trigger:
    """One keyword or pattern of a rule, as the matcher sees it."""

    match: MatchKind
    text: str

    def __post_init__(self) -> None:
        if self.match not in MATCH_KINDS:
            raise ValueError(f"match must be one of {MATCH_KINDS}, not {self.match!r}")


@dataclass(frozen=True)
class RuleSpec:
    """A reply rule reduced to what decides whether it wins: lowest priority number, then lowest id."""

    id: int
    priority: int
    triggers: Sequence[Trigger]


def normalise(text: str) -> str:
    """Text as people read it: full-width ＡＢＣ/１２３ as ABC/123, any case, no surrounding spaces."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold()).strip()


def check_keyword(text: str) -> str | None:
    """None when ``text`` can be a whole/contains keyword, else why not (for the field)."""
    size = len(text.strip())
    if not TRIGGER_LIMITS["keyword_min"] <= size <= TRIGGER_LIMITS["keyword_max"]:
        return _("A keyword has %(min)s to %(max)s characters.",
                 min=TRIGGER_LIMITS["keyword_min"], max=TRIGGER_LIMITS["keyword_max"])  # fmt: skip
    return None


def check_pattern(text: str) -> str | None:
    """None when ``text`` compiles under RE2 within the length limit, else why not (for the field)."""
    if not text:
        return _("Enter a pattern.")
    if len(text) > TRIGGER_LIMITS["pattern_max"]:
        return _("A pattern has at most %(max)s characters.", max=TRIGGER_LIMITS["pattern_max"])
    try:
        re2.compile(text, _options(PATTERN_MEMORY))
    except re2.error as exc:
        return _("This pattern cannot be used (RE2 syntax: no look-around, no back-references): %(reason)s",
                 reason=_reason(exc))  # fmt: skip
    except UnicodeEncodeError:
        return _("This pattern holds a character that is not valid text.")
    return None


class Matcher:
    """All enabled rules' triggers, ready to answer :meth:`match` for any number of messages."""

    __slots__ = ("_whole", "_contains", "_patterns")

    def __init__(
        self,
        whole: dict[str, Rank],
        contains: ahocorasick.Automaton | None,
        patterns: list[tuple[re2.Set, list[Rank]]],
    ) -> None:
        self._whole = whole
        self._contains = contains
        self._patterns = patterns

    @classmethod
    def build(cls, rules: Iterable[RuleSpec], *, pattern_memory: int = PATTERN_MEMORY) -> Matcher:
        """Index every trigger of ``rules``.

        :raises ValueError: a keyword that is empty once normalised, or a pattern RE2 refuses
            (both are refused when a rule is saved: :func:`check_keyword`, :func:`check_pattern`).
        """
        tables: dict[MatchKind, dict[str, Rank]] = {kind: {} for kind in MATCH_KINDS}
        for rule in rules:
            rank = (rule.priority, rule.id)
            for trigger in rule.triggers:
                key = trigger.text if trigger.match == "pattern" else _keyword(trigger.text, rule.id)
                table = tables[trigger.match]
                table[key] = min(table.get(key, rank), rank)
        return cls(
            tables["whole"],
            _automaton(tables["contains"]),
            _pattern_sets(list(tables["pattern"].items()), pattern_memory),
        )

    def match(self, text: str) -> int | None:
        """The id of the rule that answers ``text``, or None when no trigger matches."""
        best = min(self._ranks(text), default=None)
        return None if best is None else best[1]

    def _ranks(self, text: str) -> Iterator[Rank]:
        key = normalise(text)
        if key in self._whole:
            yield self._whole[key]
        if self._contains is not None:
            for _end, rank in self._contains.iter(key):
                yield rank
        raw = text.strip().encode("utf-8", "replace")
        for regex_set, ranks in self._patterns:
            for index in regex_set.Match(raw) or ():
                yield ranks[index]


def _keyword(text: str, rule_id: int) -> str:
    key = normalise(text)
    if not key:
        raise ValueError(f"rule {rule_id} has an empty keyword")
    return key


def _automaton(keywords: dict[str, Rank]) -> ahocorasick.Automaton | None:
    """One automaton over every contained keyword; None when there is none (it cannot be empty)."""
    if not keywords:
        return None
    automaton = ahocorasick.Automaton()
    for key, rank in keywords.items():
        automaton.add_word(key, rank)
    automaton.make_automaton()
    return automaton


def _pattern_sets(patterns: list[tuple[str, Rank]], memory: int) -> list[tuple[re2.Set, list[Rank]]]:
    """One RE2 set for all patterns, split in halves only if RE2 cannot fit them in ``memory``."""
    if not patterns:
        return []
    regex_set = re2.Set.SearchSet(_options(memory))
    for text, (_priority, rule_id) in patterns:
        try:
            regex_set.Add(text)
        except (re2.error, UnicodeEncodeError):
            raise ValueError(f"rule {rule_id} has a pattern RE2 refuses: {text!r}") from None
    try:
        regex_set.Compile()
    except re2.error:
        if len(patterns) == 1:
            text, (_priority, rule_id) = patterns[0]
            raise ValueError(f"rule {rule_id} has a pattern too large for {memory} bytes: {text!r}") from None
        half = len(patterns) // 2
        return _pattern_sets(patterns[:half], memory) + _pattern_sets(patterns[half:], memory)
    return [(regex_set, [rank for _text, rank in patterns])]


def _options(memory: int) -> re2.Options:
    options = re2.Options()
    options.max_mem = memory
    options.log_errors = False  # a refused pattern is reported to its author, not to stderr
    return options


def _reason(exc: re2.error) -> str:
    reason = exc.args[0] if exc.args else ""
    return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
