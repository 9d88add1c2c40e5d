"""Approvals against the fake WeCom over real HTTP: a big send waits for a second person, whose
card arrives in WeCom; their encrypted click at /wecom/callback decides once (passive reply), the
others' cards follow, the author hears of it, and nothing reaches the recipients before."""
import threading
from datetime import timedelta

import pytest

from dashboard import tasks
from dashboard.approvals import jobs as approval_jobs
from dashboard.approvals import notices
from dashboard.approvals import service as approval_service
from dashboard.api import service as api_service
from dashboard.auth import service as auth_service
from dashboard.campaigns import service
from dashboard.campaigns import jobs as campaign_jobs
from dashboard.extensions import db
from dashboard.models import Approval, ApprovalCard, AuditLog, Campaign, CardEvent, Notice, User, utcnow
from dashboard.wecom.crypto import CallbackCrypto
from tests.campaign_factories import card_version, wait_until
from tests.conftest import PASSWORD
from tests.fake_wecom import FakeWeCom
from tests.test_callback import AES_KEY, TOKEN, callback_app, card_xml, open_reply, post

PEOPLE = ["p1", "p2", "p3", "p4", "p5"]
SEND, UPDATE = "/message/send", "/message/update_template_card"


@pytest.fixture
def fake():
    with FakeWeCom(users=PEOPLE + ["author", "boss", "boss2", "stranger"]) as fake:
        yield fake


@pytest.fixture
def app(tmp_path, fake):
    app = callback_app(tmp_path, WECOM_CORP_ID=fake.corp_id, WECOM_SECRET=fake.secret,
                       WECOM_AGENT_ID=str(fake.agent_id), WECOM_API_BASE=fake.base_url,
                       APPROVAL_ABOVE=3, DEFAULT_LANGUAGE="zh")  # cards in Chinese
    app.extensions["wecom"].client.timeout = (1, 5)
    with app.app_context():
        auth_service.create_user("author", "staff", PASSWORD, wecom_userid="author")
        auth_service.create_user("boss", "admin", PASSWORD, wecom_userid="boss")
        second = auth_service.create_user("boss2", "manager", PASSWORD, wecom_userid="boss2")
        second.may_approve = True
        auth_service.create_user("stranger", "staff", PASSWORD, wecom_userid="stranger")
        auth_service.create_user("nowecom", "admin", PASSWORD)  # an admin WeCom cannot reach
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def login(client, username):
    client.post("/logout")
    return client.post("/login", data={"username": username, "password": PASSWORD})


def only_approval(app) -> int:
    with app.app_context():
        return db.session.scalars(db.select(Approval.id)).one()


def crypto(fake):
    return CallbackCrypto(TOKEN, AES_KEY, fake.corp_id)


def user(name):
    return db.session.scalar(db.select(User).filter_by(username=name))


def asked(app, recipients=None, **fields) -> int:
    """A campaign by the author, sent: returns its id (it awaits approval when it needs one)."""
    with app.app_context():
        campaign = service.create_campaign(name="全员通知", card_version=card_version(),
                                           recipients=recipients or {"users": PEOPLE},
                                           actor=user("author"), **fields)
        db.session.commit()
        service.send(campaign, actor=user("author"))
        db.session.commit()
        campaign_jobs.deliver(campaign.id, eta=campaign.send_at)
        return campaign.id


def cards_of(app, campaign_id) -> list[ApprovalCard]:
    with app.app_context():
        approval = db.session.scalar(db.select(Approval).filter_by(campaign_id=campaign_id)
                                     .order_by(Approval.id.desc()))
        return [(c.userid, c.task_id) for c in approval.cards]


def click(app, fake, task_id, who, key="approve"):
    xml = card_xml(task_id=task_id, user=who, key=key, card_type="button_interaction",
                   code=fake.issue_response_code())
    return post(app.test_client(), xml, crypto=crypto(fake))


def reply_of(response, fake) -> dict:
    assert response.status_code == 200 and response.mimetype == "text/xml"
    return open_reply(response.get_data(as_text=True), crypto(fake))


def campaign(app, campaign_id) -> Campaign:
    with app.app_context():
        found = db.session.get(Campaign, campaign_id)
        db.session.expunge(found)
        return found


