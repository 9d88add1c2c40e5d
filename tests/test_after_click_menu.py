"""Picks from a card's top-right menu (template_card_menu_event) answered like button clicks:
per menu item nothing, a caption on the greyed-out button, or a replacement card; set in the
designer, sent by the worker with update_template_card (AFTER_CLICK_VIA=api) or as the passive
reply (reply), over real HTTP to the fake WeCom."""
import copy
import json
import re

import pytest

from dashboard import tasks
from dashboard.callback.after_click import AfterClickError, check
from dashboard.extensions import db
from dashboard.models import Card
from dashboard.wecom.crypto import CallbackCrypto
from tests.campaign_factories import wait_until
from tests.fake_wecom import FakeWeCom
from tests.test_after_click_api import UPDATE, api_app, settle, used_for
from tests.test_callback import AES_KEY, TOKEN, card_xml, make_campaign, open_reply, post

MENU = {"desc": "更多", "action_list": [{"text": "不再提醒", "key": "mute"},
                                         {"text": "我有疑问", "key": "ask"}]}
BUTTONS = {"card_type": "button_interaction", "task_id": "t", "main_title": {"title": "Offsite"},
           "button_list": [{"text": "Join", "key": "join"}], "action_menu": MENU}
NOTICE = {"card_type": "text_notice", "task_id": "t", "main_title": {"title": "Server upgrade"},
          "card_action": {"type": 1, "url": "https://example.com"}, "action_menu": MENU}
THANKS = {"card_type": "text_notice", "main_title": {"title": "已静音"},
          "card_action": {"type": 1, "url": "https://example.com"}}


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


def pick(app, fake, key, *, card_type="button_interaction", user="zhangsan"):
    """A menu pick posted encrypted, as WeCom posts it; returns (response, its code)."""
    code = fake.issue_response_code()
    xml = card_xml(user=user, key=key, code=code, card_type=card_type, event="template_card_menu_event")
    return post(app.test_client(), xml, crypto=CallbackCrypto(TOKEN, AES_KEY, fake.corp_id)), code


# --- the rules -----------------------------------------------------------------------------------


def test_menu_answers_are_kept_per_item_and_nothing_is_left_out():
    config = check({"mode": "button", "replace_name": "已报名", "menu": {
        "mute": {"mode": "button", "replace_name": "已选：{option}"},
        "ask": {"mode": "none"}, "gone": {"mode": "button", "replace_name": "x"}}}, BUTTONS)
    assert config == {"mode": "button", "replace_name": "已报名",
                      "menu": {"mute": {"mode": "button", "replace_name": "已选：{option}"}}}


def test_a_notice_card_answers_its_menu_with_a_given_card_only():
    assert check({"menu": {"mute": {"mode": "card", "card": THANKS}}}, NOTICE) == {
        "mode": "none", "menu": {"mute": {"mode": "card", "replace_name": "已提交", "card": THANKS}}}
    with pytest.raises(AfterClickError) as caught:
        check({"menu": {"ask": {"mode": "button", "replace_name": "好"}}}, NOTICE)
    assert (caught.value.menu_key, caught.value.field) == ("ask", "mode")
    with pytest.raises(AfterClickError) as caught:
        check({"menu": {"mute": {"mode": "card"}}}, NOTICE)
    assert (caught.value.menu_key, caught.value.field) == ("mute", "card")
    with pytest.raises(AfterClickError) as caught:
        check({"mode": "button", "replace_name": "x"}, NOTICE)  # the card itself takes no clicks
    assert caught.value.menu_key is None


def test_a_replacement_card_that_breaks_wecoms_rules_is_refused_at_its_item():
    broken = {**THANKS, "main_title": {"title": "x" * 40}, "card_action": {"type": 1}}
    with pytest.raises(AfterClickError) as caught:
        check({"menu": {"ask": {"mode": "card", "card": broken}}}, NOTICE)
    assert caught.value.menu_key == "ask" and "card_action" in str(caught.value)


# --- the callback and the worker -----------------------------------------------------------------


def test_a_menu_pick_greys_the_pickers_button_through_the_api(tmp_path, fake):
    app = api_app(tmp_path, fake)
    make_campaign(app, BUTTONS, after_click=check(
        {"mode": "button", "replace_name": "已报名",
         "menu": {"mute": {"mode": "button", "replace_name": "已选：{option}"}}}, BUTTONS))
    with tasks.running(app):
        response, code = pick(app, fake, "mute")
        assert response.status_code == 200 and response.data == b""
        wait_until(lambda: fake.calls(UPDATE), timeout=10)
        settle(0.5)
    [call] = fake.calls(UPDATE)
    assert call.body["response_code"] == code and call.body["userids"] == ["zhangsan"]
    assert call.body["button"] == {"replace_name": "已选：不再提醒"}
    assert used_for(app, code) == "after_click"


