"""The callback route over Flask's test client: vectors, exactly-once storing, rejections, event kinds.

The helpers at the top are shared by the other test_callback_* modules and test_settings.
"""
import json
import time
from pathlib import Path

import flask
import pytest
from Crypto.Cipher import AES

from dashboard.extensions import db
from dashboard.callback import rollup
from dashboard.models import (CallbackLog, Campaign, Card, CardEvent, CardVersion, EventSelection,
                              ResponseCode, SendBatch)
from dashboard.wecom.crypto import CallbackCrypto
from dashboard.wecom.replies import event_xml
from dashboard.wecom.xmlsafe import parse_xml
from tests import databases
from tests.conftest import make_app

VECTORS = json.loads((Path(__file__).parent / "data" / "vectors.json").read_text("utf-8"))["vectors"]
TOKEN, AES_KEY, CORP = "CampaignTok3n", "03VqSMYhl5vWmK5DSEbeykJ3sNEENDrQyaXRvLUmPYI", "ww0123456789abcdef"
KEY_SET_N = {"WECOM_TOKEN": TOKEN, "WECOM_AES_KEY": AES_KEY, "WECOM_CORP_ID": CORP,
             "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": "not-used"}
CRYPTO = CallbackCrypto(TOKEN, AES_KEY, CORP)
VOTE = {"card_type": "vote_interaction", "main_title": {"title": "Lunch?"},
        "checkbox": {"question_key": "q_lunch", "mode": 1, "option_list": [
            {"id": option, "text": option[-1].upper(), "is_checked": False}
            for option in ("opt_a", "opt_b", "opt_c")]},
        "submit_button": {"text": "Vote", "key": "submit_vote"}}


# --- helpers ---------------------------------------------------------------------------------


def callback_app(tmp_path, **overrides):
    return make_app(tmp_path, **{**KEY_SET_N, **overrides})


def card_xml(task_id="camp-1-b1", *, user="zhangsan", create_time=None, key="submit_vote", selected=None,
             card_type="vote_interaction", code="RC-1", event="template_card_event"):
    return event_xml(to_user=CORP, from_user=user, create_time=create_time or int(time.time()),
                     event_key=key, task_id=task_id, card_type=card_type, response_code=code,
                     agent_id=1000002, selected=selected, event=event)


def signed(xml, *, crypto=CRYPTO, timestamp=None, nonce="24680"):
    """(query, body) of a callback POST as WeCom sends it."""
    return crypto.encrypt_message(xml, timestamp=timestamp, nonce=nonce, agent_id=1000002)


def post(client, xml=None, *, query=None, body=None, **kwargs):
    if xml is not None:
        query, body = signed(xml, **kwargs)
    return client.post("/wecom/callback", query_string=query, data=body, content_type="text/xml")


def counts(app):
    """(events, options chosen, response codes), the options as the roll-up writes them out."""
    with app.app_context():
        rollup.catch_up()
        return tuple(db.session.scalar(db.select(db.func.count()).select_from(m))
                     for m in (CardEvent, EventSelection, ResponseCode))


def outcomes(app):
    with app.app_context():
        return [(r.outcome, r.reason, r.http_status) for r in
                db.session.scalars(db.select(CallbackLog).order_by(CallbackLog.id))]


def make_campaign(app, template_card=VOTE, *, task_id="camp-1-b1", after_click=None, response_code=None):
    """A sent campaign of one batch; returns its id."""
    with app.app_context():
        card = Card(name="Poll", card_type=template_card["card_type"])
        version = CardVersion(card=card, number=1, template_card=template_card, after_click=after_click)
        campaign = Campaign(name="Poll", card_version=version, recipients={"users": ["zhangsan"]},
                            status="sent")
        db.session.add(SendBatch(campaign=campaign, number=1, task_id=task_id, status="done",
                                 response_code=response_code))
        db.session.commit()
        return campaign.id


