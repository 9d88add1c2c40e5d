"""The reply rules' pages (issue 26, points 1, 2, 6): the list, one editor for keyword rules, the
default reply and the welcome, problems at their fields, roles, CSRF, and a rule saved on the page
answering the very next encrypted message."""
import html
import re

import pytest

from dashboard.cards import service as cards
from dashboard.conversations import service
from dashboard.extensions import db
from dashboard.models import AuditLog, ReplyRule
from tests.campaign_factories import wired
from tests.conftest import PASSWORD
from tests.test_api import VOTE
from tests.test_conversations_callback import (  # noqa: F401  (app, fake: fixtures)
    app, fake, message_xml, post, reply_of)


def page(client, path) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def errors_at(text: str, field_id: str) -> list[str]:
    """The problems shown at a field: between it and the next field of the form."""
    start = text.index(f'id="{field_id}"')
    after = text[start:]
    end = re.search(r"<(input|select|textarea)\b", after[1:])
    block = after[: end.start() + 1] if end else after
    return [html.unescape(e) for e in re.findall(r'class="invalid-feedback[^"]*">([^<]*)<', block)]


def group_errors(text: str) -> list[str]:
    return [html.unescape(e) for e in re.findall(r'class="alert alert-danger[^"]*" role="alert">([^<]*)<', text)]


def rules(app) -> list[ReplyRule]:
    with app.app_context():
        found = db.session.scalars(db.select(ReplyRule).order_by(ReplyRule.id)).all()
        db.session.expunge_all()
        return found


RULE = {"name": "Leave", "enabled": "y", "priority": "20", "reply_mode": "all",
        "triggers-0-match": "whole", "triggers-0-text": " 请假 ",
        "triggers-1-match": "pattern", "triggers-1-text": r"^leave\s+\d+$",
        "replies-0-type": "text", "replies-0-text": "请在 OA 提交\r\n第二行"}


def test_a_rule_is_created_edited_switched_off_and_deleted_on_the_pages(app, client, login):
    login("staff")
    assert client.post("/conversations/rules/new", data=RULE).headers["Location"] == "/conversations/"
    (rule,) = rules(app)
    assert (rule.kind, rule.priority, rule.enabled) == ("keyword", 20, True)
    assert rule.triggers == [{"match": "whole", "text": "请假"}, {"match": "pattern", "text": r"^leave\s+\d+$"}]
    assert rule.replies == [{"type": "text", "text": "请在 OA 提交\n第二行"}]  # the textarea's CRLF as one newline
    listing = page(client, "/conversations/")
    assert "Leave" in listing and "请假" in listing and r"^leave\s+\d+$" in listing and "Matched 0 times" in listing

    editor = page(client, f"/conversations/rules/{rule.id}")
    assert 'value="请假"' in editor and "请在 OA 提交" in editor and 'value="20"' in editor
    changed = {**RULE, "name": "Leave (HR)", "triggers-1-text": "", "replies-0-type": "news",
               "replies-0-articles-0-title": "请假制度", "replies-0-articles-0-url": "https://hr.example.com/leave",
               "replies-1-type": "text", "replies-1-text": "有问题找 HR"}
    assert client.post(f"/conversations/rules/{rule.id}", data=changed).status_code == 302
    (rule,) = rules(app)
    assert rule.name == "Leave (HR)" and rule.triggers == [{"match": "whole", "text": "请假"}]
    assert rule.replies == [{"type": "news", "articles": [{"title": "请假制度", "url": "https://hr.example.com/leave"}]},
                            {"type": "text", "text": "有问题找 HR"}]

    assert client.post(f"/conversations/rules/{rule.id}/enabled", data={}).status_code == 302
    assert rules(app)[0].enabled is False
    assert client.post(f"/conversations/rules/{rule.id}/enabled", data={"enabled": "y"}).status_code == 302
    assert rules(app)[0].enabled is True
    assert client.post(f"/conversations/rules/{rule.id}/delete").status_code == 302
    assert rules(app) == []
    with app.app_context():
        actions = db.session.scalars(db.select(AuditLog.action).where(AuditLog.action.like("reply_rule%")).order_by(AuditLog.id)).all()
    assert actions == ["reply_rule_saved"] * 4 + ["reply_rule_deleted"]


