"""Random bytes, random XML envelopes and signed envelopes around random inner XML at the callback
route: never a 500, nothing stored from bad input, and a well-formed event stored exactly once.
One app for the module; rows are counted before and after each request."""
import base64
import time
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.extensions import db
from dashboard.models import CallbackLog
from tests.fuzzing import FUZZ
from tests.test_callback import CORP, CRYPTO, VOTE, callback_app, counts, make_campaign

TASK_ID = "fuzz-1-b1"
VOTE_AFTER_CLICK = {"mode": "card", "replace_name": "已选：{option}"}
ELEMENTS = ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Event", "EventKey", "TaskId",
            "CardType", "ResponseCode", "AgentID", "MsgId", "Content", "SelectedItems", "SelectedItem",
            "QuestionKey", "OptionIds", "OptionId", "Encrypt", "xml"]
PARAMS = ["msg_signature", "timestamp", "nonce", "echostr"]
# The callback is one target fed three ways: half the profile's count each, 1.5 times in all.
EACH = settings(FUZZ, max_examples=FUZZ.max_examples // 2)

xml_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)  # what XML can hold, and more
digits = st.from_regex(r"[0-9]{1,30}", fullmatch=True) | st.integers(1, 6000).map(lambda n: "9" * n)
names = st.sampled_from(ELEMENTS) | st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,8}", fullmatch=True)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = callback_app(tmp_path_factory.mktemp("callback-fuzz"))
    make_campaign(app, VOTE, task_id=TASK_ID, after_click=VOTE_AFTER_CLICK)
    yield app
    with app.app_context():
        db.engine.dispose()


def last_outcome(app):
    with app.app_context():
        return db.session.scalar(db.select(CallbackLog.outcome).order_by(CallbackLog.id.desc()).limit(1))


# --- strategies ----------------------------------------------------------------------------------


def element(name: str, value: str, cdata: bool) -> str:
    body = f"<![CDATA[{value.replace(']]>', '')}]]>" if cdata else escape(value)
    return f"<{name}>{body}</{name}>"


@st.composite
def xml_elements(draw, name="xml", values=xml_text | digits, depth=0):
    """A well-formed element of random children: text (CDATA or escaped), empty, or nested."""
    parts = []
    for child in draw(st.lists(names, max_size=8)):
        kind = draw(st.sampled_from(["text"] * 4 + ["empty", "nested"])) if depth < 2 else "text"
        if kind == "nested":
            parts.append(draw(xml_elements(child, values, depth + 1)))
        elif kind == "empty":
            parts.append(f'<{child} a="1"/>')
        else:
            parts.append(element(child, draw(values), draw(st.booleans())))
    return f"<{name}>{''.join(parts)}</{name}>"


@st.composite
def xml_documents(draw, values=xml_text | digits):
    """XML that is well-formed more often than not: now and then a DTD, an entity reference or a
    cut-off end."""
    document = draw(xml_elements(values=values))
    quirk = draw(st.sampled_from(["", "", "", "", "dtd", "entity", "cut", "prolog"]))
    if quirk == "dtd":
        return '<!DOCTYPE xml [<!ENTITY a "boom">]>' + document
    if quirk == "entity":
        return document.replace("</", "&a;</", 1)
    if quirk == "cut":
        return document[: draw(st.integers(0, len(document)))]
    return '<?xml version="1.0"?>' + document if quirk == "prolog" else document