def open_reply(body: str, crypto=CRYPTO) -> dict:
    """Check the passive reply's signature and decrypt it: the inner XML as a dict."""
    outer = parse_xml(body)["xml"]
    crypto.check_signature(outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
    return parse_xml(crypto.decrypt_ciphertext(outer["Encrypt"]))["xml"]


# --- every vector through the route ----------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_every_vector_through_the_route(tmp_path, vector):
    app = make_app(tmp_path, WECOM_TOKEN=vector["token"], WECOM_AES_KEY=vector["encoding_aes_key"],
                   WECOM_CORP_ID=vector["receive_id"], WECOM_CALLBACK_MAX_AGE=0)
    client = app.test_client()
    query = {k: vector[k] for k in ("timestamp", "nonce")}
    if vector["kind"] == "verify_url":
        for echostr in (vector["echostr"], vector["echostr"].replace("+", " ")):  # a + lost to form decoding
            response = client.get("/wecom/callback", query_string={
                **query, "msg_signature": vector["msg_signature"], "echostr": echostr})
            assert response.status_code == 200
            assert response.data == vector["expected_plaintext"].encode()  # bare: no quotes, no newline
            assert response.mimetype == "text/plain"
        return
    if vector["kind"] == "encrypt":  # a reply vector is a validly signed message too
        encrypt, signature = vector["expected_encrypt"], vector["expected_msg_signature"]
        plaintext = vector["plaintext"]
    else:
        encrypt, signature = vector["encrypt"], vector["msg_signature"]
        plaintext = vector["expected_plaintext"]
    body = vector.get("post_body") or f"<xml><ToUserName><![CDATA[{vector['receive_id']}]]></ToUserName>" \
                                      f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    response = post(client, query={**query, "msg_signature": signature}, body=body.encode())
    assert response.status_code == 200 and response.data == b""
    with app.app_context():
        assert db.session.scalars(db.select(CardEvent.xml)).all() == [plaintext]


def test_nv1_vote_is_kept_unmatched_with_its_selections_and_code(tmp_path):
    vector = next(v for v in VECTORS if v["name"] == "NV1-vote-event")
    app = make_app(tmp_path, WECOM_TOKEN=vector["token"], WECOM_AES_KEY=vector["encoding_aes_key"],
                   WECOM_CORP_ID=vector["receive_id"], WECOM_CALLBACK_MAX_AGE=0)
    query = {k: vector[k] for k in ("msg_signature", "timestamp", "nonce")}
    assert post(app.test_client(), query=query, body=vector["post_body"].encode()).status_code == 200
    with app.app_context():
        event = db.session.scalars(db.select(CardEvent)).one()
        assert (event.task_id, event.event_key, event.campaign_id) == ("camp42-vote@1", "submit_vote", None)
        assert {q: sorted(options) for q, options in event.selected.items()} == {"q_lunch": ["opt_a", "opt_c"]}
        assert db.session.scalars(db.select(ResponseCode.code)).all() == ["RESPONSE_CODE_V1"]
    assert outcomes(app) == [("unmatched", None, 200)]


# --- exactly once ----------------------------------------------------------------------------


def test_the_same_body_twice_and_a_retry_are_stored_once(tmp_path):
    app = callback_app(tmp_path)
    make_campaign(app)
    client, xml = app.test_client(), card_xml(selected={"q_lunch": ["opt_a"]})
    query, body = signed(xml)
    assert post(client, query=query, body=body).status_code == 200
    assert post(client, query=query, body=body).status_code == 200  # the same delivery again
    retry = post(client, xml, nonce="99999")  # WeCom's retry: same event, new envelope
    assert retry.status_code == 200 and retry.data == b""
    assert counts(app) == (1, 1, 1)
    assert [o for o, _, _ in outcomes(app)] == ["stored", "duplicate", "duplicate"]


# --- bad input: a clear 4xx, a logged reason, no row -----------------------------------------


def _entity_attack():
    lol = "".join(f'<!ENTITY l{i} "{"&l%d;" % (i - 1) * 10}">' for i in range(1, 10))
    return f'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY l0 "lol">{lol}]><xml><Encrypt>&l9;</Encrypt></xml>'


def _bad_padding():
    key = CRYPTO._key
    encrypt = __import__("base64").b64encode(AES.new(key, AES.MODE_CBC, key[:16]).encrypt(bytes(32))).decode()
    return _signed_encrypt(encrypt)


def _signed_encrypt(encrypt, timestamp=None):
    timestamp = str(timestamp or int(time.time()))
    query = {"msg_signature": CRYPTO.sign(timestamp, "1", encrypt), "timestamp": timestamp, "nonce": "1"}
    return query, f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode()


def _bad_input(case):
    now, xml = int(time.time()), card_xml("t-1")
    query, body = signed(xml)
    if case == "forged signature":
        return {**query, "msg_signature": "0" * 40}, body
    if case == "stale timestamp":
        return signed(xml, timestamp=now - 301)
    if case == "future timestamp":
        return signed(xml, timestamp=now + 3600)
    if case == "missing nonce":
        return {k: v for k, v in query.items() if k != "nonce"}, body
    if case == "not a timestamp":
        return {**query, "timestamp": "soon"}, body
    if case == "malformed XML":
        return query, b"<xml><Encrypt>abc</Encrypt>"
    if case == "entity expansion":
        return query, _entity_attack().encode()
    if case == "entity inside the signed message":
        return signed('<!DOCTYPE x [<!ENTITY a "boom">]><xml><MsgType>&a;</MsgType></xml>')
    if case == "wrong receive id":
        return signed(xml, crypto=CallbackCrypto(TOKEN, AES_KEY, "ww-someone-else"))
    if case == "bad padding":
        return _bad_padding()
    if case == "bad base64":
        return _signed_encrypt("not*base64*at*all")
    if case == "timestamp beyond a float":  # found by fuzzing: signed, yet 500 in the age check
        return signed(xml, timestamp="9" * 400)
    if case == "create time beyond 64 bits":  # found by fuzzing: SQLite refused the INSERT, a 500
        return signed(xml.replace(f"<CreateTime>{now}", "<CreateTime>" + "9" * 20))
    if case == "NUL in a parameter":  # Flask's NUL check does not see this route (fastpath.py)
        return {**query, "nonce": "24\x0080"}, body
    if case == "1 MB body":
        return query, b"<xml>" + b"A" * 1_000_000 + b"</xml>"


BAD_INPUT = [
    ("forged signature", 403, "bad signature"), ("stale timestamp", 403, "stale timestamp"),
    ("future timestamp", 403, "stale timestamp"), ("missing nonce", 400, "missing parameter"),
    ("not a timestamp", 400, "bad timestamp"), ("malformed XML", 400, "malformed XML"),
    ("entity expansion", 400, "DTD or entity refused"),
    ("entity inside the signed message", 400, "DTD or entity refused"),
    ("wrong receive id", 400, "wrong receive id"), ("bad padding", 400, "bad padding or length"),
    ("bad base64", 400, "bad base64"), ("1 MB body", 413, "body too large"),
    ("timestamp beyond a float", 400, "bad timestamp"), ("create time beyond 64 bits", 400, "malformed XML"),
    ("NUL in a parameter", 400, "NUL character"),
]


@pytest.mark.parametrize("case, status, reason", BAD_INPUT, ids=[c for c, _, _ in BAD_INPUT])
def test_bad_input_gets_a_clear_4xx_a_logged_reason_and_no_row(tmp_path, case, status, reason):
    app = callback_app(tmp_path)
    make_campaign(app, task_id="t-1")
    query, body = _bad_input(case)
    response = post(app.test_client(), query=query, body=body)
    assert response.status_code == status
    assert counts(app) == (0, 0, 0)
    assert outcomes(app) == [("rejected", reason, status)]


def test_max_age_zero_turns_the_timestamp_check_off(tmp_path):
    app = callback_app(tmp_path, WECOM_CALLBACK_MAX_AGE=0)
    assert post(app.test_client(), card_xml(), timestamp=1409659813).status_code == 200


def test_verification_get_rejects_a_bad_signature_and_missing_echostr(tmp_path):
    client = callback_app(tmp_path).test_client()
    timestamp, echostr = str(int(time.time())), CRYPTO.encrypt("12345")
    query = {"msg_signature": CRYPTO.sign(timestamp, "7", echostr), "timestamp": timestamp, "nonce": "7"}
    assert client.get("/wecom/callback", query_string={**query, "echostr": echostr}).data == b"12345"
    other = CRYPTO.encrypt("1")  # not the echostr that was signed
    assert client.get("/wecom/callback", query_string={**query, "echostr": other}).status_code == 403
    assert client.get("/wecom/callback", query_string=query).status_code == 400


def test_database_unavailable_answers_503_and_the_retry_is_stored(tmp_path):
    app = callback_app(tmp_path)
    client, xml = app.test_client(), card_xml("t-9")
    with app.app_context(), databases.unavailable(db.engine):
        assert post(client, xml).status_code == 503
    assert counts(app) == (0, 0, 0)
    assert post(client, xml, nonce="2").status_code == 200  # WeCom's retry
    assert counts(app) == (1, 0, 1)


# --- what is stored ----------------------------------------------------------------------------


def test_votes_with_one_and_several_options_map_to_the_campaign(tmp_path):
    app = callback_app(tmp_path)
    campaign_id = make_campaign(app)
    client = app.test_client()
    for user, options, code in (("zhangsan", ["opt_a"], "RC-1"), ("lisi", ["opt_a", "opt_c"], "RC-2")):
        assert post(client, card_xml(user=user, selected={"q_lunch": options}, code=code)).status_code == 200
    with app.app_context():
        rollup.catch_up()  # writes the options out as EventSelection rows
        rows = db.session.execute(db.select(EventSelection.campaign_id, EventSelection.option_id)
                                  .order_by(EventSelection.id)).all()
        assert rows == [(campaign_id, "opt_a"), (campaign_id, "opt_a"), (campaign_id, "opt_c")]
        events = db.session.scalars(db.select(CardEvent)).all()
        assert {(e.campaign_id, e.batch_id is not None) for e in events} == {(campaign_id, True)}
        codes = db.session.scalars(db.select(ResponseCode).order_by(ResponseCode.id)).all()
        assert [(c.code, c.source, c.userid, c.campaign_id) for c in codes] == [
            ("RC-1", "callback", "zhangsan", campaign_id), ("RC-2", "callback", "lisi", campaign_id)]
        life = codes[0].expires_at - codes[0].created_at
        assert life.total_seconds() == 24 * 3600 and codes[0].used_at is None
    assert [o for o, _, _ in outcomes(app)] == ["stored", "stored"]


def test_multiple_interaction_with_three_selectors(tmp_path):
    app = callback_app(tmp_path)
    make_campaign(app, task_id="t-multi")
    selected = {"dept": ["rd"], "size": ["m"], "city": ["sh"]}
    xml = card_xml("t-multi", selected=selected, card_type="multiple_interaction", key="submit")
    assert post(app.test_client(), xml).status_code == 200
    with app.app_context():
        event = db.session.scalars(db.select(CardEvent)).one()
        assert event.selected == selected and event.card_type == "multiple_interaction"
        rollup.catch_up()
        assert {(s.question_key, s.option_id) for s in event.selections} == {
            ("dept", "rd"), ("size", "m"), ("city", "sh")}


def test_menu_event_is_stored_without_selections(tmp_path):
    app = callback_app(tmp_path)
    xml = card_xml("t-menu", key="unsubscribe", card_type="text_notice", event="template_card_menu_event")
    assert post(app.test_client(), xml).status_code == 200
    with app.app_context():
        event = db.session.scalars(db.select(CardEvent)).one()
        assert (event.event, event.event_key) == ("template_card_menu_event", "unsubscribe")
        assert event.selections == []
    assert counts(app) == (1, 0, 1)


def test_other_events_are_stored_generically(tmp_path):
    app = callback_app(tmp_path)
    xml = (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[lisi]]></FromUserName>"
           f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
           "<Event><![CDATA[enter_agent]]></Event><AgentID>1000002</AgentID></xml>")
    assert post(app.test_client(), xml).status_code == 200
    with app.app_context():
        event = db.session.scalars(db.select(CardEvent)).one()
        assert (event.msg_type, event.event, event.from_user) == ("event", "enter_agent", "lisi")
        assert event.task_id is None


