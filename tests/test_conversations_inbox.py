"""The inbox (issue 26 point 4): threads of what members send the app, what answered them, filters,
answering by hand through the fake WeCom's message/send, and who may do what."""
import re
import time
from datetime import date, datetime, timedelta, timezone

import pytest

from dashboard.conversations import queries
from dashboard.directory import sync
from dashboard.extensions import db
from dashboard.models import AuditLog, ConversationMessage
from tests.campaign_factories import wired
from tests.fake_wecom import FakeWeCom
from tests.test_conversations_callback import event_xml, message_xml, post, reply_of, rule

PIC = "https://wework.qpic.cn/wwpic/lisi-photo.jpg"


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


@pytest.fixture
def app(tmp_path, fake):
    with wired(tmp_path, fake) as app:
        with app.app_context():
            sync.run(actor="test")  # names and departments from the fake's directory
        app.extensions["huey"].immediate = True
        yield app


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, url
    return response.get_data(as_text=True)


def one(app, **where) -> ConversationMessage:
    with app.app_context():
        return db.session.scalar(db.select(ConversationMessage).filter_by(**where))


def conversation(app, client) -> None:
    """lisi: "test" (answered by the demo rule), a picture (nothing answers it), a place, a link,
    a menu click; wangwu opens the app and gets the welcome."""
    rule(app, "demo", [{"match": "whole", "text": "test"}], [{"type": "text", "text": "this is success test"}])
    rule(app, "hello", [], [{"type": "text", "text": "欢迎使用"}], kind="welcome")
    answer = reply_of(app, post(app, client, message_xml(Content="test", msg_id="1")))
    assert answer["Content"] == "this is success test"
    for xml in (message_xml("image", msg_id="2", PicUrl=PIC, MediaId="media-2"),
                message_xml("location", msg_id="3", Location_X="23.134521", Location_Y="113.358803",
                            Scale="20", Label="广州市海珠区"),
                message_xml("link", msg_id="4", Title="年会通知", Description="点开看看",
                            Url="https://example.com/party", PicUrl=""),
                event_xml("click", key="MENU_HELP")):
        assert reply_of(app, post(app, client, xml)) is None
    assert reply_of(app, post(app, client, event_xml("enter_agent", user="wangwu")))["Content"] == "欢迎使用"


def test_threads_list_each_member_with_name_counts_and_last_message(app, client, login):
    conversation(app, client)
    login("manager")
    body = page(client, "/conversations/inbox")
    assert body.index("王五") < body.index("李四")  # latest first
    lisi = body[body.index("李四"):]
    assert "5 messages" in lisi and "4 unanswered" in lisi and "Clicked menu: MENU_HELP" in lisi
    assert "0 messages" in body[body.index("王五"):body.index("李四")]  # only the welcome


def test_a_thread_shows_the_passive_answer_and_the_unanswered_picture(app, client, login):
    conversation(app, client)
    login("manager")
    body = page(client, "/conversations/inbox/lisi")
    test = body[body.index(">test<"):]
    assert "this is success test" in test and "Reply rule: demo" in test and "passive reply" in test
    picture = body[body.index(PIC):]
    assert f'src="{PIC}"' in body and "unanswered" in picture[:600]
    assert "广州市海珠区" in body and "23.134521, 113.358803" in body
    assert 'href="https://example.com/party"' in body and "年会通知" in body
    assert "Clicked menu: MENU_HELP" in body
    assert "Answer by hand" not in body  # managers read
    assert "欢迎使用" in page(client, "/conversations/inbox/wangwu")  # the welcome, on its own
    page(client, "/conversations/inbox/nobody", 404)


def test_a_picture_older_than_three_days_is_no_longer_kept_by_wecom(app, client, login):
    old = int(time.time()) - 3 * 86400 - 60
    post(app, client, message_xml("image", msg_id="9", create_time=old, PicUrl=PIC, MediaId="m"))
    login("staff")
    body = page(client, "/conversations/inbox/lisi")
    assert PIC not in body and "no longer kept by WeCom" in body