def test_problems_are_shown_at_their_fields(app, client, login):
    login("staff")
    with app.app_context():
        archived = cards.create_card("Old poll", VOTE, actor="test")
        archived.archived = True
        db.session.commit()
        archived_id = archived.id
    data = {"name": "x" * 61, "reply_mode": "all",
            "triggers-0-match": "contains", "triggers-0-text": "",  # an empty row: left out
            "triggers-3-match": "pattern", "triggers-3-text": "(?<=a)b",
            "replies-0-type": "text", "replies-0-text": "a" * 2049,
            "replies-2-type": "news", "replies-2-articles-1-title": "No link",
            "replies-4-type": "card", "replies-4-card_id": str(archived_id)}
    text = client.post("/conversations/rules/new", data=data).get_data(as_text=True)
    # The rows sent come back numbered in their order (triggers-3 is now the second row, triggers-1).
    assert errors_at(text, "name") == ["A name has at most 60 characters (61 now)."]
    assert errors_at(text, "triggers-1-text") == [
        "This pattern cannot be used (RE2 syntax: no look-around, no back-references): invalid perl operator: (?<="]
    assert 'value="(?&lt;=a)b"' in text
    assert errors_at(text, "replies-0-text") == ["2,049 bytes; at most 2,048."]
    assert errors_at(text, "replies-1-articles-0-url") == ["Give the article a link (http:// or https://)."]
    assert errors_at(text, "replies-2-card_id") == ["The card “Old poll” is archived; choose another one."]
    assert errors_at(text, "triggers-0-text") == [] and errors_at(text, "replies-1-articles-0-title") == []
    assert rules(app) == []

    text = client.post("/conversations/rules/new", data={"name": "Empty", "reply_mode": "all"}).get_data(as_text=True)
    assert group_errors(text) == ["Add at least one keyword or pattern.", "Add at least one reply."]


def test_a_text_reply_of_exactly_2048_bytes_is_accepted(app, client, login):
    login("staff")
    emoji_and_cjk = "😀" * 500 + "中" * 16  # 2,000 + 48 bytes, 516 characters
    data = {**RULE, "replies-0-text": emoji_and_cjk}
    assert client.post("/conversations/rules/new", data=data).status_code == 302
    text = client.post("/conversations/rules/new", data={**data, "replies-0-text": emoji_and_cjk + "a"})
    assert errors_at(text.get_data(as_text=True), "replies-0-text") == ["2,049 bytes; at most 2,048."]


def test_the_editor_counts_bytes_in_its_script_and_works_without_it(client, login):
    login("staff")
    editor = page(client, "/conversations/rules/new")
    assert 'data-bytes="2048"' in editor and "js/conversations-rules.js" in editor
    assert editor.count('name="triggers-') == 2 * 10 and 'name="replies-4-type"' in editor  # every row, fixed
    assert 'name="replies-4-articles-7-title"' in editor and "<script>" not in editor


def test_the_default_reply_and_the_welcome_have_their_own_editors(app, client, login):
    login("staff")
    welcome = page(client, "/conversations/welcome")
    assert "at most once per member every 1 day" in welcome and 'name="triggers-' not in welcome
    assert client.post("/conversations/welcome", data={"name": "Hi", "enabled": "y", "reply_mode": "all",
                                                       "replies-0-text": "欢迎"}).status_code == 302
    assert client.post("/conversations/welcome", data={"name": "Hello", "reply_mode": "all",
                                                       "replies-0-text": "欢迎！"}).status_code == 302
    assert client.post("/conversations/default", data={"name": "Else", "enabled": "y", "reply_mode": "all",
                                                       "replies-0-text": "收到"}).status_code == 302
    welcome_rule, default = rules(app)
    assert (welcome_rule.kind, welcome_rule.name, welcome_rule.enabled, welcome_rule.triggers) == (
        "welcome", "Hello", False, [])
    assert (default.kind, default.replies) == ("default", [{"type": "text", "text": "收到"}])
    listing = page(client, "/conversations/")
    panel = listing[listing.index('id="welcome-panel"'):]
    assert "欢迎！" in panel and "Off" in panel
    assert client.get(f"/conversations/rules/{default.id}").headers["Location"] == "/conversations/default"


WIFI = {"name": "Wi-Fi", "enabled": "y", "reply_mode": "all", "triggers-0-match": "contains",
        "triggers-0-text": "WIFI", "replies-0-type": "text", "replies-0-text": "密码: guest2025"}


