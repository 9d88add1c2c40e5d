"""After a click with AFTER_CLICK_VIA=reply: the route answers with the encrypted passive reply the
card version asks for (the default, api, is in test_after_click_api.py)."""
import copy

import pytest

from dashboard.callback.after_click import AfterClickError, check, set_after_click
from dashboard.callback.forms import AfterClickForm
from dashboard.extensions import db
from dashboard.models import CardVersion
from tests.test_callback import VOTE, callback_app, card_xml, counts, make_campaign, open_reply, post, signed

MULTIPLE = {"card_type": "multiple_interaction", "main_title": {"title": "Team day"},
            "select_list": [{"question_key": "dept", "title": "Dept", "option_list": [
                {"id": "rd", "text": "研发"}, {"id": "mk", "text": "市场"}]},
                {"question_key": "size", "title": "Size", "option_list": [
                    {"id": "m", "text": "M"}, {"id": "l", "text": "L"}]}],
            "submit_button": {"text": "提交", "key": "submit"}}
RSVP = {"card_type": "button_interaction", "main_title": {"title": "Offsite"},
        "button_list": [{"text": "参加", "key": "yes"}, {"text": "不参加", "key": "no"}]}


def reply_app(tmp_path):
    return callback_app(tmp_path, AFTER_CLICK_VIA="reply")


def reply_for(tmp_path, template_card, after_click, xml):
    app = reply_app(tmp_path)
    make_campaign(app, template_card, after_click=after_click)
    response = post(app.test_client(), xml)
    assert response.status_code == 200
    return app, response


def test_button_mode_greys_out_the_button_with_the_chosen_options(tmp_path):
    _, response = reply_for(tmp_path, VOTE, {"mode": "button", "replace_name": "已选择：{option}"},
                            card_xml(selected={"q_lunch": ["opt_a", "opt_c"]}))
    assert response.mimetype == "text/xml"
    inner = open_reply(response.get_data(as_text=True))
    assert inner["MsgType"] == "update_button" and inner["ToUserName"] == "zhangsan"
    assert inner["Button"]["ReplaceName"] == "已选择：A、C"


def test_button_mode_on_a_button_card_names_the_clicked_button(tmp_path):
    _, response = reply_for(tmp_path, RSVP, {"mode": "button", "replace_name": "已选择：{option}"},
                            card_xml(key="no", card_type="button_interaction"))
    assert open_reply(response.get_data(as_text=True))["Button"]["ReplaceName"] == "已选择：不参加"


def test_card_mode_replaces_the_card_with_the_choices_checked_and_disabled(tmp_path):
    _, response = reply_for(tmp_path, VOTE, {"mode": "card", "replace_name": "已投票"},
                            card_xml(selected={"q_lunch": ["opt_b"]}))
    inner = open_reply(response.get_data(as_text=True))
    card = inner["TemplateCard"]
    assert inner["MsgType"] == "update_template_card" and card["CardType"] == "vote_interaction"
    assert card["CheckBox"]["Disable"] == "true" and card["ReplaceText"] == "已投票"
    assert [(o["Id"], o["IsChecked"]) for o in card["CheckBox"]["OptionList"]] == [
        ("opt_a", "false"), ("opt_b", "true"), ("opt_c", "false")]


def test_card_mode_on_multiple_interaction_selects_and_disables_every_selector(tmp_path):
    _, response = reply_for(tmp_path, MULTIPLE, {"mode": "card", "replace_name": "已提交"},
                            card_xml(card_type="multiple_interaction", key="submit",
                                     selected={"dept": ["mk"], "size": ["l"]}))
    selectors = open_reply(response.get_data(as_text=True))["TemplateCard"]["SelectList"]
    assert [(s["SelectedId"], s["Disable"]) for s in selectors] == [("mk", "true"), ("l", "true")]


def test_an_explicit_replacement_card_is_sent_as_configured(tmp_path):
    closed = {**copy.deepcopy(VOTE), "main_title": {"title": "谢谢！"}}
    _, response = reply_for(tmp_path, VOTE, {"mode": "card", "replace_name": "已投票", "card": closed},
                            card_xml(selected={"q_lunch": ["opt_a"]}))
    card = open_reply(response.get_data(as_text=True))["TemplateCard"]
    assert card["MainTitle"]["Title"] == "谢谢！" and card["ReplaceText"] == "已投票"


def test_no_settings_or_mode_none_answers_an_empty_body(tmp_path):
    _, response = reply_for(tmp_path, VOTE, {"mode": "none"}, card_xml(selected={"q_lunch": ["opt_a"]}))
    assert response.data == b""


def test_a_duplicate_gets_the_same_reply_and_changes_nothing(tmp_path):
    app = reply_app(tmp_path)
    make_campaign(app, after_click={"mode": "button", "replace_name": "已投票"})
    query, body = signed(card_xml(selected={"q_lunch": ["opt_a"]}))
    first, again = (post(app.test_client(), query=query, body=body) for _ in range(2))
    assert open_reply(again.get_data(as_text=True)) == open_reply(first.get_data(as_text=True))
    assert counts(app) == (1, 1, 1)


@pytest.mark.parametrize("data, template_card, field", [
    ({"mode": "button", "replace_name": ""}, VOTE, "replace_name"),
    ({"mode": "button", "replace_name": "x" * 21}, VOTE, "replace_name"),
    ({"mode": "card"}, {"card_type": "text_notice", "main_title": {"title": "Hi"}}, "mode"),
    ({"mode": "card", "card": {"card_type": "vote_interaction"}}, VOTE, "card"),
    ({"mode": "sometimes"}, VOTE, "mode"),
])
def test_settings_that_cannot_work_are_refused_at_the_field(data, template_card, field):
    with pytest.raises(AfterClickError) as info:
        check(data, template_card)
    assert info.value.field == field


def test_set_after_click_stores_normalized_settings(tmp_path):
    app = callback_app(tmp_path)
    make_campaign(app)
    with app.test_request_context():
        version = db.session.scalars(db.select(CardVersion)).one()
        set_after_click(version, {"mode": "card", "replace_name": " "}, actor="test")
        db.session.commit()
        assert version.after_click == {"mode": "card", "replace_name": "已提交"}


def test_the_form_reports_bad_json_at_the_card_field(tmp_path):
    app = callback_app(tmp_path)
    with app.test_request_context(method="POST", data={"mode": "card", "card": "{not json"}):
        form = AfterClickForm(template_card=VOTE)
        assert not form.validate() and "Line 1" in form.card.errors[0]
    with app.test_request_context(method="POST", data={"mode": "button", "replace_name": "已投票"}):
        form = AfterClickForm(template_card=VOTE)
        assert form.validate() and form.settings["replace_name"] == "已投票"