def sent_to(fake, userid) -> list[dict]:
    return [c.body for c in fake.calls(SEND) if userid in c.body["touser"].split("|")]


def test_a_send_above_the_threshold_waits_and_the_approvers_get_their_cards(app, fake):
    campaign_id = asked(app)
    assert campaign(app, campaign_id).status == "awaiting_approval"
    with tasks.running(app):
        wait_until(lambda: len(fake.calls(SEND)) >= 2)
    assert not any(sent_to(fake, p) for p in PEOPLE)  # nothing to the recipients yet
    assert not sent_to(fake, "author") and not sent_to(fake, "stranger")
    [card] = sent_to(fake, "boss")
    assert sent_to(fake, "boss2")
    template = card["template_card"]
    assert template["card_type"] == "button_interaction"
    assert [b["key"] for b in template["button_list"]] == ["approve", "reject"]
    assert template["main_title"]["desc"] == "全员通知"
    assert template["task_id"].startswith("approval-")
    assert "/auth/wecom?next=%2Fapprovals%2F" in template["card_action"]["url"]
    values = {item.get("value") for item in template["horizontal_content_list"]}
    assert "5 人" in values  # the recipient count, in the default language (zh)
    with app.app_context():
        assert db.session.scalar(db.select(AuditLog).filter_by(action="approval_requested",
                                                               object_type="approval")).actor_name == "author"


def test_a_small_send_and_approvals_off_go_at_once(app, fake):
    small = asked(app, {"users": PEOPLE[:3]})
    assert campaign(app, small).status == "sending"
    app.config["APPROVAL_ABOVE"] = 0
    big = asked(app)
    assert campaign(app, big).status == "sending"


def test_everyone_always_needs_approval(app, fake):
    with app.app_context():
        assert service.approval_needed(1, True) and not service.approval_needed(3, False)


def test_the_approvers_click_starts_the_send_and_the_reply_shows_who_approved(app, fake):
    campaign_id = asked(app)
    with tasks.running(app):
        wait_until(lambda: len(fake.calls(SEND)) >= 2)
        cards = dict(cards_of(app, campaign_id))
        reply = reply_of(click(app, fake, cards["boss"], "boss"), fake)
        assert reply["MsgType"] == "update_template_card"
        assert reply["TemplateCard"]["ReplaceText"].startswith("已批准 · boss · ")
        wait_until(lambda: campaign(app, campaign_id).status == "sent")
        # Every approver's card shows the decision: the clicker's too (AFTER_CLICK_VIA=api, the
        # default, does not count on WeCom applying the passive reply), each with its send's code.
        wait_until(lambda: len(fake.calls(UPDATE)) == 2)
        wait_until(lambda: sent_to(fake, "author"))  # the author hears of it
    assert all(len(sent_to(fake, p)) == 1 for p in PEOPLE)
    updates = {c.body["userids"][0]: c.body for c in fake.calls(UPDATE)}
    assert set(updates) == {"boss", "boss2"}
    assert all(u["template_card"]["replace_text"].startswith("已批准 · boss") for u in updates.values())
    assert len({u["response_code"] for u in updates.values()}) == 2
    with app.app_context():
        approval = db.session.scalar(db.select(Approval).filter_by(campaign_id=campaign_id))
        assert (approval.decision, approval.decided_by.username, approval.decided_via) == \
            ("approved", "boss", "wecom")
        assert db.session.scalar(db.select(AuditLog).filter_by(action="approval_approved")).actor_name == "boss"
        event = db.session.scalar(db.select(CardEvent).filter_by(task_id=cards["boss"]))
        assert event.campaign_id is None  # kept out of every report


def test_with_passive_replies_only_the_other_approvers_cards_are_updated(app, fake):
    app.config["AFTER_CLICK_VIA"] = "reply"
    campaign_id = asked(app)
    with tasks.running(app):
        wait_until(lambda: len(fake.calls(SEND)) >= 2)
        cards = dict(cards_of(app, campaign_id))
        reply_of(click(app, fake, cards["boss2"], "boss2", key="reject"), fake)
        wait_until(lambda: fake.calls(UPDATE))
        wait_until(lambda: sent_to(fake, "author"))
    [update] = fake.calls(UPDATE)
    assert update.body["userids"] == ["boss"]
    assert update.body["template_card"]["replace_text"].startswith("已驳回 · boss2")