def test_staff_answer_by_hand_through_message_send(app, client, login, fake):
    conversation(app, client)
    picture = one(app, msg_type="image")
    login("staff")
    body = page(client, f"/conversations/inbox/lisi?reply_to={picture.id}")
    assert f'action="/conversations/messages/{picture.id}/reply"' in body
    response = client.post(f"/conversations/messages/{picture.id}/reply",
                           data={"text": "  收到照片，谢谢！\n"})
    assert response.status_code == 302 and response.location.endswith("/conversations/inbox/lisi#message-"
                                                                       f"{one(app, via='manual').id}")
    (send,) = fake.calls("/message/send")
    assert send.body == {"touser": "lisi", "msgtype": "text", "agentid": fake.agent_id,
                         "text": {"content": "收到照片，谢谢！"}}
    assert one(app, id=picture.id).answered
    answer = one(app, via="manual")
    assert (answer.status, answer.in_reply_to, answer.text) == ("sent", picture.dedupe_key, "收到照片，谢谢！")
    body = page(client, "/conversations/inbox/lisi")
    assert "Answered by hand by staff" in body and "3 unanswered" in page(client, "/conversations/inbox")
    with app.app_context():
        assert db.session.scalar(db.select(AuditLog).filter_by(action="conversation_replied")).actor_name == "staff"


def test_a_wecom_refusal_is_shown_on_the_answer(app, client, login, fake):
    post(app, client, message_xml(Content="hello"))
    message = one(app, direction="in")
    fake.fail_next(48002, path="/message/send")
    login("staff")
    response = client.post(f"/conversations/messages/{message.id}/reply", data={"text": "hi"},
                           follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "WeCom did not take the answer" in body and "not sent" in body
    assert body.count("The app has no permission to call this API.") == 2  # the flash and the answer
    assert one(app, via="manual").status == "failed"


@pytest.mark.parametrize("text, error", [("   ", "Write the answer first."),
                                         ("字" * 683, "2,049 bytes; at most 2,048.")])
def test_a_bad_answer_is_an_error_at_the_field_and_nothing_is_sent(app, client, login, fake, text, error):
    post(app, client, message_xml(Content="hello"))
    message = one(app, direction="in")
    login("staff")
    response = client.post(f"/conversations/messages/{message.id}/reply", data={"text": text})
    body = response.get_data(as_text=True)
    at_the_field = r'is-invalid[^>]*>[^<]*</textarea>\s*<div class="invalid-feedback">' + re.escape(error)
    assert response.status_code == 422 and re.search(at_the_field, body)
    assert fake.calls("/message/send") == [] and one(app, via="manual") is None


def test_roles_managers_read_staff_answer(app, client, login, fake):
    rule(app, "demo", [{"match": "whole", "text": "test"}], [{"type": "text", "text": "ok"}])
    post(app, client, message_xml(Content="test"))
    message, answer = one(app, direction="in"), one(app, direction="out")
    assert client.get("/conversations/inbox").status_code == 302  # signed out: to the login page
    login("manager")
    assert client.get("/conversations/inbox/lisi").status_code == 200
    assert client.post(f"/conversations/messages/{message.id}/reply", data={"text": "hi"}).status_code == 403
    client.post("/logout")
    login("staff")
    for message_id in (answer.id, 999):  # an answer is not a member's message
        assert client.post(f"/conversations/messages/{message_id}/reply", data={"text": "hi"}).status_code == 404
    assert fake.calls("/message/send") == []


def test_answering_needs_the_csrf_token(tmp_path, fake):
    with wired(tmp_path, fake, WTF_CSRF_ENABLED=True) as app:
        app.extensions["huey"].immediate = True
        client = app.test_client()
        post(app, client, message_xml(Content="hello"))
        message = one(app, direction="in")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                          client.get("/login").get_data(as_text=True))[1]
        client.post("/login", data={"username": "staff", "password": "correct-horse-battery", "csrf_token": token})
        url = f"/conversations/messages/{message.id}/reply"
        assert client.post(url, data={"text": "hi"}).status_code == 400
        form = page(client, "/conversations/inbox/lisi")
        token = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', form)[1]
        assert client.post(url, data={"text": "hi", "csrf_token": token}).status_code == 302
        assert len(fake.calls("/message/send")) == 1


# --- filters, on rows written directly ------------------------------------------------------------

SHANGHAI_DAY = date(2025, 6, 2)
START = datetime(2025, 6, 1, 16, 0, tzinfo=timezone.utc)  # 2025-06-02 00:00 in Asia/Shanghai


