"""WeCom fidelity through the real callback route (issue 22, points 3, 5 and 6): every event kept
once and only once, XML as WeCom and the SDKs write it, crypto refusals named as Tencent names them."""
import logging
import time

import pytest

from dashboard.directory import sync
from dashboard.extensions import db
from dashboard.models import CallbackLog, CardEvent, DirectoryChange, DirectoryUser
from dashboard.wecom.crypto import CallbackCrypto
from tests.campaign_factories import wired
from tests.conftest import PASSWORD
from tests.fake_wecom import FakeWeCom
from tests.test_directory_callback import change_xml, post


@pytest.fixture
def app(tmp_path):
    with FakeWeCom() as fake, wired(tmp_path, fake) as app:
        with app.app_context():
            sync.run(actor="test")
        app.extensions["huey"].immediate = True  # the worker applies each change at once
        yield app


def crypto(app) -> CallbackCrypto:
    return CallbackCrypto(app.config["WECOM_TOKEN"], app.config["WECOM_AES_KEY"], app.config["WECOM_CORP_ID"])


def rows(app, model, **filters) -> list:
    with app.app_context():
        return list(db.session.scalars(db.select(model).filter_by(**filters).order_by(model.id)))


def batch_job(job_id: str, create_time: int) -> str:
    return (f"<xml><ToUserName><![CDATA[corp]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
            f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[batch_job_result]]></Event><BatchJob><JobId><![CDATA[{job_id}]]></JobId>"
            "<JobType><![CDATA[sync_user]]></JobType><ErrCode>0</ErrCode><ErrMsg><![CDATA[ok]]></ErrMsg>"
            "</BatchJob></xml>")


def test_two_batch_job_results_in_one_second_are_both_kept_and_a_retry_once(app, client):
    now = int(time.time())
    for xml in (batch_job("job-1", now), batch_job("job-2", now), batch_job("job-1", now)):  # the last: a retry
        assert post(app, client, xml).status_code == 200
    stored = rows(app, CardEvent, event="batch_job_result")
    assert sorted("job-1" in row.xml for row in stored) == [False, True]
    assert [row.outcome for row in rows(app, CallbackLog)][-1] == "duplicate"


def test_two_changes_of_one_member_in_one_second_are_both_stored(app, client):
    now = int(time.time()) + 5  # after the read
    first = change_xml("create_user", now, UserID="c1", Name="丙", Department="2")
    second = change_xml("update_user", now, UserID="c1", Department="2,3")
    for xml in (first, second, second):  # the last: WeCom's retry
        assert post(app, client, xml).status_code == 200
    assert [row.change_type for row in rows(app, DirectoryChange)] == ["create_user", "update_user"]
    with app.app_context():
        assert db.session.get(DirectoryUser, "c1").departments == [2, 3]


SUITE_TICKET = ("<xml><SuiteId><![CDATA[ww4asffe99e54c0000]]></SuiteId><InfoType><![CDATA[suite_ticket]]>"
                "</InfoType><TimeStamp>{now}</TimeStamp><SuiteTicket><![CDATA[ticket-1]]></SuiteTicket></xml>")


def test_a_suite_notice_without_msg_type_is_answered_success_and_logged(app, client):
    response = post(app, client, SUITE_TICKET.format(now=int(time.time())))
    assert (response.status_code, response.get_data(as_text=True)) == (200, "success")
    (event,) = rows(app, CardEvent)
    assert (event.msg_type, event.event, event.from_user) == ("info", "suite_ticket", "ww4asffe99e54c0000")
    log = rows(app, CallbackLog)[-1]
    assert (log.outcome, log.http_status, log.event_kind) == ("stored", 200, "suite_notice")


def test_whitespace_around_cdata_and_empty_cdata_in_envelope_and_message(app, client):
    xml = (f"<xml><ToUserName>\n  <![CDATA[corp]]>\n</ToUserName><FromUserName><![CDATA[lisi]]></FromUserName>"
           f"<CreateTime>{int(time.time())}</CreateTime><MsgType>\n<![CDATA[text]]>\n</MsgType>"
           "<Content><![CDATA[]]></Content><MsgId>42</MsgId></xml>")
    query, body = crypto(app).encrypt_message(xml, nonce="1")
    body = body.replace(b"<Encrypt><![CDATA[", b"<Encrypt>\n  <![CDATA[").replace(b"]]></Encrypt>", b"]]>\n</Encrypt>")
    response = client.post("/wecom/callback", query_string=query, data=body, content_type="text/xml")
    assert response.status_code == 200
    (event,) = rows(app, CardEvent)
    assert (event.msg_type, event.from_user) == ("text", "lisi")


def test_a_crypto_refusal_shows_the_official_code_and_name_in_the_log_and_on_the_page(app, client, caplog):
    query, body = crypto(app).encrypt_message(batch_job("job-1", int(time.time())), nonce="1")
    with caplog.at_level(logging.WARNING, logger="dashboard.callback"):
        response = client.post("/wecom/callback", query_string={**query, "msg_signature": "0" * 40}, data=body,
                               content_type="text/xml")
    assert response.status_code == 403
    assert "-40001 ValidateSignature_Error: msg_signature does not match" in caplog.text
    assert rows(app, CallbackLog)[-1].detail == "-40001 ValidateSignature_Error: msg_signature does not match"
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    page = client.get("/settings/").get_data(as_text=True)
    assert "-40001 ValidateSignature_Error" in page[page.index('id="callback-log"'):]