@st.composite
def card_events(draw):
    """A real vote event with some of its fields replaced, dropped or repeated at random."""
    fields = {"ToUserName": CORP, "FromUserName": "zhangsan", "CreateTime": str(int(time.time())),
              "MsgType": "event", "Event": "template_card_event", "EventKey": "submit_vote",
              "TaskId": TASK_ID, "CardType": "vote_interaction", "ResponseCode": "RC-1", "AgentID": "1000002"}
    for name in draw(st.lists(st.sampled_from(sorted(fields)), max_size=4, unique=True)):
        action = draw(st.sampled_from(["replace", "drop", "number"]))
        if action == "drop":
            del fields[name]
        else:
            fields[name] = draw(digits if action == "number" else xml_text)
    options = draw(st.lists(st.sampled_from(["opt_a", "opt_b", "opt_c"]) | xml_text, max_size=4))
    keys = draw(st.lists(st.sampled_from(["q_lunch"]) | xml_text, min_size=1, max_size=2))
    selected = "".join(f"<SelectedItem>{element('QuestionKey', key, True)}<OptionIds>"
                       + "".join(element("OptionId", o, True) for o in options) + "</OptionIds></SelectedItem>"
                       for key in keys)
    body = "".join(element(name, value, True) for name, value in fields.items())
    return f"<xml>{body}<SelectedItems>{selected}</SelectedItems></xml>"


def signed_query(encrypt: str, timestamp: str, nonce: str) -> dict:
    return {"msg_signature": CRYPTO.sign(timestamp, nonce, encrypt), "timestamp": timestamp, "nonce": nonce}


timestamps = st.just("now") | digits
nonces = st.from_regex(r"[0-9A-Za-z]{1,12}", fullmatch=True)


def when(timestamp: str) -> str:
    return str(int(time.time())) if timestamp == "now" else timestamp


# --- the targets ---------------------------------------------------------------------------------


@pytest.mark.slow
@EACH
@given(method=st.sampled_from(["GET", "POST"]),
       query=st.dictionaries(st.sampled_from(PARAMS) | st.text(max_size=8), st.text(max_size=40) | digits,
                             max_size=5) | st.binary(max_size=80).map(lambda raw: raw.decode("latin-1")),
       body=st.binary(max_size=400))
def test_random_bytes_and_query_args_are_refused_with_a_4xx(app, method, query, body):
    before = counts(app)
    response = app.test_client().open("/wecom/callback", method=method, query_string=query, data=body)
    assert response.status_code in (400, 403, 413), response.text
    assert counts(app) == before


@pytest.mark.slow
@EACH
@given(envelope=xml_documents(values=xml_text | digits | st.sampled_from(["", "AAAA", "+/="])),
       sign=st.booleans(), timestamp=timestamps, nonce=nonces, encrypt=xml_text | st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()))
def test_random_xml_envelopes_signed_or_not_are_refused_with_a_4xx(app, envelope, sign, timestamp, nonce, encrypt):
    """A signed envelope carries a random Encrypt value (signed, so decryption is tried)."""
    body = envelope.replace("<xml>", f"<xml>{element('Encrypt', encrypt, True)}", 1) if sign else envelope
    query = signed_query(encrypt, when(timestamp), nonce) if sign else {"msg_signature": "x" * 40,
                                                                     "timestamp": when(timestamp), "nonce": nonce}
    before = counts(app)
    response = app.test_client().post("/wecom/callback", query_string=query, data=body.encode("utf-8", "replace"))
    assert response.status_code in (400, 403, 413), response.text
    assert counts(app) == before


@pytest.mark.slow
@EACH
@given(inner=xml_documents() | card_events(), timestamp=st.just("now") | timestamps, nonce=nonces)
def test_signed_envelopes_with_random_inner_xml_never_fail_and_store_an_event_once(app, inner, timestamp, nonce):
    query, body = CRYPTO.encrypt_message(inner, timestamp=when(timestamp), nonce=nonce, agent_id=1000002)
    before, client = counts(app), app.test_client()
    response = client.post("/wecom/callback", query_string=query, data=body)
    assert response.status_code in (200, 400, 403), response.text
    if response.status_code != 200:
        assert counts(app) == before
        return
    assert counts(app)[0] == before[0] + (last_outcome(app) != "duplicate")
    again = client.post("/wecom/callback", query_string=query, data=body)
    assert again.status_code == 200 and last_outcome(app) == "duplicate" and counts(app)[0] <= before[0] + 1
