"""Card paths named as the designer's form names them (cards/spec.field_label), in both languages,
and the places a person reads card problems: the check page and a test send say the field's words,
never its JSON path; the API keeps its paths."""
import json

import pytest
from flask_babel import force_locale, gettext

from dashboard.cards import service as cards
from dashboard.cards.spec import field_label
from dashboard.extensions import db
from dashboard.models import Campaign

CASES = [  # path, English, Chinese (the zh catalog's words for the form's labels)
    ("checkbox.option_list[2].text", "Vote · Option 3 · Text", "选择题样式 · 选项 3 · 文案"),
    ("checkbox.option_list[0].id", "Vote · Option 1 · Option id", None),
    ("checkbox.option_list", "Vote · Options", "选择题样式 · 选项"),
    ("button_list[0].text", "Buttons · Button 1 · Text", "按钮列表 · 按钮 1 · 文案"),
    ("button_list[5]", "Buttons · Button 6", "按钮列表 · 按钮 6"),
    ("select_list[1].option_list[0].text", "Questions · Question 2 · Option 1 · Text",
     "下拉式的选择器列表 · 问题 2 · 选项 1 · 文案"),
    ("horizontal_content_list[3].keyname", "Key-value rows · Row 4 · Key", None),
    ("card_action.url", "Tap on the card · URL", None),
    ("submit_button.text", "Submit button · Text", "提交按钮样式 · 文案"),
    ("source", "Source", "卡片来源样式信息"),
    ("main_title.desc", "Main title · Description", None),
]
UNKNOWN = ["", "task_id", "card_type", "bogus", "checkbox.bogus", "checkbox.option_list[x]",
           "a..b", "main_title.title.more", "button_list[0].text[1]"]


@pytest.fixture
def in_language(app):
    def enter(language):
        context = app.test_request_context()
        context.push()
        locale = force_locale(language)
        locale.__enter__()
        return lambda: (locale.__exit__(None, None, None), context.pop())
    return enter


@pytest.mark.parametrize("path, english, chinese", CASES)
def test_paths_read_as_the_form_names_them(in_language, path, english, chinese):
    leave = in_language("en")
    try:
        assert field_label(path) == english
    finally:
        leave()
    leave = in_language("zh")
    try:
        said = field_label(path)
        assert said.count(" · ") == english.count(" · ") and "[" not in said
        if chinese:
            assert said == chinese
    finally:
        leave()


def test_main_title_reads_main_title_title_in_both_languages(in_language):
    for language in ("en", "zh"):
        leave = in_language(language)
        try:
            assert field_label("main_title.title") == f"{gettext('Main title')} · {gettext('Title')}"
        finally:
            leave()
    leave = in_language("en")
    try:
        assert field_label("main_title.title") == "Main title · Title"
    finally:
        leave()


@pytest.mark.parametrize("path", UNKNOWN)
def test_unknown_paths_come_back_as_given(in_language, path):
    leave = in_language("zh")
    try:
        assert field_label(path) == path
    finally:
        leave()


BAD_VOTE = {"card_type": "vote_interaction", "main_title": {"title": "Lunch"},
            "checkbox": {"question_key": "q", "mode": 0, "option_list": [
                {"id": "a", "text": "A", "is_checked": False}, {"id": "b", "text": "B", "is_checked": False},
                {"id": "c", "text": "x" * 40, "is_checked": False}]},
            "submit_button": {"text": "Vote", "key": "submit"}}


def test_the_check_page_names_the_field_and_the_api_keeps_the_path(app, client, login):
    with app.app_context():
        card = cards.create_card("Bad vote", BAD_VOTE)
        campaign = Campaign(name="Bad", card_version=card.versions[-1], recipients={"users": ["u1"]})
        db.session.add(campaign)
        db.session.commit()
        campaign_id = campaign.id
        problems = cards.card_problems(card.versions[-1])
        assert [p.path for p in problems] == ["checkbox.option_list[2].text"]
    login("staff")
    page = client.get(f"/campaigns/{campaign_id}/check").get_data(as_text=True)
    assert "Card: Vote · Option 3 · Text:" in page and "option_list[2]" not in page
    answer = client.post("/cards/preview", data={"template_card": json.dumps(BAD_VOTE)}).get_json()
    assert [e["path"] for e in answer["errors"]] == ["checkbox.option_list[2].text"]