@pytest.mark.parametrize("who, why", [("author", "不能审批自己"), ("stranger", "不是审批人"),
                                      ("nobody-known", "不是审批人")])
def test_a_click_by_the_author_or_a_stranger_changes_nothing_and_says_why(app, fake, who, why):
    campaign_id = asked(app)
    with app.app_context():
        approval_jobs.send_cards(db.session.scalar(db.select(Approval.id)))
    cards = dict(cards_of(app, campaign_id))
    reply = reply_of(click(app, fake, cards["boss"], who), fake)
    assert reply["MsgType"] == "update_button" and why in reply["Button"]["ReplaceName"]
    assert campaign(app, campaign_id).status == "awaiting_approval"
    with app.app_context():
        assert db.session.scalar(db.select(Approval.decision)) is None


def test_a_second_approver_after_the_first_is_told_who_decided_and_changes_nothing(app, fake):
    campaign_id = asked(app)
    with app.app_context():
        approval_jobs.send_cards(db.session.scalar(db.select(Approval.id)))
    cards = dict(cards_of(app, campaign_id))
    reply_of(click(app, fake, cards["boss"], "boss", key="reject"), fake)
    assert campaign(app, campaign_id).status == "draft"
    late = reply_of(click(app, fake, cards["boss2"], "boss2", key="approve"), fake)
    assert late["TemplateCard"]["ReplaceText"].startswith("已驳回 · boss")
    assert campaign(app, campaign_id).status == "draft"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Approval.id))) == 1
        assert db.session.scalar(db.select(Approval.decision)) == "rejected"


def test_a_retried_click_is_answered_again_and_decides_nothing_twice(app, fake):
    campaign_id = asked(app)
    with app.app_context():
        approval_jobs.send_cards(db.session.scalar(db.select(Approval.id)))
    cards = dict(cards_of(app, campaign_id))
    xml = card_xml(task_id=cards["boss"], user="boss", key="approve", card_type="button_interaction",
                   code=fake.issue_response_code())
    first = reply_of(post(app.test_client(), xml, crypto=crypto(fake)), fake)
    again = reply_of(post(app.test_client(), xml, crypto=crypto(fake)), fake)
    assert first["TemplateCard"]["ReplaceText"] == again["TemplateCard"]["ReplaceText"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(AuditLog.id))
                                 .filter_by(action="approval_approved")) == 1
        assert db.session.get(Campaign, campaign_id).status == "sending"


