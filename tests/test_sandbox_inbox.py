"""Inbox clicks become genuine encrypted callbacks to the app's real callback route (points 4-6)."""
import json
import time
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from dashboard import tasks
from dashboard.campaigns import delivery, service as campaigns
from dashboard.directory import sync
from dashboard.cards import service as cards
from dashboard.extensions import db
from dashboard.models import CardEvent, SandboxCallback, SandboxInboxCard
from dashboard.sandbox import callbacks, faults, inbox
from tests.conftest import PASSWORD
from tests.test_sandbox_api import served, vote_card, wecom  # noqa: F401  (fixtures)

GALLERY = Path(__file__).parent.parent / "dashboard" / "cards" / "gallery"
VOTE = {"kind": "submit", "key": "submit_vote",
        "selections": [{"question_key": "q_lunch", "option_ids": ["rice"]}]}


def send_campaign(wecom, users, after_click=None, card=None):
    """A campaign sent the product's way: directory read, plan, and the worker's delivery run."""
    sync.run(actor="test", client=wecom)
    db.session.commit()
    template = card or {k: v for k, v in vote_card().items() if k != "task_id"}
    version = cards.create_card("Lunch vote", template, actor="test").latest
    version.after_click = after_click
    campaign = campaigns.create_campaign(name="Lunch", card_version=version,
                                         recipients={"users": users}, actor="test")
    campaigns.send(campaign, actor="test")
    db.session.commit()
    delivery.run(campaign.id)
    return campaign


def inbox_card(userid):
    return db.session.scalar(db.select(SandboxInboxCard).filter_by(userid=userid))


