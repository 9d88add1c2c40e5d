"""The conversations report (issue 26, point 8): messages a day in TIMEZONE, the rules matched
most, the members who wrote, the words of unanswered messages, and their CSV files."""
import csv
import io
import re
from datetime import datetime, timedelta, timezone
from itertools import count

import pytest

from dashboard.conversations import stats
from dashboard.extensions import db
from dashboard.models import ConversationMessage, DirectoryUser, ReplyRule, utcnow
from tests.test_conversations_callback import (  # noqa: F401  (app, fake: fixtures)
    app, fake, message_xml, post, reply_of, rule)

KEYS = count(1)


def message(userid, text="", at=None, *, answered=False, rule_id=None, replies=1):
    """An incoming text, and the rule's answers to it (the first passive) when ``rule_id`` is given."""
    key, at = f"k{next(KEYS)}", at or utcnow()
    db.session.add(ConversationMessage(userid=userid, direction="in", msg_type="text", text=text, created_at=at,
                                       dedupe_key=key, answered=answered or rule_id is not None, rule_id=rule_id))
    for index in range(replies if rule_id is not None else 0):
        db.session.add(ConversationMessage(userid=userid, direction="out", msg_type="text", text="ok",
                                           created_at=at, in_reply_to=key, rule_id=rule_id,
                                           via="active" if index else "passive", status="sent"))


def table(response) -> list[list[str]]:
    data = response.get_data()
    assert response.mimetype == "text/csv" and data.startswith(b"\xef\xbb\xbf")  # the BOM, for Excel
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_a_conversation_through_the_real_callback_shows_in_the_report(app, client, login):
    rule(app, "demo", [{"match": "whole", "text": "test"}], [{"type": "text", "text": "this is success test"}])
    answer = reply_of(app, post(app, client, message_xml(Content="test", msg_id="1")))
    assert answer["Content"] == "this is success test"
    for msg_id, text in (("2", "怎么请假？"), ("3", "请假条在哪里"), ("4", "Printer broken")):
        assert reply_of(app, post(app, client, message_xml(Content=text, msg_id=msg_id, user="wangwu"))) is None
    with app.app_context():
        db.session.add(DirectoryUser(userid="wangwu", name="王五", departments=[1]))
        db.session.commit()
    login("manager")
    page = client.get("/conversations/report").get_data(as_text=True)
    assert re.search(r'data-figure="messages">4<', page) and re.search(r'data-figure="unanswered">3<', page)
    assert re.search(r'data-rule="\d+"><td><span data-user-content>demo</span>', page)
    assert "王五" in page and page.index('data-userid="wangwu"') < page.index('data-userid="lisi"')  # 3 before 1
    assert "/conversations/inbox?q=%E8%AF%B7%E5%81%87&amp;unanswered=1" in page  # 请假, in 2 messages
    assert "printer" not in page.lower().split("words-title")[1]  # in one message only: no idea yet


def test_days_are_local_days_of_the_timezone(app):
    now = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)  # 20:00 in Asia/Shanghai
    with app.app_context():
        message("a", at=datetime(2026, 3, 9, 15, 59, tzinfo=timezone.utc))  # 3-09 23:59 local
        message("a", at=datetime(2026, 3, 9, 16, 0, tzinfo=timezone.utc), answered=True)  # 3-10 00:00 local
        message("b", at=datetime(2026, 3, 10, 11, 0, tzinfo=timezone.utc))
        message("b", at=datetime(2026, 3, 3, 15, 0, tzinfo=timezone.utc))  # 3-03 23:00 local: before
        db.session.commit()
        period = stats.period(7, "Asia/Shanghai", now=now)
        days = stats.daily(period)
        assert [d.date.isoformat() for d in days][::6] == ["2026-03-04", "2026-03-10"]
        assert [(d.messages, d.unanswered) for d in days[-2:]] == [(1, 1), (2, 1)]
        assert sum(d.messages for d in days) == 3
        assert stats.writer_count(period) == 2