def test_oversized_values_are_clipped_to_their_columns(tmp_path):
    """SQLite would keep them whole; PostgreSQL refuses a value longer than its VARCHAR."""
    app = callback_app(tmp_path)
    make_campaign(app)  # the vote below counts in it, so the roll-up writes its option out
    long_event = (f"<xml><FromUserName>lisi</FromUserName><CreateTime>{int(time.time())}</CreateTime>"
                  f"<MsgType>event</MsgType><Event>{'e' * 100}</Event></xml>")
    assert post(app.test_client(), long_event).status_code == 200
    assert post(app.test_client(), card_xml(selected={"k" * 2000: ["o" * 300]})).status_code == 200
    with app.app_context():
        rollup.catch_up()
        selection = db.session.scalars(db.select(EventSelection)).one()
        assert (len(selection.question_key), len(selection.option_id)) == (1024, 128)
        assert [len(r.event_kind) for r in db.session.scalars(db.select(CallbackLog))] == [64, 19]


def test_ping_is_a_constant_plain_answer(tmp_path):
    response = callback_app(tmp_path).test_client().get("/wecom/ping")
    assert (response.status_code, response.data, response.mimetype) == (200, b"ok", "text/plain")


def test_the_post_skips_flask_yet_answers_as_flask_would(tmp_path):
    """POST /wecom/callback is answered by fastpath.py before Flask: the same headers, the route
    still there for url_for, other methods to Flask as before."""
    from dashboard.security import HEADERS

    app = callback_app(tmp_path, AFTER_CLICK_VIA="reply")  # an answer with a body
    make_campaign(app, after_click={"mode": "button", "replace_name": "已投票"})
    client = app.test_client()
    stored = post(client, card_xml(selected={"q_lunch": ["opt_a"]}))
    refused = post(client, query={"nonce": "1"}, body=b"")
    assert (stored.status_code, stored.mimetype, stored.mimetype_params) == (200, "text/xml", {"charset": "utf-8"})
    assert int(stored.headers["Content-Length"]) == len(stored.data) and "<Encrypt>" in stored.text
    assert (refused.status_code, refused.text, refused.mimetype) == (400, "missing parameter", "text/plain")
    for response in (stored, refused):
        assert {name: response.headers[name] for name in HEADERS} == HEADERS
    assert client.put("/wecom/callback").status_code == 405  # Flask's routing, as before
    with app.test_request_context():
        assert flask.url_for("callback.receive") == "/wecom/callback"


