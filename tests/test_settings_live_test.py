"""The settings page's live self-test: a card to the admin's own WeCom account over real HTTP to the
fake WeCom (or the sandbox), real encrypted clicks to /wecom/callback, and the checklist that
spends the click's code once (update, then the same code again) or leaves it to the passive reply."""
import threading

import pytest

from dashboard.callback.service import SELF_TEST_CARD_PREFIX, SELF_TEST_REPLY
from dashboard.extensions import db
from dashboard.models import ResponseCode, SandboxInboxCard, User
from dashboard.sandbox import callbacks, inbox
from dashboard.settings.live_test import passed_card
from dashboard.wecom.cards import validate
from dashboard.wecom.crypto import CallbackCrypto
from tests.conftest import PASSWORD
from tests.fake_wecom import FakeWeCom
from tests.test_after_click_api import api_app
from tests.test_callback import AES_KEY, TOKEN, card_xml, open_reply, post
from tests.test_sandbox_api import served  # noqa: F401  (fixture)
from tests.test_settings import _token, signed_in, with_users

SEND, UPDATE, STATUS = "/message/send", "/message/update_template_card", "/settings/self-test/card"


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


def live_app(tmp_path, fake, userid="zhangsan", **overrides):
    """The app on the fake WeCom, its admin's own WeCom userid set."""
    app = with_users(api_app(tmp_path, fake, **overrides))
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(username="admin")).wecom_userid = userid
        db.session.commit()
    return app


def sent_card(fake):
    [call] = fake.calls(SEND)
    return call.body["template_card"]


def click(app, fake, *, key="selftest_click", event="template_card_event"):
    """The admin's click (or menu pick) on the test card, posted encrypted as WeCom posts it."""
    code = fake.issue_response_code()
    xml = card_xml(sent_card(fake)["task_id"], key=key, card_type="button_interaction", code=code, event=event)
    return post(app.test_client(), xml, crypto=CallbackCrypto(TOKEN, AES_KEY, fake.corp_id)), code


def steps(client):
    """{step name: (state, detail)} as the page's script reads them, and whether it is done."""
    answer = client.get(STATUS).json
    return {s["name"]: (s["state"], s["detail"]) for s in answer["steps"]}, answer["done"]


def used_for(app, code):
    with app.app_context():
        return db.session.scalar(db.select(ResponseCode.used_for).filter_by(code=code))


def test_without_a_wecom_userid_the_page_asks_for_it_and_nothing_is_sent(tmp_path, fake):
    client = signed_in(live_app(tmp_path, fake, userid=None), "admin")
    page = client.get("/settings/").get_data(as_text=True)
    assert 'id="live-test-no-userid"' in page and 'href="/account"' in page
    assert 'action="/settings/self-test/card"' not in page
    answer = client.post(STATUS, follow_redirects=True).get_data(as_text=True)
    assert "Set your WeCom userid on your account page first" in answer
    assert fake.calls(SEND) == [] and steps(client) == ({}, True)


def test_the_card_goes_to_the_admin_with_our_button_and_menu_with_csrf_on(tmp_path, fake):
    client = signed_in(live_app(tmp_path, fake, WTF_CSRF_ENABLED=True), "admin")
    assert client.post(STATUS).status_code == 400 and fake.calls(SEND) == []  # no token, no card
    client.post(STATUS, data={"csrf_token": _token(client, "/settings/")})
    card, body = sent_card(fake), fake.calls(SEND)[0].body
    assert body["touser"] == "zhangsan" and card["task_id"].startswith(SELF_TEST_CARD_PREFIX)
    assert card["button_list"] == [{"text": "点此自检", "key": "selftest_click", "style": 1}]
    assert card["action_menu"]["action_list"] == [{"text": "菜单自检", "key": "selftest_menu"}]
    assert validate(card) == [] and validate(passed_card(card["task_id"]), purpose="update") == []
    found, done = steps(client)
    assert found["Card sent"][0] == "passed" and "fake-msg-" in found["Card sent"][1] and not done
    assert [state for state, _ in found.values()] == ["passed", "waiting", "waiting", "waiting", "waiting"]
    page = client.get("/settings/").get_data(as_text=True)
    assert 'data-done="0"' in page and "js/settings-live-test.js" in page and "<script>" not in page


def test_a_click_updates_the_card_once_and_the_code_is_refused_the_second_time(tmp_path, fake):
    app = live_app(tmp_path, fake)
    client = signed_in(app, "admin")
    client.post(STATUS)
    response, code = click(app, fake)
    assert (response.status_code, response.data) == (200, b"")  # api mode: no passive reply
    found, done = steps(client)
    assert found["Click received"][0] == "passed" and "zhangsan" in found["Click received"][1]
    assert found["Card updated through the API"][0] == "passed"
    assert found["The same ResponseCode refused a second time"] == (
        "passed", "WeCom answered errcode 42022: a ResponseCode is single use, as documented.")
    assert not done  # the menu pick, optional, is still awaited
    first, again = fake.calls(UPDATE)
    assert first.body["response_code"] == code and first.body["userids"] == ["zhangsan"]
    assert first.body["button"] == {"replace_name": "自检通过"} and "template_card" not in first.body
    assert again.body["response_code"] == code and again.body["template_card"]["replace_text"] == "自检通过"
    steps(client)
    assert len(fake.calls(UPDATE)) == 2 and used_for(app, code) == "self_test; again: errcode 42022"


