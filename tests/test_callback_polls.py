"""The response_code ledger and closing a poll, against the fake WeCom API over real HTTP."""
import time
from datetime import timedelta

import pytest

from dashboard.callback.codes import expiring_codes
from dashboard.callback.polls import NoResponseCode, close_poll
from dashboard.callback.service import record_response_code
from dashboard.extensions import db
from dashboard.models import Campaign, ResponseCode, SendBatch, utcnow
from dashboard.reports import queries
from dashboard.wecom.crypto import CallbackCrypto
from tests.fake_wecom import FakeWeCom
from tests.test_callback import AES_KEY, TOKEN, callback_app, card_xml, make_campaign, post


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


def poll_app(tmp_path, fake, **overrides):
    return callback_app(tmp_path, WECOM_CORP_ID=fake.corp_id, WECOM_SECRET=fake.secret,
                        WECOM_AGENT_ID=str(fake.agent_id), WECOM_API_BASE=fake.base_url, **overrides)


def vote(app, fake, user, options, create_time=None):
    crypto = CallbackCrypto(TOKEN, AES_KEY, fake.corp_id)
    xml = card_xml(user=user, selected={"q_lunch": options}, code=fake.issue_response_code(),
                   create_time=create_time)
    assert post(app.test_client(), xml, crypto=crypto).status_code == 200


def close(app, campaign_id):
    with app.app_context():
        return close_poll(db.session.get(Campaign, campaign_id), "tester")


def ledger(app):
    """(source, used_for) of each code, callback codes first (the roll-up adds them to the ledger,
    so their ids can come after a send code that close_poll backfilled)."""
    with app.app_context():
        rows = db.session.scalars(db.select(ResponseCode).order_by(ResponseCode.source, ResponseCode.id))
        return [(r.source, r.used_for) for r in rows]


def test_close_poll_uses_one_code_and_updates_everyone(tmp_path, fake):
    app = poll_app(tmp_path, fake)
    send_code = fake.issue_response_code()
    campaign_id = make_campaign(app, response_code=send_code)  # on SendBatch only: backfilled
    for user, options in (("zhangsan", ["opt_c"]), ("zhangsan", ["opt_a"]),  # changed their mind
                          ("lisi", ["opt_a", "opt_b"]), ("wangwu", ["opt_b"])):
        vote(app, fake, user, options)
    result = close(app, campaign_id)
    assert (result.updated, result.codes_used, result.problems) == ([1], 1, [])
    [call] = fake.calls("/message/update_template_card")
    assert call.body["atall"] == 1 and call.body["response_code"] == send_code
    card = call.body["template_card"]
    assert card["main_title"] == {"title": "投票已结束 · Lunch?", "desc": "A 2 · B 2 · C 0"}
    assert card["checkbox"]["disable"] is True and card["replace_text"] == "投票已结束"
    assert not any(option["is_checked"] for option in card["checkbox"]["option_list"])
    assert ledger(app) == [("callback", None)] * 4 + [("send", "close_poll")]


def test_the_closed_card_counts_latest_answers_as_the_report_does(tmp_path, fake):
    """An answer WeCom delivers late (an earlier CreateTime, arriving last) does not replace the
    person's newer one, on the closed card as in the report."""
    app = poll_app(tmp_path, fake)
    campaign_id = make_campaign(app, response_code=fake.issue_response_code())
    now = int(time.time())
    vote(app, fake, "zhangsan", ["opt_b"], create_time=now)
    vote(app, fake, "zhangsan", ["opt_a"], create_time=now - 60)  # sent first, delivered last
    vote(app, fake, "lisi", ["opt_a", "opt_c"], create_time=now)
    close(app, campaign_id)
    [call] = fake.calls("/message/update_template_card")
    assert call.body["template_card"]["main_title"]["desc"] == "A 1 · B 1 · C 1"
    with app.app_context():
        assert queries.votes([campaign_id])[0] == {"q_lunch": {"opt_a": 1, "opt_b": 1, "opt_c": 1}}


def test_a_spent_code_is_skipped_and_when_none_is_left_the_error_says_why(tmp_path, fake):
    app = poll_app(tmp_path, fake)
    campaign_id = make_campaign(app, response_code=fake.issue_response_code())
    vote(app, fake, "zhangsan", ["opt_c"])
    fake.fail_next(42022, path="/message/update_template_card")  # the send code was used elsewhere
    result = close(app, campaign_id)
    assert (result.updated, result.codes_used) == ([1], 2)
    assert ledger(app) == [("callback", "close_poll"), ("send", "close_poll: errcode 42022")]
    with pytest.raises(NoResponseCode, match="^No unused response code left: "):
        close(app, campaign_id)
    assert len(fake.calls("/message/update_template_card")) == 2


def test_a_call_that_never_left_gives_its_code_back(tmp_path):
    app = callback_app(tmp_path, WECOM_API_BASE="http://127.0.0.1:9/cgi-bin")
    campaign_id = make_campaign(app, response_code="SEND-CODE")
    result = close(app, campaign_id)
    assert result.updated == [] and "Try closing the poll again" in result.problems[0]
    assert ledger(app) == [("send", None)]


def test_the_ledger_warns_before_the_last_codes_expire(tmp_path):
    app = callback_app(tmp_path)
    campaign_id = make_campaign(app)
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        batch_id = db.session.scalar(db.select(SendBatch.id))
        assert expiring_codes(campaign).message.startswith("No unused response code left")
        for _ in range(2):  # recording a code twice keeps one row
            record_response_code("RC-old", campaign_id=campaign_id, batch_id=batch_id, source="send",
                                 received_at=utcnow() - timedelta(hours=22))
        db.session.commit()
        status = expiring_codes(campaign)
        assert (status.valid, status.warn) == (1, True) and "expire at" in status.message
        later = expiring_codes(campaign, now=utcnow() + timedelta(hours=3))
        assert later.valid == 0 and later.message.startswith("No unused response code left")
        record_response_code("RC-new", campaign_id=campaign_id, batch_id=batch_id, source="callback",
                             received_at=utcnow())
        db.session.commit()
        assert (expiring_codes(campaign).valid, expiring_codes(campaign).message) == (2, None)


def test_the_campaign_page_warns_and_offers_to_close_the_poll(tmp_path):
    app = callback_app(tmp_path)
    campaign_id = make_campaign(app)
    with app.app_context():
        from dashboard.auth.service import create_user
        create_user("staff", "staff", "long-enough-pw")
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"username": "staff", "password": "long-enough-pw"})
    page = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert 'id="close-poll"' in page and "No unused response code left" in page
    assert f"/settings/campaigns/{campaign_id}/close-poll" in page
