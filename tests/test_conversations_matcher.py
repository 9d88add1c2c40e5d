"""The keyword matcher: whole, contains and pattern triggers, the winning rule, and text as people type it."""
import re

import pytest

from dashboard.conversations.matcher import (
    TRIGGER_LIMITS,
    Matcher,
    RuleSpec,
    Trigger,
    check_keyword,
    check_pattern,
    normalise,
)

CATASTROPHIC = "(a+)+$"  # exponential under backtracking engines on "aaaa…b"


def rule(rule_id: int, *triggers: tuple[str, str], priority: int = 100) -> RuleSpec:
    return RuleSpec(rule_id, priority, [Trigger(match, text) for match, text in triggers])


def matcher(*rules: RuleSpec) -> Matcher:
    return Matcher.build(rules)


@pytest.mark.parametrize(
    "message, expected",
    [
        ("test", 1), ("  test \n", 1), ("a test please", None),           # whole: the message is the keyword
        ("我要请假", 2), ("请假", 2), ("请", None),                          # contains: the keyword is in it
        ("order 123456", 3), ("order 12345", None), ("ORDER 123456", None),  # pattern: RE2 search, raw text
        ("nothing here", None), ("", None),
    ],
)  # fmt: skip
def test_each_kind_of_trigger(message, expected):
    m = matcher(rule(1, ("whole", "test")), rule(2, ("contains", "请假")), rule(3, ("pattern", r"order \d{6}")))
    assert m.match(message) == expected


def test_lowest_priority_number_wins_then_lowest_id():
    rules = [
        rule(7, ("contains", "投票"), priority=20),
        rule(5, ("whole", "我要投票"), priority=30),
        rule(9, ("pattern", "投"), priority=10),
        rule(3, ("contains", "票"), priority=10),
    ]
    assert matcher(*rules).match("我要投票") == 3
    assert matcher(*rules[:3]).match("我要投票") == 9
    assert matcher(*rules[:2]).match("我要投票") == 7
    assert matcher(*rules[1:2]).match("我要投票") == 5


def test_the_same_keyword_in_two_rules_goes_to_the_better_one():
    m = matcher(rule(2, ("whole", "hi"), ("contains", "yo")), rule(1, ("whole", "HI"), ("contains", "YO")))
    assert (m.match("hi"), m.match("yo!")) == (1, 1)


def test_a_shorter_keyword_inside_a_longer_one_still_counts():
    m = matcher(rule(1, ("contains", "she sells"), priority=9), rule(2, ("contains", "he"), priority=1))
    assert m.match("she sells shells") == 2


@pytest.mark.parametrize(
    "keyword, message",
    [
        ("ABC123", "ａｂｃ１２３"), ("abc", "ＡＢＣ"), ("Straße", "STRASSE"), ("hello", "ℌello"),
        ("file", "ＦＩＬＥ"), ("FILE", "ﬁle"), ("ｶﾀｶﾅ", "カタカナ"), ("①", "1"),
    ],
)  # fmt: skip
def test_keywords_match_in_any_width_and_case(keyword, message):
    m = matcher(rule(1, ("whole", keyword)), rule(2, ("contains", f"<{keyword}>")))
    assert (m.match(message), m.match(f"x <{message}> y")) == (1, 2)


def test_normalise():
    assert normalise("  ＨＥＬＬＯ　Ｗｏｒｌｄ１２３ ") == "hello world123"


@pytest.mark.parametrize("keyword", ["😀", "投票", "👍🏽", "🇨🇳", "请假 😀"])
def test_emoji_and_cjk_keywords(keyword):
    m = matcher(rule(1, ("whole", keyword)), rule(2, ("contains", keyword)), rule(3, ("pattern", re.escape(keyword))))
    assert m.match(keyword) == 1
    assert m.match(f"我说{keyword}了") == 2
    assert Matcher.build([rule(3, ("pattern", re.escape(keyword)))]).match(f"…{keyword}…") == 3