def test_an_item_without_an_answer_changes_nothing_though_the_card_answers_clicks(tmp_path, fake):
    app = api_app(tmp_path, fake)
    make_campaign(app, BUTTONS, after_click=check(
        {"mode": "button", "replace_name": "已报名",
         "menu": {"mute": {"mode": "button", "replace_name": "好"}}}, BUTTONS))
    with tasks.running(app):
        response, code = pick(app, fake, "ask")
        settle()
    assert response.status_code == 200 and fake.calls(UPDATE) == [] and used_for(app, code) is None


def test_a_notice_cards_menu_pick_replaces_the_pickers_card(tmp_path, fake):
    app = api_app(tmp_path, fake)
    make_campaign(app, NOTICE, after_click=check({"menu": {"mute": {"mode": "card", "card": THANKS}}}, NOTICE))
    with tasks.running(app):
        pick(app, fake, "mute", card_type="text_notice")
        wait_until(lambda: fake.calls(UPDATE), timeout=10)
    [call] = fake.calls(UPDATE)
    assert call.body["template_card"]["main_title"] == {"title": "已静音"}
    assert call.body["userids"] == ["zhangsan"]


def test_reply_mode_answers_a_menu_pick_with_the_passive_reply(tmp_path, fake):
    app = api_app(tmp_path, fake, AFTER_CLICK_VIA="reply")
    make_campaign(app, BUTTONS, after_click=check(
        {"mode": "none", "menu": {"ask": {"mode": "card", "replace_name": "已转人工"}}}, BUTTONS))
    response, _code = pick(app, fake, "ask")
    reply = open_reply(response.get_data(as_text=True), CallbackCrypto(TOKEN, AES_KEY, fake.corp_id))
    assert reply["MsgType"] == "update_template_card" and reply["ToUserName"] == "zhangsan"
    assert reply["TemplateCard"]["ReplaceText"] == "已转人工"
    assert fake.calls(UPDATE) == []


# --- the designer --------------------------------------------------------------------------------


def new_card(app, template_card):
    with app.app_context():
        from dashboard.cards import service
        card = service.create_card("Menu card", template_card)
        db.session.commit()
        return card.id


def designer_save(client, card_id, template_card, **fields):
    return client.post(f"/cards/{card_id}", data={"name": "Menu card", "template_card": json.dumps(template_card),
                                                  **fields})


def menu_fields(page: str) -> list[str]:
    return re.findall(r'name="(after_click-menu-\d+-\w+)"', page)


def test_the_designer_shows_an_answer_per_menu_item_and_one_save_keeps_them(app, client, login):
    login("staff")
    card_id = new_card(app, NOTICE)
    page = client.get(f"/cards/{card_id}").get_data(as_text=True)
    assert 'id="after-click-menu"' in page and 'name="after_click-mode" value="none"' in page
    assert {"after_click-menu-0-mode", "after_click-menu-1-mode", "after_click-menu-1-card"} <= set(menu_fields(page))
    response = designer_save(client, card_id, NOTICE, **{
        "after_click-mode": "none", "after_click-menu-0-key": "mute", "after_click-menu-0-mode": "card",
        "after_click-menu-0-card": json.dumps(THANKS), "after_click-menu-1-key": "ask",
        "after_click-menu-1-mode": "none"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Card, card_id).latest.after_click == {
            "mode": "none", "menu": {"mute": {"mode": "card", "replace_name": "已提交", "card": THANKS}}}
    page = client.get(f"/cards/{card_id}").get_data(as_text=True)
    assert "已静音" in page  # the saved replacement card is shown in its item's field


def test_a_mistake_in_one_items_answer_saves_nothing_and_shows_at_that_item(app, client, login):
    login("staff")
    card_id = new_card(app, BUTTONS)
    changed = copy.deepcopy(BUTTONS)
    changed["main_title"]["title"] = "Offsite (moved)"
    response = designer_save(client, card_id, changed, **{
        "after_click-mode": "button", "after_click-replace_name": "已报名",
        "after_click-menu-0-key": "mute", "after_click-menu-0-mode": "none",
        "after_click-menu-1-key": "ask", "after_click-menu-1-mode": "card",
        "after_click-menu-1-card": "{not json"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'name="after_click-menu-1-card"[^>]*>[^<]*</textarea>\s*<div class="invalid-feedback">Line 1',
                     page), "the JSON error is shown at the item's field"
    with app.app_context():
        card = db.session.get(Card, card_id)
        assert len(card.versions) == 1 and card.latest.template_card["main_title"]["title"] == "Offsite"


def test_a_card_without_a_menu_or_clicks_has_no_after_click_section(app, client, login):
    login("staff")
    plain = {key: value for key, value in NOTICE.items() if key != "action_menu"}
    card_id = new_card(app, plain)
    assert 'id="after-click"' not in client.get(f"/cards/{card_id}").get_data(as_text=True)