def test_two_simultaneous_approvals_give_one_send(app, fake):
    campaign_id = asked(app)
    with app.app_context():
        approval_jobs.send_cards(db.session.scalar(db.select(Approval.id)))
    cards = dict(cards_of(app, campaign_id))
    start, replies = threading.Barrier(2), {}

    def approve(who):
        start.wait()
        replies[who] = reply_of(click(app, fake, cards[who], who), fake)

    threads = [threading.Thread(target=approve, args=(who,)) for who in ("boss", "boss2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        approval = db.session.scalar(db.select(Approval))
        assert approval.decision == "approved"
        assert db.session.scalar(db.select(db.func.count(AuditLog.id))
                                 .filter_by(action="approval_approved")) == 1
        assert db.session.scalar(db.select(db.func.count(AuditLog.id)).filter_by(
            action="campaign_sent", object_id=str(campaign_id))) == 1
        winner = approval.decided_by.username
    assert {r["TemplateCard"]["ReplaceText"].split(" · ")[1] for r in replies.values()} == {winner}
    with tasks.running(app):
        wait_until(lambda: campaign(app, campaign_id).status == "sent")
    assert all(len(sent_to(fake, p)) == 1 for p in PEOPLE)


def test_rejection_on_the_web_returns_the_campaign_to_draft_with_the_reason(app, fake):
    campaign_id = asked(app)
    client = app.test_client()
    login(client, "boss2")
    approval_id = only_approval(app)
    page = client.get(f"/approvals/{approval_id}")
    assert page.status_code == 200 and "全员通知" in page.get_data(as_text=True)
    answer = client.post(f"/approvals/{approval_id}/decide",
                         data={"reason": "请先和法务确认措辞", "reject": "1"})
    assert answer.status_code == 302
    assert campaign(app, campaign_id).status == "draft"
    login(client, "author")
    shown = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "请先和法务确认措辞" in shown and "boss2" in shown
    assert not any(sent_to(fake, p) for p in PEOPLE)


def test_the_author_cannot_approve_on_the_web_either(app, fake):
    campaign_id = asked(app)
    client = app.test_client()
    login(client, "author")
    approval_id = only_approval(app)
    assert client.get(f"/approvals/{approval_id}").status_code == 200  # they may look
    client.post(f"/approvals/{approval_id}/decide", data={"approve": "1"})
    assert campaign(app, campaign_id).status == "awaiting_approval"
    login(client, "stranger")
    assert client.get(f"/approvals/{approval_id}").status_code == 404


def test_editing_a_campaign_awaiting_approval_asks_again(app, fake):
    campaign_id = asked(app)
    with app.app_context():
        first = db.session.scalar(db.select(Approval))
        approval_jobs.send_cards(first.id)
        old_cards = dict((c.userid, c.task_id) for c in first.cards)
        found = db.session.get(Campaign, campaign_id)
        service.update_campaign(found, recipients={"users": PEOPLE[:4]}, actor=user("author"))
        db.session.commit()
        assert found.status == "awaiting_approval"
        approvals = db.session.scalars(db.select(Approval).order_by(Approval.id)).all()
        assert [a.decision for a in approvals] == ["withdrawn", None]
        assert approvals[1].recipients == 4
    stale = reply_of(click(app, fake, old_cards["boss"], "boss"), fake)
    assert "失效" in stale["TemplateCard"]["ReplaceText"]
    assert campaign(app, campaign_id).status == "awaiting_approval"


def test_nobody_to_approve_refuses_the_send_and_says_what_to_do(app, fake):
    with app.app_context():
        for name in ("boss", "boss2"):
            user(name).wecom_userid = None
        db.session.commit()
        draft = service.create_campaign(name="x", card_version=card_version(),
                                        recipients={"users": PEOPLE}, actor=user("author"))
        db.session.commit()
        with pytest.raises(service.CampaignError, match="approval"):
            service.send(draft, actor=user("author"))


def test_the_finish_notice_reaches_the_author_once(app, fake):
    campaign_id = asked(app, {"users": PEOPLE[:2]})
    with tasks.running(app):
        wait_until(lambda: campaign(app, campaign_id).status == "sent")
        wait_until(lambda: sent_to(fake, "author"))
    with app.app_context():
        found = db.session.get(Campaign, campaign_id)
        kind, ref = notices.key(found, "sent")
        assert notices.send(campaign_id, kind, ref) is None  # a second time: nothing
        approval_jobs.sweep()
        assert db.session.scalar(db.select(db.func.count(Notice.id))) == 1
    [notice] = sent_to(fake, "author")
    card = notice["template_card"]
    assert card["card_type"] == "text_notice" and "已发送" in card["main_title"]["title"]
    assert {i["keyname"]: i["value"] for i in card["horizontal_content_list"]}["已送达"] == "2"
    assert f"next=%2Fcampaigns%2F{campaign_id}" in card["card_action"]["url"]


def test_an_author_who_turned_notices_off_gets_none(app, fake):
    with app.app_context():
        user("author").wecom_notices = False
        db.session.commit()
    campaign_id = asked(app, {"users": PEOPLE[:2]})
    with tasks.running(app):
        wait_until(lambda: campaign(app, campaign_id).status == "sent")
    with app.app_context():
        approval_jobs.sweep()
    assert not sent_to(fake, "author")


def test_the_api_send_answers_202_awaiting_approval_and_sends_nothing(app, fake):
    with app.app_context():
        _, secret = api_service.create_token(user("author"), "script", actor="test")
        draft = service.create_campaign(name="API 通知", card_version=card_version(),
                                        recipients={"users": PEOPLE}, actor=user("author"))
        db.session.commit()
        draft_id = draft.id
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    answer = client.post(f"/api/v1/campaigns/{draft_id}/send", headers=headers)
    assert answer.status_code == 202
    assert answer.get_json() == {"id": draft_id, "status": "awaiting_approval"}
    assert client.get(f"/api/v1/campaigns/{draft_id}", headers=headers).get_json()["status"] == \
        "awaiting_approval"
    with tasks.running(app):
        wait_until(lambda: len(fake.calls(SEND)) >= 2)
    assert not any(sent_to(fake, p) for p in PEOPLE)


def test_a_click_after_the_campaign_was_cancelled_changes_nothing_and_says_so(app, fake):
    campaign_id = asked(app)
    with app.app_context():
        approval_jobs.send_cards(db.session.scalar(db.select(Approval.id)))
        service.cancel(db.session.get(Campaign, campaign_id), actor=user("author"))
        db.session.commit()
        assert db.session.scalar(db.select(Approval.decision)) == "withdrawn"
    cards = dict(cards_of(app, campaign_id))
    reply = reply_of(click(app, fake, cards["boss"], "boss"), fake)
    assert "失效" in reply["TemplateCard"]["ReplaceText"]
    assert campaign(app, campaign_id).status == "cancelled"
    with tasks.running(app):  # the approvers' cards say it no longer counts
        wait_until(lambda: len(fake.calls(UPDATE)) == 2)
    assert not any(sent_to(fake, p) for p in PEOPLE)


def test_an_approved_scheduled_campaign_waits_for_its_time_and_its_start_is_told(app, fake):
    campaign_id = asked(app, send_at=utcnow() + timedelta(seconds=2))
    with app.app_context():
        approval = db.session.scalar(db.select(Approval))
        assert approval_service.decide(approval, user("boss"), "approved") is None
        db.session.commit()
        approval_jobs.after_decision(approval)
        assert db.session.get(Campaign, campaign_id).status == "scheduled"
    with tasks.running(app):
        wait_until(lambda: campaign(app, campaign_id).status == "sent", timeout=40)
        wait_until(lambda: len(sent_to(fake, "author")) == 3)  # approved, started, sent
    titles = [n["template_card"]["main_title"]["title"] for n in sent_to(fake, "author")]
    assert sorted(titles) == sorted(["你的群发任务已获批准", "你的定时群发任务已开始发送", "你的群发任务已发送"])


def test_the_approvals_page_lists_what_waits_with_its_buttons_and_they_decide(app, fake):
    campaign_id = asked(app)
    approval_id = only_approval(app)
    client = app.test_client()
    login(client, "boss")
    page = client.get("/approvals/").get_data(as_text=True)
    assert "全员通知" in page and f'action="/approvals/{approval_id}/decide"' in page
    login(client, "author")  # the author's own campaign: listed as theirs, with no buttons
    assert f'action="/approvals/{approval_id}/decide"' not in client.get("/approvals/").get_data(as_text=True)
    login(client, "boss")
    assert client.post(f"/approvals/{approval_id}/decide", data={"approve": "1"}).status_code == 302
    assert campaign(app, campaign_id).status == "sending"


def test_after_a_rejection_in_wecom_the_rejecter_gives_the_reason_the_author_reads(app, fake):
    campaign_id = asked(app)
    with app.app_context():
        approval_jobs.send_cards(only_approval(app))
    cards = dict(cards_of(app, campaign_id))
    reply = reply_of(click(app, fake, cards["boss"], "boss", key="reject"), fake)
    approval_id = only_approval(app)
    assert reply["TemplateCard"]["CardAction"]["Url"].endswith(f"%2Fapprovals%2F{approval_id}%2Freason")
    client = app.test_client()
    login(client, "boss2")  # not the rejecter: refused, nothing kept
    client.post(f"/approvals/{approval_id}/reason", data={"reason": "不是我驳回的"})
    login(client, "boss")
    assert client.post(f"/approvals/{approval_id}/reason", data={"reason": "预算未批"}).status_code == 302
    login(client, "author")
    shown = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "预算未批" in shown and "不是我驳回的" not in shown
    with tasks.running(app):
        wait_until(lambda: len(sent_to(fake, "author")) == 2)  # rejected, then why
    assert any("理由：预算未批" in n["template_card"].get("sub_title_text", "") for n in sent_to(fake, "author"))