def test_patterns_see_the_raw_text():
    m = matcher(rule(1, ("pattern", "^Hello$")), rule(2, ("pattern", "(?i)^bye")), rule(3, ("pattern", "^.$")))
    assert (m.match("  Hello  "), m.match("hello"), m.match("ＨＥＬＬＯ")) == (1, None, None)
    assert (m.match("BYE now"), m.match("😀"), m.match("投")) == (2, 3, 3)


def test_a_thousand_rules():
    rules = [
        rule(i, ("whole", f"kw{i}"), ("contains", f"项目{i}号"), ("pattern", rf"^#{i}-\d+$"), priority=1000 - i)
        for i in range(1, 1001)
    ]
    m = Matcher.build(rules)
    assert [m.match("KW1"), m.match("kw500"), m.match("kw1000"), m.match("kw1001")] == [1, 500, 1000, None]
    assert m.match("我在项目37号工作") == 37
    assert m.match("项目1号和项目999号") == 999  # both match; 999 has the lower priority number
    assert [m.match("#12-34"), m.match("#12-"), m.match("#1000-7")] == [12, None, 1000]


def test_patterns_split_when_they_do_not_fit_one_set_and_still_match():
    rules = [rule(i, ("pattern", rf"(?i)x{i}(?:[a-z]{{2,9}}\d{{1,5}}){{3}}")) for i in range(1, 41)]
    small = Matcher.build(rules, pattern_memory=256 << 10)
    assert len(small._patterns) > 1  # the budget forced a split (internal, but the point of this test)
    for i in (1, 17, 40):
        assert small.match(f"- X{i}ab1cd22efg333 -") == i
    assert small.match("x41ab1cd2ef3") is None
    with pytest.raises(ValueError, match="rule 1 has a pattern too large"):
        Matcher.build(rules[:1], pattern_memory=8 << 10)


@pytest.mark.parametrize("length", [30, 5_000, 50_000])
def test_catastrophic_backtracking_patterns_finish_at_once(length):
    """Python's re would take ~2**length steps on each of the first two (30 is already minutes)."""
    m = matcher(rule(1, ("pattern", CATASTROPHIC)), rule(2, ("pattern", r"^(\w+\s?)*$")), rule(3, ("pattern", "!$")))
    assert m.match("a" * length + "!") == 3
    assert m.match("a" * length) == 1


@pytest.mark.parametrize(
    "pattern, fragment",
    [("(a", "missing )"), ("(?<=a)b", "(?<="), (r"(\w)\1", r"\1"), ("a{1001}", "{1001}"), ("[z-a]", "z-a")],
)
def test_patterns_re2_cannot_run_are_refused_with_a_reason(pattern, fragment):
    reason = check_pattern(pattern)
    assert reason and fragment in reason and "RE2" in reason
    with pytest.raises(ValueError, match="rule 4"):
        Matcher.build([rule(4, ("pattern", pattern))])


@pytest.mark.parametrize("pattern", [r"order \d{6}", CATASTROPHIC, "(?i)投票|vote", "x" * 200, "^$"])
def test_patterns_re2_runs_are_accepted(pattern):
    assert check_pattern(pattern) is None


@pytest.mark.parametrize("pattern", ["", "x" * 201, "bad \ud800 text"])
def test_empty_long_and_unencodable_patterns_are_refused(pattern):
    assert check_pattern(pattern)


@pytest.mark.parametrize(
    "keyword, ok", [("a", True), ("x" * 30, True), ("  投票  ", True), ("", False), ("   ", False), ("x" * 31, False)]
)
def test_keyword_length(keyword, ok):
    assert (check_keyword(keyword) is None) is ok


def test_limits_as_in_wechats_console():
    assert TRIGGER_LIMITS == {"per_rule": 10, "keyword_min": 1, "keyword_max": 30, "pattern_max": 200}


def test_bad_triggers_are_refused():
    with pytest.raises(ValueError):
        Trigger("regex", "x")
    with pytest.raises(ValueError, match="rule 8"):
        Matcher.build([rule(8, ("contains", "  "))])


def test_no_rules_match_nothing():
    assert Matcher.build([]).match("anything") is None
    assert Matcher.build([rule(1)]).match("anything") is None