def test_a_rule_saved_on_the_page_answers_the_very_next_message(app, client, login):
    login("staff")
    assert client.post("/conversations/rules/new", data=WIFI).status_code == 302
    answer = reply_of(app, post(app, client, message_xml(Content="office wifi?", msg_id="1")))
    assert answer["Content"] == "密码: guest2025"
    assert "Matched 1 time" in page(client, "/conversations/")


def test_a_rule_saved_on_the_page_answers_the_next_message_also_right_after_an_answer(app, client, login):
    assert reply_of(app, post(app, client, message_xml(Content="wifi", msg_id="1"))) is None  # rules compiled
    login("staff")
    assert client.post("/conversations/rules/new", data=WIFI).status_code == 302
    answer = reply_of(app, post(app, client, message_xml(Content="office wifi?", msg_id="2")))
    assert answer is not None and answer["Content"] == "密码: guest2025"
    (rule,) = rules(app)
    client.post(f"/conversations/rules/{rule.id}/enabled", data={})  # switched off
    assert reply_of(app, post(app, client, message_xml(Content="office wifi?", msg_id="3"))) is None


def test_a_card_reply_is_chosen_from_the_library(app, client, login, fake):
    with app.app_context():
        card_id = cards.create_card("Lunch vote", VOTE, actor="test").id
        db.session.commit()
    login("staff")
    assert f'<option value="{card_id}">Lunch vote (vote_interaction)</option>' in page(client, "/conversations/rules/new")
    data = {"name": "Vote", "reply_mode": "all", "enabled": "y", "triggers-0-match": "whole",
            "triggers-0-text": "投票", "replies-0-type": "card", "replies-0-card_id": str(card_id)}
    assert client.post("/conversations/rules/new", data=data).status_code == 302
    assert "Lunch vote" in page(client, "/conversations/")
    assert reply_of(app, post(app, client, message_xml(Content="投票"))) is None  # no passive reply: a card
    (send,) = fake.calls("/message/send")
    assert send.body["touser"] == "lisi" and send.body["msgtype"] == "template_card"


@pytest.mark.parametrize("path", ["/conversations/rules/new", "/conversations/default", "/conversations/welcome",
                                  "/conversations/rules/{id}"])
def test_managers_read_the_list_but_do_not_edit(app, client, login, path):
    with app.app_context():
        rule_id = service.save_rule(None, {"name": "r", "triggers": [{"match": "whole", "text": "hi"}],
                                           "replies": [{"type": "text", "text": "hello"}]}, actor="test").id
        db.session.commit()
    login("manager")
    listing = page(client, "/conversations/")
    assert "New rule" not in listing and f"/conversations/rules/{rule_id}" not in listing
    url = path.format(id=rule_id)
    assert client.get(url).status_code == 403 and client.post(url, data={}).status_code == 403
    for action in ("delete", "enabled"):
        assert client.post(f"/conversations/rules/{rule_id}/{action}").status_code == 403
    assert len(rules(app)) == 1
    client.post("/logout")
    assert client.get("/conversations/").status_code == 302  # to the login page


def test_the_nav_shows_conversations_to_staff_and_managers(client, login):
    for who in ("staff", "manager"):
        login(who)
        assert 'href="/conversations/"' in page(client, "/")
        client.post("/logout")


def test_saving_and_deleting_need_the_csrf_token(tmp_path, fake):
    with wired(tmp_path, fake, WTF_CSRF_ENABLED=True) as app:
        client = app.test_client()

        def token(path):
            return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page(client, path))[1]

        client.post("/login", data={"username": "staff", "password": PASSWORD, "csrf_token": token("/login")})
        assert client.post("/conversations/rules/new", data=RULE).status_code == 400
        assert rules(app) == []
        form_token = token("/conversations/rules/new")
        assert client.post("/conversations/rules/new", data={**RULE, "csrf_token": form_token}).status_code == 302
        (rule,) = rules(app)
        assert client.post(f"/conversations/rules/{rule.id}/delete").status_code == 400
        delete_token = token(f"/conversations/rules/{rule.id}")
        assert client.post(f"/conversations/rules/{rule.id}/delete",
                           data={"csrf_token": delete_token}).status_code == 302
        assert rules(app) == []