def test_a_bug_behind_the_fast_path_is_a_logged_500_not_a_crash(tmp_path, monkeypatch, caplog):
    from dashboard.callback import service

    app = callback_app(tmp_path, TESTING=False)

    def broken(*args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(service, "receive", broken)
    response = post(app.test_client(), card_xml())
    assert (response.status_code, response.text) == (500, "internal error")
    assert any(r.message == "callback failed" and r.exc_info for r in caplog.records)


def test_the_log_keeps_the_latest_rows(tmp_path):
    from dashboard.callback import journal

    app = callback_app(tmp_path)
    client = app.test_client()
    for nonce in range(5):
        post(client, query={"nonce": str(nonce)}, body=b"")
    with app.app_context():
        with db.engine.begin() as conn:
            journal.prune(conn, keep=2)
        assert db.session.scalar(db.select(db.func.count(CallbackLog.id))) == 2
        assert journal.counts() == [("rejected", "missing parameter", 2)]


def test_rows_written_through_the_driver_are_what_core_writes(tmp_path):
    from dashboard.callback.rows import RowInsert
    from dashboard.models import utcnow

    app = callback_app(tmp_path)
    values = {"dedupe_key": "k", "from_user": "张三", "msg_type": "event", "selected": {"q": ["a", "选"]},
              "create_time": 1, "xml": "<xml/>", "received_at": utcnow(), "rolled_up": False}
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(CardEvent.__table__.insert(), {**values, "dedupe_key": "core"})
            RowInsert(CardEvent.__table__)(conn, {**values, "dedupe_key": "driver"})
        raw = db.session.connection().exec_driver_sql("select * from card_event order by id").all()
        assert [r[2:] for r in raw[:1]] == [r[2:] for r in raw[1:]]
        events = db.session.scalars(db.select(CardEvent).order_by(CardEvent.id)).all()
        assert events[1].selected == values["selected"] and events[1].received_at == values["received_at"]