def wait_for(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        if result := check():
            return result
        time.sleep(0.05)
    raise AssertionError("timed out")


def delivered(callback_id):
    return lambda: (c := db.session.get(SandboxCallback, callback_id)).status == "delivered" and c


def test_a_vote_in_the_inbox_is_stored_by_the_callback_route_and_greys_the_button(app, wecom, login, client):
    app.config["AFTER_CLICK_VIA"] = "reply"  # the passive reply; api mode: test_after_click_api.py
    campaign = send_campaign(wecom, ["zhangwei", "lina"], {"mode": "button", "replace_name": "已投票"})
    card_id = inbox_card("zhangwei").id
    login("staff")
    with tasks.running(app):  # the worker process's job queue, in threads of this test
        answer = client.post(f"/sandbox/inbox/zhangwei/cards/{card_id}/act", json=VOTE)
        assert answer.status_code == 202
        callback = wait_for(delivered(answer.json["callback"]))
    assert callback.attempts[0]["http"] == 200 and callback.reply_kind == "update_button"
    event = db.session.scalar(db.select(CardEvent))
    assert (event.campaign_id, event.from_user, event.event_key) == (campaign.id, "zhangwei", "submit_vote")
    assert event.selected == {"q_lunch": ["rice"]}
    shown = client.get("/sandbox/inbox/zhangwei/feed").json["cards"][0]
    assert shown["card"]["replace_text"] == "已投票" and shown["closed"]
    assert shown["card"]["checkbox"]["disable"] is True
    assert [o["is_checked"] for o in shown["card"]["checkbox"]["option_list"]] == [False, True]
    assert not client.get("/sandbox/inbox/lina/feed").json["cards"][0]["closed"]


def test_a_card_reply_replaces_the_clickers_card(app, wecom):
    app.config["AFTER_CLICK_VIA"] = "reply"
    send_campaign(wecom, ["zhangwei"], {"mode": "card", "replace_name": "已选 {option}"})
    callback = inbox.act(inbox_card("zhangwei"), VOTE)
    db.session.commit()
    callbacks.deliver(callback.id)  # what the worker runs
    assert callback.reply_kind == "update_template_card"
    card = inbox_card("zhangwei").card
    assert card["replace_text"] == "已选 Rice" and card["checkbox"]["disable"] is True


def test_one_web_worker_is_enough_the_callback_leaves_from_the_queue(app, wecom, served):
    send_campaign(wecom, ["zhangwei"], {"mode": "button", "replace_name": "已投票"})
    single = make_server("127.0.0.1", 0, app, threaded=False)  # one worker, one request at a time
    base = f"http://127.0.0.1:{single.server_port}"
    app.config["DASHBOARD_URL"] = base
    import threading
    threading.Thread(target=single.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    browser = requests.Session()
    browser.post(f"{base}/login", data={"username": "staff", "password": PASSWORD}, timeout=5)
    with tasks.running(app):
        answer = browser.post(f"{base}/sandbox/inbox/zhangwei/cards/{inbox_card('zhangwei').id}/act",
                              json=VOTE, timeout=3)
        assert answer.status_code == 202
        callback = wait_for(delivered(answer.json()["callback"]))
    single.shutdown()
    assert callback.attempts[0]["http"] == 200 and inbox_card("zhangwei").replace_name == "已投票"


def test_delivering_twice_is_deduplicated_by_the_app(app, wecom):
    send_campaign(wecom, ["zhangwei"])
    faults.update(duplicate_callbacks=True)
    callback = inbox.act(inbox_card("zhangwei"), VOTE)
    db.session.commit()
    callbacks.deliver(callback.id)
    assert [(a["http"], a.get("duplicate", False)) for a in callback.attempts] == [(200, False), (200, True)]
    assert db.session.scalar(db.select(db.func.count()).select_from(CardEvent)) == 1


def test_a_late_answer_is_retried_and_the_retry_deduplicated(app, wecom):
    app.config["SANDBOX_CALLBACK_TIMEOUT"] = 2  # the app answers well within it, even on a busy machine
    send_campaign(wecom, ["zhangwei"])
    faults.update(slow_callbacks=1)
    callback = inbox.act(inbox_card("zhangwei"), VOTE)
    db.session.commit()
    callbacks.deliver(callback.id)
    assert callback.status == "retrying" and "held back" in callback.attempts[0]["note"]
    callbacks.deliver(callback.id)  # the retry the queue schedules
    assert callback.status == "delivered" and [a["ok"] for a in callback.attempts] == [False, True]
    assert db.session.scalar(db.select(db.func.count()).select_from(CardEvent)) == 1


def test_an_unreachable_app_gets_three_retries_then_the_callback_fails(app, wecom):
    send_campaign(wecom, ["zhangwei"])
    callback = inbox.act(inbox_card("zhangwei"), VOTE)
    db.session.commit()
    app.config["DASHBOARD_URL"] = "http://127.0.0.1:9"  # nothing listens there
    for _ in range(4):
        callbacks.deliver(callback.id)
    assert callback.status == "failed" and len(callback.attempts) == 4
    assert "cannot connect" in callback.attempts[-1]["note"]


def test_closing_the_poll_with_atall_closes_every_inbox(app, wecom, client, login):
    send_campaign(wecom, ["zhangwei", "lina"])
    code = db.session.scalar(db.select(SandboxInboxCard)).message.answer["response_code"]
    closed = {k: v for k, v in vote_card(replace_text="投票已结束").items() if k != "task_id"}
    wecom.update_template_card(code, atall=True, template_card=closed)
    login("manager")
    for userid in ("zhangwei", "lina"):
        shown = client.get(f"/sandbox/inbox/{userid}/feed").json["cards"][0]
        assert shown["closed"] and shown["card"]["replace_text"] == "投票已结束"
    answer = client.post(f"/sandbox/inbox/lina/cards/{inbox_card('lina').id}/act", json=VOTE)
    assert answer.status_code == 409 and "no longer" in answer.json["error"]


BUTTONS = {"card_type": "button_interaction", "main_title": {"title": "Dinner?"},
           "action_menu": {"desc": "More", "action_list": [{"text": "Mute", "key": "mute"}]},
           "button_selection": {"question_key": "meal", "option_list": [
               {"id": "meat", "text": "Meat"}, {"id": "veg", "text": "Veg"}]},
           "button_list": [{"text": "Join", "key": "join"}, {"text": "Site", "type": 1, "url": "https://example.com"}]}


@pytest.mark.parametrize("action, error", [
    ({"kind": "submit", "key": "other", "selections": VOTE["selections"]}, "no such action"),
    ({"kind": "submit", "key": "submit_vote", "selections": []}, "Choose an option"),
    ({"kind": "submit", "key": "submit_vote",
      "selections": [{"question_key": "q_lunch", "option_ids": ["rice", "noodles"]}]}, "exactly one"),
    ({"kind": "submit", "key": "submit_vote",
      "selections": [{"question_key": "q_lunch", "option_ids": ["pizza"]}]}, "options"),
    ({"kind": "button", "key": "submit_vote"}, "no such action"),
    ({"kind": "menu", "key": "x"}, "no such action"),
    ("not an object", "no such action"),
])
def test_the_inbox_refuses_what_the_card_does_not_offer(app, wecom, action, error):
    wecom.send_template_card(vote_card(), touser="zhangwei")
    with pytest.raises(inbox.InboxError, match=error):
        inbox.act(inbox_card("zhangwei"), action)


def test_button_clicks_carry_the_dropdown_choice_and_menus_their_key(app, wecom):
    wecom.send_template_card({**BUTTONS, "task_id": "dinner-1"}, touser="zhangwei")
    row = inbox_card("zhangwei")
    click = inbox.act(row, {"kind": "button", "key": "join", "selection": {"option_id": "veg"}})
    menu = inbox.act(row, {"kind": "menu", "key": "mute"})
    assert click.selected == {"meal": ["veg"]} and "<OptionId><![CDATA[veg]]></OptionId>" in click.xml
    assert menu.event == "template_card_menu_event" and "SelectedItems" not in menu.xml
    with pytest.raises(inbox.InboxError):
        inbox.act(row, {"kind": "button", "key": "join", "selection": {"option_id": "fish"}})
    with pytest.raises(inbox.InboxError):  # a link button calls nothing back
        inbox.act(row, {"kind": "button", "key": None})


def test_recalled_cards_take_no_clicks_and_other_peoples_cards_are_404(app, wecom, client, login):
    sent = wecom.send_template_card(vote_card(), touser="zhangwei|lina")
    login("staff")
    assert client.post(f"/sandbox/inbox/lina/cards/{inbox_card('zhangwei').id}/act", json=VOTE).status_code == 404
    wecom.recall(sent.msgid)
    answer = client.post(f"/sandbox/inbox/zhangwei/cards/{inbox_card('zhangwei').id}/act", json=VOTE)
    assert answer.status_code == 409 and "recalled" in answer.json["error"]
    assert client.get("/sandbox/inbox/zhangwei/feed").json["cards"][0]["card"] is None


def test_a_passive_reply_that_is_not_genuine_is_ignored(app, wecom):
    wecom.send_template_card(vote_card(), touser="zhangwei")
    callback = inbox.act(inbox_card("zhangwei"), VOTE)
    forged = callbacks.crypto().encrypt_reply("<xml><MsgType>update_button</MsgType></xml>", "1", 1)
    note = callbacks.apply_reply(callback, forged.replace("<TimeStamp>1<", "<TimeStamp>2<").encode())
    assert "not a valid encrypted reply" in note and callback.reply_kind == "invalid"
    assert inbox_card("zhangwei").replace_name is None


def test_a_multiple_choice_form_sends_one_selected_item_per_question(app, wecom):
    survey = json.loads((GALLERY / "06-survey.json").read_text())["template_card"]
    wecom.send_template_card({**survey, "task_id": "survey-1"}, touser="lina")
    answers = [{"question_key": q["question_key"], "option_ids": [q["option_list"][-1]["id"]]}
               for q in survey["select_list"]]
    callback = inbox.act(inbox_card("lina"), {"kind": "submit", "key": survey["submit_button"]["key"],
                                              "selections": answers})
    assert callback.selected == {a["question_key"]: a["option_ids"] for a in answers}
    assert callback.xml.count("<SelectedItem>") == len(survey["select_list"])
    with pytest.raises(inbox.InboxError, match="every list"):
        inbox.act(inbox_card("lina"), {"kind": "submit", "key": survey["submit_button"]["key"],
                                       "selections": answers[:1]})