def test_the_menu_pick_is_the_last_step(tmp_path, fake):
    app = live_app(tmp_path, fake, AFTER_CLICK_VIA="reply")
    client = signed_in(app, "admin")
    client.post(STATUS)
    click(app, fake, key="selftest_menu", event="template_card_menu_event")
    found, done = steps(client)
    assert found["Menu pick received"][0] == "passed" and found["Click received"][0] == "waiting" and not done
    click(app, fake)
    assert steps(client)[1] is True and 'data-done="1"' in client.get("/settings/").get_data(as_text=True)


def test_a_code_wecom_takes_twice_is_reported_as_a_finding(tmp_path, fake):
    app = live_app(tmp_path, fake)
    fake.codes_reusable = True
    client = signed_in(app, "admin")
    client.post(STATUS)
    _, code = click(app, fake)
    state, detail = steps(client)[0]["The same ResponseCode refused a second time"]
    assert state == "failed" and "can be used twice" in detail
    assert used_for(app, code) == "self_test; again: accepted"


def test_a_refused_update_is_explained_and_not_tried_again(tmp_path, fake):
    app = live_app(tmp_path, fake)
    client = signed_in(app, "admin")
    client.post(STATUS)
    fake.fail_next(60140, path=UPDATE)
    _, code = click(app, fake)
    found, _ = steps(client)
    assert found["Card updated through the API"] == ("failed", "WeCom answered errcode 60140: The response_code "
                                                     "is invalid or has expired (treat codes as valid for 24 hours).")
    assert found["The same ResponseCode refused a second time"][0] == "failed"
    steps(client)
    assert len(fake.calls(UPDATE)) == 1 and used_for(app, code) == "self_test failed: errcode 60140"


def test_two_tabs_polling_at_once_spend_the_code_once(tmp_path, fake):
    app = live_app(tmp_path, fake)
    client = signed_in(app, "admin")
    client.post(STATUS)
    click(app, fake)
    tabs = [app.test_client() for _ in range(2)]
    for tab in tabs:
        tab.set_cookie("session", client.get_cookie("session").value)
    start, answers = threading.Barrier(2), []

    def look(tab):
        start.wait()
        answers.append(steps(tab)[0]["Card updated through the API"][0])

    threads = [threading.Thread(target=look, args=(tab,)) for tab in tabs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fake.calls(UPDATE)) == 2 and [c.body.get("button") for c in fake.calls(UPDATE)] == [
        {"replace_name": "自检通过"}, None]
    assert "passed" in answers


def test_a_wecom_error_on_send_is_shown_in_words(tmp_path, fake):
    client = signed_in(live_app(tmp_path, fake), "admin")
    fake.fail_next(43012, path=SEND)
    response = client.post(STATUS, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "WeCom refused the card with errcode 43012" in page
    assert "Interactive cards need the app to have a callback URL configured." in page
    assert steps(client) == ({"Card sent": ("failed", "WeCom refused the card with errcode 43012: Interactive "
                                            "cards need the app to have a callback URL configured. (WeCom "
                                            "said: injected by FakeWeCom)")}, True)


def test_reply_mode_makes_no_update_call_and_the_click_gets_the_passive_reply(tmp_path, fake):
    app = live_app(tmp_path, fake, AFTER_CLICK_VIA="reply")
    client = signed_in(app, "admin")
    client.post(STATUS)
    response, _ = click(app, fake)
    reply = open_reply(response.get_data(as_text=True), crypto=CallbackCrypto(TOKEN, AES_KEY, fake.corp_id))
    assert reply["MsgType"] == "update_button" and reply["Button"]["ReplaceName"] == SELF_TEST_REPLY
    found, _ = steps(client)
    state, detail = found["Passive reply shown on the card"]
    assert state == "look" and SELF_TEST_REPLY in detail and "AFTER_CLICK_VIA=api" in detail
    assert "Card updated through the API" not in found and fake.calls(UPDATE) == []


@pytest.mark.parametrize("role", ["staff", "manager"])
def test_only_admins_send_or_read_the_test(tmp_path, fake, role):
    client = signed_in(live_app(tmp_path, fake), role)
    assert client.get(STATUS).status_code == 403 and client.post(STATUS).status_code == 403
    assert fake.calls(SEND) == []


def test_in_the_sandbox_the_inbox_click_updates_the_card_and_the_code_is_refused_again(app, served, client):
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(username="admin")).wecom_userid = "zhangwei"
        db.session.commit()
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    client.post(STATUS)
    with app.app_context():
        row = db.session.scalar(db.select(SandboxInboxCard).filter_by(userid="zhangwei"))
        callback, row_id = inbox.act(row, {"kind": "button", "key": "selftest_click"}), row.id
        db.session.commit()
        callbacks.deliver(callback.id)
    found, _ = steps(client)
    assert found["Card updated through the API"][0] == "passed"
    assert found["The same ResponseCode refused a second time"][0] == "passed"
    with app.app_context():
        assert db.session.get(SandboxInboxCard, row_id).replace_name == "自检通过"
