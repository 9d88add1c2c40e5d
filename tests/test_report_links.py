"""Report links in cards (issue 19, point 6): ``{report_url}`` in a card's link fields goes out,
per campaign, as the report's sign-in link through WeCom; the card in the library keeps it."""
from urllib.parse import parse_qs, urlsplit

import pytest

from dashboard.auth.service import safe_next
from dashboard.campaigns import delivery, links
from dashboard.extensions import db
from dashboard.models import Campaign, CardVersion, SendBatch
from tests.campaign_factories import card_version, make_campaign, send_now, wired
from tests.fake_wecom import FakeWeCom

DASHBOARD = "https://dash.example.com/"
AGENDA = "https://example.com/agenda"
CARD = {
    "card_type": "text_notice",
    "main_title": {"title": "团建报名结果", "desc": "周五 19:00"},
    "card_action": {"type": 1, "url": "{report_url}"},
    "jump_list": [{"type": 1, "title": "查看结果", "url": "{report_url}"},
                  {"type": 1, "title": "议程", "url": AGENDA}],
    "quote_area": {"type": 1, "url": "{report_url}#who", "title": "谁回答了"},
    "horizontal_content_list": [{"type": 1, "keyname": "结果", "value": "报告", "url": "{report_url}"}],
    "source": {"icon_url": "https://example.com/{report_url}.png", "desc": "人力资源部"},  # not a link
}


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


@pytest.fixture
def app(tmp_path, fake):
    with wired(tmp_path, fake, DASHBOARD_URL=DASHBOARD) as app:
        yield app


@pytest.fixture
def draft(app):
    with app.app_context():
        return make_campaign({"users": ["lisi", "wangwu"]}, card=card_version(CARD)).id


def sign_in_link(campaign_id: int) -> str:
    return f"https://dash.example.com/auth/wecom?next=%2Freports%2F{campaign_id}"


def sent_card(fake) -> dict:
    [call] = fake.calls("/message/send")
    return call.body["template_card"]


def assert_report_links(card: dict, campaign_id: int) -> None:
    link = sign_in_link(campaign_id)
    assert card["card_action"]["url"] == link
    assert [j["url"] for j in card["jump_list"]] == [link, AGENDA]
    assert card["quote_area"]["url"] == link + "#who"
    assert card["horizontal_content_list"][0]["url"] == link
    assert card["source"]["icon_url"] == "https://example.com/{report_url}.png"


def library_card(app) -> dict:
    with app.app_context():
        return db.session.scalar(db.select(CardVersion)).template_card


def test_a_sent_card_links_to_its_campaigns_report_and_the_library_keeps_the_placeholder(app, fake, draft):
    with app.app_context():
        send_now(db.session.get(Campaign, draft))
        delivery.run(draft)
        [batch] = db.session.scalars(db.select(SendBatch).filter_by(campaign_id=draft)).all()
        assert batch.request["template_card"] == sent_card(fake)  # the planned body went out
    assert_report_links(sent_card(fake), draft)
    assert library_card(app) == CARD


def test_a_test_send_links_to_the_report_of_the_campaign_it_tests(app, fake, client, login, draft):
    login("staff")
    assert client.post(f"/campaigns/{draft}/test", data={"userids": "lisi"}).status_code == 302
    with app.app_context():
        test = db.session.scalar(db.select(Campaign).filter_by(parent_id=draft, is_test=True))
        delivery.run(test.id)
    assert_report_links(sent_card(fake), draft)
    assert library_card(app) == CARD


def test_the_check_page_previews_the_link_the_card_will_carry(client, login, draft):
    login("staff")
    page = client.get(f"/campaigns/{draft}/check").get_data(as_text=True)
    assert sign_in_link(draft) in page and "{report_url}" not in page.split('id="check-recipients"')[0]


def test_the_link_lands_on_the_report_page_through_a_next_the_sign_in_accepts(app, client, login, draft):
    with app.app_context():
        send_now(db.session.get(Campaign, draft))
        query = parse_qs(urlsplit(links.report_url(db.session.get(Campaign, draft))).query)
    [target] = query["next"]
    assert safe_next(target) == target == f"/reports/{draft}"
    login("manager")
    assert client.get(target).status_code == 200


def test_a_reminder_links_to_its_parents_report_and_a_card_without_links_is_left_as_it_is(app, draft):
    with app.app_context():
        reminder = Campaign(id=draft + 1, parent_id=draft)
        assert links.with_links(CARD, reminder)["card_action"]["url"] == sign_in_link(draft)
        plain = {"card_type": "text_notice", "card_action": {"type": 1, "url": AGENDA}}
        assert links.with_links(plain, reminder) is plain