def test_rules_and_members_are_ranked_and_deleted_rules_left_out(app):
    with app.app_context():
        often, once, gone = (ReplyRule(name=name, triggers=[], replies=[]) for name in ("often", "once", "gone"))
        db.session.add_all([often, once, gone])
        db.session.flush()
        start = utcnow() - timedelta(hours=1)
        for minute, (userid, rule_id) in enumerate((("a", often.id), ("b", often.id), ("b", once.id),
                                                     ("b", gone.id), ("c", None))):
            message(userid, "hi", start + timedelta(minutes=minute), rule_id=rule_id, replies=3)  # count once
        db.session.delete(gone)
        db.session.commit()
        period = stats.period(30, "Asia/Shanghai")
        assert [(use.name, use.times) for use in stats.top_rules(period)] == [("often", 2), ("once", 1)]
        writers = [(w.userid, w.messages) for w in stats.writers(period)]
        assert writers == [("b", 3), ("c", 1), ("a", 1)]  # the same count: the latest first


@pytest.mark.parametrize("texts, expected", [
    (["怎么请假", "请假条", "我要请假吗"], [("请假", 3)]),  # 请假 alone; 要请, 请假吗 end or start with a stop
    (["请假条在哪", "请假条模板", "请假"], [("请假", 3), ("请假条", 2)]),
    (["请假条在哪", "请假条模板"], [("请假条", 2)]),  # 请假 is in the same 2 messages: hidden
    (["WiFi 密码", "ＷＩＦＩ connect", "wifi", "the the"], [("wifi", 3)]),  # full-width, any case, stop words
    (["你好", "你好", "谢谢", "谢谢 ok", "123 123"], []),
])
def test_the_words_rule(texts, expected):
    assert [(w.word, w.messages) for w in stats.frequent_words(texts)] == expected


def test_csv_of_each_kind_in_timezone_and_formula_safe(app, client, login):
    at = (utcnow() - timedelta(days=3)).replace(hour=1, minute=0, second=5, microsecond=0)  # 09:00:05 in Shanghai
    day = (at + timedelta(hours=8)).date().isoformat()
    with app.app_context():
        bad = ReplyRule(name="=cmd|' /C calc'!A0", triggers=[], replies=[])
        db.session.add_all([bad, DirectoryUser(userid="u1", name="@SUM(1+1)", departments=[])])
        db.session.flush()
        message("u1", "=cmd 请假", at, rule_id=bad.id)
        message("u1", "+cmd 请假", at + timedelta(seconds=1))
        message("u2", "-cmd 请假", at + timedelta(seconds=2))
        db.session.commit()
    login("staff")
    rules = table(client.get("/conversations/report.csv?kind=rules&days=7"))
    assert rules[1][1:] == ["'=cmd|' /C calc'!A0", "1", f"{day} 09:00:05"]
    members = table(client.get("/conversations/report.csv?kind=members&days=7&header=en"))
    assert members == [["userid", "name", "messages", "last_message"], ["u1", "'@SUM(1+1)", "2", f"{day} 09:00:06"],
                       ["u2", "", "1", f"{day} 09:00:07"]]
    words = table(client.get("/conversations/report.csv?kind=words&days=7"))
    assert words[1:] == [["cmd", "2"], ["请假", "2"]]  # as many messages: the longer first
    daily = table(client.get("/conversations/report.csv?kind=daily&days=7"))
    assert daily[0] == ["date", "messages", "answered", "unanswered"]
    assert [day, "3", "1", "2"] in daily and len(daily) == 8
    assert client.get("/conversations/report.csv?kind=secrets").status_code == 404


@pytest.mark.parametrize("role", ["staff", "manager", "admin"])
def test_staff_managers_and_admins_read_the_report(client, login, role):
    login(role)
    assert client.get("/conversations/report?days=7").status_code == 200
    assert len(table(client.get("/conversations/report.csv?kind=daily&days=nonsense"))) == 1 + 30


def test_anonymous_visitors_go_to_the_login_page(client):
    for path in ("/conversations/report", "/conversations/report.csv"):
        assert "/login" in client.get(path).headers["Location"]


def test_the_period_is_bounded(app):
    with app.app_context():
        assert stats.period(100_000, "UTC").days == stats.PERIOD_MAX and stats.period(-3, "UTC").days == 1