def rows(app) -> None:
    """zhangsan (总部), lisi and wangwu (研发部, under 总部), zhaoliu (市场部); times around one
    Shanghai day."""
    def add(userid, minutes, text="", answered=False, direction="in", **values):
        db.session.add(ConversationMessage(userid=userid, direction=direction, msg_type="text", text=text,
                                           answered=answered, created_at=START + timedelta(minutes=minutes),
                                           dedupe_key=f"k-{userid}-{minutes}" if direction == "in" else None,
                                           **values))

    with app.app_context():
        add("zhangsan", -1, "前一天")  # 23:59 the day before, in Shanghai
        add("lisi", 0, "请假流程", answered=True)
        add("lisi", 1, "ok", direction="out", in_reply_to="k-lisi-0", via="passive", status="sent")
        add("wangwu", 600, "报销怎么走")
        add("zhaoliu", 24 * 60, "第二天")  # 00:00 the next day
        db.session.commit()


@pytest.mark.parametrize("filters, userids", [
    (queries.Filters(), ["zhaoliu", "wangwu", "lisi", "zhangsan"]),
    (queries.Filters(member="LIS"), ["lisi"]),  # userid, any case
    (queries.Filters(member="王"), ["wangwu"]),
    (queries.Filters(member="100%"), []),
    (queries.Filters(department=2), ["wangwu", "lisi"]),
    (queries.Filters(department=1), ["zhaoliu", "wangwu", "lisi", "zhangsan"]),  # and those below
    (queries.Filters(department=3), ["zhaoliu"]),
    (queries.Filters(start=SHANGHAI_DAY, end=SHANGHAI_DAY), ["wangwu", "lisi"]),
    (queries.Filters(start=SHANGHAI_DAY + timedelta(days=1)), ["zhaoliu"]),
    (queries.Filters(end=SHANGHAI_DAY - timedelta(days=1)), ["zhangsan"]),
    (queries.Filters(unanswered=True), ["zhaoliu", "wangwu", "zhangsan"]),
    (queries.Filters(q="报销"), ["wangwu"]),
    (queries.Filters(department=2, unanswered=True), ["wangwu"]),
])
def test_filters(app, filters, userids):
    rows(app)
    with app.app_context():
        found = queries.threads(filters)
        assert [t.userid for t in found.items] == userids and found.total == len(userids)


def test_counts_and_pages(app):
    rows(app)
    with app.app_context():
        lisi = next(t for t in queries.threads(queries.Filters()).items if t.userid == "lisi")
        assert (lisi.name, lisi.messages, lisi.unanswered, lisi.last.text) == ("李四", 1, 0, "ok")
        second = queries.threads(queries.Filters(), page=2, per_page=3)
        assert (second.total, second.pages, [t.userid for t in second.items]) == (4, 2, ["zhangsan"])
        newest, older = queries.thread("lisi", per_page=1), queries.thread("lisi", page=2, per_page=1)
        assert newest.total == 1 and not older.items  # the answer rides with its message
        assert [a.text for a in newest.items[0].answers] == ["ok"]


def test_the_filter_form_shows_a_bad_date_at_its_field_and_keeps_the_pager_links(app, client, login):
    rows(app)
    login("manager")
    body = page(client, "/conversations/inbox?start=2025-13-40&department=2")
    assert re.search(r'id="start"[^>]*is-invalid|is-invalid[^>]*id="start"', body)
    assert "2 conversations." in body and "李四" in body and "赵六" not in body



@pytest.mark.parametrize("query", ["page=99999999999999999999", "reply_to=99999999999999999999", "page=-3"])
def test_wild_numbers_in_the_address_show_the_first_page(app, client, login, query):
    rows(app)
    login("staff")
    assert "报销怎么走" in page(client, f"/conversations/inbox/wangwu?{query}")
    assert "赵六" in page(client, f"/conversations/inbox?{query}")


@pytest.mark.parametrize("field", ["start", "end"])
def test_a_date_beyond_what_time_zones_convert_is_an_error_at_its_field(app, client, login, field):
    rows(app)
    login("manager")
    body = page(client, f"/conversations/inbox?{field}=0001-01-01")
    assert "Choose a date between 1970 and 9998." in body and "4 conversations." in body
