"""Pure parts of the reports: card labels, chart geometry, durations in words."""
import pytest

from dashboard.reports import charts
from dashboard.reports.labels import card_labels
from dashboard.reports.views import duration
from tests.test_reports import BUTTON_CARD, VOTE_CARD


def test_labels_of_a_vote_card():
    labels = card_labels(VOTE_CARD)
    (question,) = labels.questions.values()
    assert (question.key, question.title, question.multiple) == ("q_lunch", "午餐投票", True)
    assert labels.option("q_lunch", "c") == "米饭" and labels.option("q_lunch", "zz") == "zz"
    assert labels.buttons == {"submit": "提交"} and labels.menu == {}
    assert labels.answer({"q_lunch": ["a", "d"], "q_other": ["x"]}) == "午餐投票: 饺子, 沙拉 · q_other: x"


def test_labels_of_button_and_multiple_cards():
    labels = card_labels(BUTTON_CARD)
    assert labels.buttons == {"join": "参加", "decline": "不参加"}
    assert labels.menu == {"mute": "不再提醒", "later": "稍后提醒"}
    assert labels.question("q_meal") == "餐食" and not labels.questions["q_meal"].multiple
    multiple = card_labels({"card_type": "multiple_interaction", "select_list": [
        {"question_key": "q1", "option_list": [{"id": "x", "text": "X"}]},
        {"question_key": "q2", "title": "地点", "option_list": []}], "submit_button": {"key": "go"}})
    assert [(q.key, q.title) for q in multiple.questions.values()] == [("q1", "Question 1"), ("q2", "地点")]
    assert multiple.buttons == {"go": "提交"} and card_labels(None).questions == {}


def test_bar_chart_scales_to_the_largest_value():
    chart = charts.bar_chart([("a", 4, 50.0), ("b", 2, 25.0), ("c", 0, 0.0, False)])
    room = charts.WIDTH - charts.VALUE_WIDTH
    assert [(b.value, b.width, b.y) for b in chart.bars] == [(4, room, 0), (2, room / 2, 42), (0, 0, 84)]
    assert chart.height == 120 and charts.bar_chart([]).height == 36


def test_line_chart_points_and_round_top():
    chart = charts.line_chart([("09:00", 0), ("10:00", 37), ("11:00", 41)])
    assert chart.top == 50 and [p.value for p in chart.points] == [0, 37, 41]
    assert chart.points[0].x == chart.left and chart.points[0].y == chart.height - chart.bottom
    assert chart.path.startswith("M40") and chart.path.count("L") == 2
    assert [charts._round_up(v) for v in (0, 1, 3, 7, 10, 11, 99_001)] == [1, 1, 5, 10, 10, 20, 100_000]


def test_column_chart_a_bar_per_minute_and_three_labels_at_most():
    chart = charts.column_chart([(f"10:0{i}", n) for i, n in enumerate([3, 0, 5, 1, 2])])
    assert chart.top == 5 and [c.value for c in chart.columns] == [3, 0, 5, 1, 2]
    assert chart.columns[2].height == chart.height - chart.bottom - 20 and chart.columns[1].height == 0
    assert [t.label for t in chart.ticks] == ["10:00", "10:02", "10:04"] and chart.show_values
    many = charts.column_chart([(str(i), 1) for i in range(31)])
    assert len(many.ticks) == 3 and not many.show_values  # too narrow for a number over each


@pytest.mark.parametrize("seconds, words", [
    (None, "—"), (0, "0 s"), (59, "59 s"), (155, "2 min"), (3600, "1 h"), (3725, "1 h 2 min"),
    (90_000, "1 d 1 h"),
])
def test_duration_in_words(seconds, words):
    assert duration(seconds) == words
