"""Realistic data for the language crawl (test_i18n_crawl.py), in the language of the run.

The cards, campaigns, audiences, token and after-click texts are what people type: in Chinese for
the Chinese crawl and in English for the English one, so that they can never be mistaken for an
untranslated message (an English phrase of the catalog on a Chinese page, or the reverse). The
sandbox directory is fixed and mostly Chinese; for the English crawl it is renamed in English.

Everything is made through the service layer, the way the views and the worker do it: the
directory read from the sandbox's contacts API, campaigns planned and delivered by the delivery
run the worker performs, and employees' clicks posted by the sandbox to the callback route.
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from dashboard.api import service as api_service
from dashboard.auth import service as auth_service
from dashboard.callback import after_click
from dashboard.campaigns import delivery, plan, service as campaigns
from dashboard.cards import service as cards
from dashboard.conversations import service as conversations
from dashboard.extensions import db
from dashboard.models import (Approval, ApprovalCard, Card, ConversationMessage, DirectoryUser, SandboxDepartment, SandboxEmployee,
                              SandboxInboxCard, SandboxTag, User, utcnow)
from dashboard.sandbox import callbacks, inbox, seed_directory
from tests.conftest import PASSWORD

GALLERY = Path(__file__).resolve().parents[2] / "dashboard" / "cards" / "gallery"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
TEXT_KEYS = {"title", "desc", "text", "keyname", "value", "sub_title_text", "quote_text"}
STARTERS = {"text_notice": "01-announcement", "news_notice": "02-news",
            "button_interaction": "03-rsvp", "vote_interaction": "04-poll-single",
            "multiple_interaction": "06-survey"}

# The Chinese of the starter cards' texts (the user content of the Chinese crawl).
CHINESE = {
    "Facilities": "行政部", "Office move this weekend": "本周末办公室搬迁",
    "Floor 3 moves to the new building": "三楼整体搬至新大楼", "Sat 9:00": "周六 9:00",
    "Movers arrive": "搬家公司到场",
    "Please pack your desk into the labelled boxes by Friday 17:00. Laptops travel with you.":
        "请在周五 17:00 前把个人物品装入贴好标签的纸箱，笔记本电脑随身携带。",
    "Where": "地点", "Building B, floor 5": "B 座 5 层", "Boxes": "纸箱",
    "At reception from Wed": "周三起前台领取", "Map": "平面图", "Floor plan": "新楼层平面图",
    "Moving checklist": "搬迁清单", "Company news": "公司新闻",
    "Our new Shenzhen office is open": "深圳新办公室正式启用", "Photos from the opening day": "开业当天的照片",
    "200 seats, 12 meeting rooms": "200 个工位，12 间会议室",
    "Book rooms in the calendar as usual.": "会议室照常在日历中预订。",
    "Free shuttle from the metro": "地铁站免费班车", "Every 15 minutes from 8:00 to 10:00.": "8:00 至 10:00 每 15 分钟一班。",
    "Nanshan, Tower A, floor 18": "南山区 A 座 18 层", "Read the story": "阅读全文",
    "Events": "活动", "Team dinner on Friday": "周五团队聚餐", "Friday 19:00 at the Riverside": "周五 19:00 江畔餐厅",
    "Please answer by Wednesday so we can book the tables.": "请在周三前回复，方便订座。",
    "Riverside restaurant": "江畔餐厅", "When": "时间", "Fri 19:00 - 22:00": "周五 19:00 - 22:00",
    "Meal": "餐食", "Standard": "常规", "Vegetarian": "素食", "Attend": "参加", "Maybe": "待定",
    "Decline": "不参加", "Team poll": "团队投票", "When should we hold the offsite?": "团建定在哪天？",
    "Choose one date": "选择一个日期", "Fri 14 June": "6月14日 周五", "Fri 21 June": "6月21日 周五",
    "Fri 28 June": "6月28日 周五", "Vote": "投票", "HR pulse": "人力资源部", "Monthly pulse survey": "月度员工调研",
    "Three questions, one minute": "三个问题，一分钟", "How is your workload?": "你的工作量如何？",
    "Too light": "偏少", "About right": "适中", "Too heavy": "偏多",
    "Do you get the support you need?": "需要的支持都能得到吗？", "Yes": "是", "Mostly": "大部分能",
    "No": "否", "Would you recommend us as an employer?": "你会推荐朋友来公司工作吗？",
    "Not sure": "不确定", "Submit": "提交",
}


@dataclass
class Words:
    """What people typed, in one language."""
    cards: dict[str, str]
    campaigns: dict[str, str]
    notes: str
    audiences: list[str]
    token: str
    voted: str
    second_version: str
    conversation: dict = field(default_factory=dict)  # a reply rule and a member's message
    rejected: str = ""  # an approver's reason for rejecting the draft
    directory: dict = field(default_factory=dict)  # for the English run: the directory renamed


ZH = Words(
    cards={"text_notice": "搬迁通知", "news_notice": "深圳办公室新闻", "button_interaction": "聚餐报名",
           "vote_interaction": "团建日期投票", "multiple_interaction": "月度调研"},
    campaigns={"vote": "团建日期投票（研发部）", "rsvp": "周五聚餐报名", "draft": "市场部搬迁通知",
               "scheduled": "深圳办公室开业新闻", "approval": "全员安全培训通知"},
    notes="周五前发出，提醒大家回复。", audiences=["研发部全体", "志愿者和新员工"], token="人事系统同步",
    voted="已投票", second_version="本周六办公室搬迁", rejected="请先和法务确认措辞。",
    conversation={"rule": "请假流程", "keyword": "请假", "reply": "请在企业微信审批中提交请假申请。",
                  "message": "我想请假，怎么办？"})

EN = Words(
    cards={"text_notice": "Office move notice", "news_notice": "Shenzhen office story",
           "button_interaction": "Dinner RSVP", "vote_interaction": "Offsite date poll",
           "multiple_interaction": "Monthly pulse"},
    campaigns={"vote": "Offsite date (Engineering)", "rsvp": "Friday dinner RSVP",
               "draft": "Marketing move notice", "scheduled": "Shenzhen opening story",
               "approval": "Safety training for everyone"},
    notes="Goes out before Friday, remind people to answer.", audiences=["All of Engineering",
                                                                       "Volunteers and newcomers"],
    token="HR system sync", voted="Voted", second_version="Office move on Saturday",
    rejected="Check the wording with Legal first.",
    conversation={"rule": "Leave requests", "keyword": "leave", "reply": "Submit your leave request in "
                  "WeCom Approvals.", "message": "How do I ask for leave?"},
    directory={"tags": {1: "Leadership", 2: "Newcomers", 3: "Volunteers", 4: "Shanghai office"}})


def starter_card(card_type: str, words: Words) -> dict:
    card = json.loads((GALLERY / f"{STARTERS[card_type]}.json").read_text("utf-8"))["template_card"]
    return translated(card) if words is ZH else card


def translated(value):
    """The starter card's texts in Chinese (ids, keys and URLs kept)."""
    if isinstance(value, dict):
        return {k: CHINESE[v] if k in TEXT_KEYS and isinstance(v, str) else translated(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [translated(v) for v in value]
    return value


def in_english_only(words: Words) -> None:
    """The English crawl: the sandbox directory's Chinese names, positions, departments and tags
    in English (pinyin names from the userids), so no Chinese user content is on its pages."""
    for employee in db.session.scalars(db.select(SandboxEmployee)):
        if CJK.search(employee.name):
            employee.name = employee.userid.replace(".", " ").title()
        if CJK.search(employee.position or ""):
            employee.position = "Team member"
    for department in db.session.scalars(db.select(SandboxDepartment)):
        department.name = department.name_en
    for tag in db.session.scalars(db.select(SandboxTag)):
        tag.name = words.directory["tags"].get(tag.id, tag.name)


@dataclass
class Seeded:
    """The ids of what was made, for the crawl's URLs."""
    cards: dict[str, int] = field(default_factory=dict)  # card type -> card id
    sent: int = 0  # the vote campaign, named answers, sent
    aggregate: int = 0  # the RSVP campaign, answers counted only, sent
    draft: int = 0
    scheduled: int = 0
    voter: str = "zhangwei"  # answered the vote: has a person page, a sandbox inbox, a conversation
    rule: int = 0
    staff_id: int = 0
    approval: int = 0  # the staff member's campaign to everyone, awaiting the admin's approval
    rejection: int = 0  # the admin's rejection of the draft, with its reason


def converse(userid: str, words: dict, admin) -> int:
    """A reply rule, a member's message it answered and an unanswered picture: the inbox's rows
    as the callback writes them (tests/test_conversations_callback.py drives the real callback)."""
    rule = conversations.save_rule(None, {"name": words["rule"], "triggers": [
        {"match": "contains", "text": words["keyword"]}], "replies": [{"type": "text", "text": words["reply"]}]},
        actor=admin)
    now = utcnow()
    db.session.add_all([
        ConversationMessage(userid=userid, direction="in", msg_type="text", text=words["message"],
                            create_time=int(now.timestamp()) - 60, dedupe_key="seed-1", answered=True,
                            rule_id=rule.id, created_at=now - timedelta(minutes=1)),
        ConversationMessage(userid=userid, direction="out", msg_type="text", text=words["reply"],
                            in_reply_to="seed-1", rule_id=rule.id, via="passive", status="sent",
                            created_at=now - timedelta(minutes=1)),
        ConversationMessage(userid=userid, direction="in", msg_type="image", text="",
                            data={"PicUrl": "https://example.com/p.png", "MediaId": "m1"},
                            create_time=int(now.timestamp()), dedupe_key="seed-2", created_at=now)])
    return rule.id


def click(userid: str, action: dict) -> None:
    """An employee answers the newest card of their sandbox inbox; the sandbox posts the
    callback to the app's callback route, as WeCom would."""
    row = db.session.scalar(db.select(SandboxInboxCard).filter_by(userid=userid)
                            .order_by(SandboxInboxCard.id.desc()).limit(1))
    callback = inbox.act(row, action)
    db.session.commit()
    callbacks.deliver(callback.id)
    db.session.commit()


def send(name: str, version, recipients: dict, admin: User, **options) -> int:
    campaign = campaigns.create_campaign(name=name, card_version=version, recipients=recipients,
                                         actor=admin, **options)
    campaigns.send(campaign, actor=admin)
    db.session.commit()
    delivery.run(campaign.id)  # what the worker runs for a campaign due now
    db.session.commit()
    return campaign.id


def approvals(words: Words, version, draft, admin) -> tuple[int, int]:
    """A staff member's send to everyone awaiting the admin's approval (the admin linked to a
    WeCom member, so the page offers the decision), and the admin's rejection of the draft."""
    admin.wecom_userid = "wangfang"
    staff = db.session.scalar(db.select(User).filter_by(username="staff"))
    awaiting = campaigns.create_campaign(name=words.campaigns["approval"], card_version=version,
                                         recipients={"all": True}, actor=staff)
    db.session.flush()
    plan.add_batches(awaiting, list(db.session.scalars(db.select(DirectoryUser.userid))), everyone=True)
    awaiting.status = "awaiting_approval"
    asked = Approval(campaign=awaiting, requested_by=staff, recipients=50, everyone=True)
    rejected = Approval(campaign=draft, requested_by=admin, recipients=14, decision="rejected",
                        decided_by=admin, decided_at=utcnow(), decided_via="wecom", reason=words.rejected)
    db.session.add_all([asked, rejected, ApprovalCard(approval=asked, user=admin, userid="wangfang",
                                                      task_id="approval-seed", sent_at=utcnow())])
    db.session.flush()
    return asked.id, rejected.id


def seed(app, words: Words) -> Seeded:
    """The data of the crawl (in an app whose server is up: the sandbox's API is reached over
    HTTP, at DASHBOARD_URL)."""
    seeded = Seeded()
    with app.app_context():
        for role in ("admin", "staff", "manager"):
            auth_service.create_user(role, role, PASSWORD, actor="test")
        db.session.commit()
        admin = db.session.scalar(db.select(User).filter_by(username="admin"))
        seeded.staff_id = db.session.scalar(db.select(User.id).filter_by(username="staff"))
        seed_directory()
        if words is EN:
            in_english_only(words)
        db.session.commit()
        campaigns.refresh_directory(actor=admin)
        db.session.commit()

        versions = {}
        for card_type, name in words.cards.items():
            template = starter_card(card_type, words)
            card = cards.create_card(name, template, actor=admin)
            assert not cards.card_problems(card.latest), (card_type, cards.card_problems(card.latest))
            versions[card_type], seeded.cards[card_type] = card.latest, card.id
        notice = db.session.get(Card, seeded.cards["text_notice"])
        changed = copy.deepcopy(versions["text_notice"].template_card)
        changed["main_title"]["title"] = words.second_version
        cards.save_card(notice, notice.name, changed, actor=admin)  # a second version: a history
        after_click.set_after_click(versions["vote_interaction"],
                                    {"mode": "button", "replace_name": words.voted}, actor=admin)
        db.session.commit()

        seeded.sent = send(words.campaigns["vote"], versions["vote_interaction"],
                           {"departments": [2]}, admin)  # Engineering: 18 people, one unlicensed
        dates = [o["id"] for o in versions["vote_interaction"].template_card["checkbox"]["option_list"]]
        for i, userid in enumerate(["zhangwei", "lina", "liuyang", "chenjie", "emma.wilson"]):
            click(userid, {"kind": "submit", "key": "submit_vote", "selections": [
                {"question_key": "offsite_date", "option_ids": [dates[i % 2]]}]})

        rsvp = versions["button_interaction"]
        seeded.aggregate = send(words.campaigns["rsvp"], rsvp, {"tags": [3]}, admin, privacy="aggregate")
        for userid, key in (("lina", "attend"), ("wuting", "decline"), ("hejing", "attend")):
            click(userid, {"kind": "button", "key": key, "selection": {"option_id": "meal_veg"}})

        draft = campaigns.create_campaign(
            name=words.campaigns["draft"], card_version=versions["text_notice"].card.latest,
            notes=words.notes, recipients={"departments": [3], "users": ["zhangwei", "lina"],
                                           "exclude": {"users": ["guohui"]}}, actor=admin)
        scheduled = campaigns.create_campaign(
            name=words.campaigns["scheduled"], card_version=versions["news_notice"],
            recipients={"all": True}, send_at=utcnow() + timedelta(days=2), actor=admin)
        campaigns.send(scheduled, actor=admin)
        campaigns.save_audience(words.audiences[0], {"departments": [2]}, actor=admin)
        campaigns.save_audience(words.audiences[1], {"tags": [2, 3]}, actor=admin)
        api_service.create_token(admin, words.token)
        seeded.rule = converse(seeded.voter, words.conversation, admin)
        seeded.approval, seeded.rejection = approvals(words, versions["text_notice"], draft, admin)
        db.session.commit()
        seeded.draft, seeded.scheduled = draft.id, scheduled.id
    return seeded

