"""WeComClient against the fake WeCom server over real HTTP on 127.0.0.1."""

import json
import logging
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from dashboard.wecom.client import (
    AccessToken,
    MemoryTokenCache,
    RedactingFilter,
    WeComClient,
    build_send_body,
    encode_body,
    redact,
)
from dashboard.wecom.errors import ApiError, RetryableError
from tests.fake_wecom import FakeWeCom

BUTTON_CARD = {
    "card_type": "button_interaction",
    "task_id": "camp42-btn-0001",
    "main_title": {"title": "报名确认"},
    "button_list": [{"text": "参加", "style": 1, "key": "join"}],
}


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


def make_client(fake, **kwargs):
    kwargs.setdefault("timeout", (1, 2))
    return WeComClient(fake.corp_id, fake.secret, fake.agent_id, base_url=fake.base_url, **kwargs)


@pytest.fixture
def client(fake):
    client = make_client(fake)
    yield client
    client.close()


# --- access token ---


def test_token_fetched_once_and_reused(fake, client):
    client.list_tags()
    client.send_template_card(BUTTON_CARD, touser="lisi")
    client.get_callback_ip()
    assert len(fake.calls("/gettoken")) == 1
    assert len({r.query["access_token"] for r in fake.requests if r.path != "/gettoken"}) == 1


def test_concurrent_threads_make_one_gettoken_call(fake, client):
    fake.latency = 0.05  # keep the first fetch in flight while the others arrive
    start = threading.Barrier(20)

    def call(_):
        start.wait()
        return client.get_access_token()

    with ThreadPoolExecutor(20) as pool:
        tokens = set(pool.map(call, range(20)))
    assert len(tokens) == 1
    assert len(fake.calls("/gettoken")) == 1


def test_token_renewed_when_less_than_five_minutes_left(fake):
    now = [1000.0]
    client = make_client(fake, clock=lambda: now[0])
    client.get_access_token()
    now[0] += 7200 - 301
    client.get_access_token()
    assert len(fake.calls("/gettoken")) == 1
    now[0] += 2
    client.get_access_token()
    assert len(fake.calls("/gettoken")) == 2


def test_expired_token_is_renewed_and_the_call_retried_once(fake, client):
    old = client.get_access_token()
    fake.expire_tokens()
    assert client.send_template_card(BUTTON_CARD, touser="lisi").msgid
    sends = fake.calls("/message/send")
    assert [r.query["access_token"] for r in sends] == [old, client.get_access_token()]
    assert old != client.get_access_token()
    assert len(fake.calls("/gettoken")) == 2


def test_a_token_error_that_persists_does_not_loop(fake, client):
    fake.fail_next(40014, n=10, path="/message/send")
    with pytest.raises(ApiError) as info:
        client.send_template_card(BUTTON_CARD, touser="lisi")
    assert info.value.errcode == 40014
    assert len(fake.calls("/message/send")) == 2
    assert len(fake.calls("/gettoken")) == 2


def test_cache_drops_a_token_only_if_it_is_still_the_failed_one():
    cache = MemoryTokenCache()
    cache.set("k", AccessToken("new", 10.0))
    cache.discard("k", "old")  # a late failure of the previous token
    assert cache.get("k").value == "new"
    cache.discard("k", "new")
    assert cache.get("k") is None


def test_wrong_secret_raises_without_retry(fake):
    client = WeComClient(fake.corp_id, "wrong", fake.agent_id, base_url=fake.base_url)
    with pytest.raises(ApiError) as info:
        client.list_tags()
    assert info.value.errcode == 40001
    assert len(fake.calls("/gettoken")) == 1 and not fake.calls("/tag/list")


def test_secret_and_token_never_logged(fake, caplog):
    caplog.set_level(logging.DEBUG, logger="dashboard.wecom")
    client = make_client(fake, timeout=(1, 0.2))
    old = client.get_access_token()
    fake.expire_tokens()
    fake.fail_next(42001, path="/tag/list")
    fake.hang_next(1.0, path="/tag/list")  # the retry with the new token times out
    with pytest.raises(RetryableError) as info:
        client.list_tags()
    new = client.get_access_token()
    text = caplog.text + str(info.value) + repr(info.value) + repr(client)
    assert "42001" in caplog.text
    assert fake.secret not in text and old not in text and new not in text


@pytest.mark.parametrize("line, shown", [
    ('"GET /cgi-bin/gettoken?corpid=ww1&corpsecret=a%2Bb-c HTTP/1.1" 200 95',
     '"GET /cgi-bin/gettoken?corpid=ww1&corpsecret=*** HTTP/1.1" 200 95'),
    ("url: /cgi-bin/tag/list?access_token=tok3n&tagid=1 (Caused by x)",
     "url: /cgi-bin/tag/list?access_token=***&tagid=1 (Caused by x)"),
    ("for url 'http://h/cgi-bin/gettoken?corpsecret=s3'", "for url 'http://h/cgi-bin/gettoken?corpsecret=***'"),
])
def test_redacting_filter_masks_url_secrets_in_log_records(line, shown):
    record = logging.LogRecord("urllib3.connectionpool", logging.DEBUG, __file__, 1, "%s", (line,), None)
    assert RedactingFilter().filter(record) and record.getMessage() == shown == redact(line)


# --- error mapping ---


@pytest.mark.parametrize("errcode, delay", [(-1, 1.0), (45009, 60.0), (45033, 2.0)])
def test_busy_and_rate_limits_are_retryable(fake, client, errcode, delay):
    fake.fail_next(errcode)
    with pytest.raises(RetryableError) as info:
        client.list_tags()
    assert (info.value.errcode, info.value.retry_after) == (errcode, delay)
    assert info.value.request_sent is False


@pytest.mark.parametrize(
    "errcode, field, word",
    [
        (42038, "button_list[].text", "button"),
        (42045, "card_action", "card_action"),
        (42027, "horizontal_content_list[].keyname", "keyname"),
    ],
)
def test_card_errcodes_name_the_field(fake, client, errcode, field, word):
    fake.fail_next(errcode)
    with pytest.raises(ApiError) as info:
        client.send_template_card(BUTTON_CARD, touser="lisi")
    assert info.value.field == field
    assert word in info.value.explanation


def test_all_recipients_invalid_is_81013_with_the_lists(client):
    with pytest.raises(ApiError) as info:
        client.send_template_card(BUTTON_CARD, touser=["Ghost", "nobody"])
    assert info.value.errcode == 81013
    assert "nobody received" in info.value.explanation
    assert info.value.response["invaliduser"] == "ghost|nobody"
    assert info.value.field is None


@pytest.mark.parametrize("status, error", [(502, RetryableError), (404, ApiError)])
def test_http_errors(fake, client, status, error):
    fake.fail_next(0, http_status=status)
    with pytest.raises(error):
        client.list_tags()


# --- timeouts and lost connections ---


def test_read_timeout_means_request_sent(fake):
    client = make_client(fake, timeout=(1, 0.2))
    fake.hang_next(1.0, path="/message/send")
    with pytest.raises(RetryableError) as info:
        client.send_template_card(BUTTON_CARD, touser="lisi")
    assert info.value.request_sent is True
    assert fake.deliveries["lisi"] == 1  # delivered, though the client cannot know


def test_dropped_connection_means_request_sent(fake, client):
    fake.drop_next()
    with pytest.raises(RetryableError) as info:
        client.list_tags()
    assert info.value.request_sent is True


def test_connection_refused_means_not_sent():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends
    client = WeComClient("ww1", "s", 1, base_url=f"http://127.0.0.1:{port}/cgi-bin")
    with pytest.raises(RetryableError) as info:
        client.get_access_token()
    assert info.value.request_sent is False


def test_exact_retry_with_duplicate_check_delivers_once(fake):
    client = make_client(fake, timeout=(1, 0.2))
    body = build_send_body(
        BUTTON_CARD, fake.agent_id, touser="lisi|wangwu", enable_duplicate_check=True
    )
    fake.hang_next(1.0, path="/message/send")
    with pytest.raises(RetryableError):
        client.send(body)
    result = client.send(body)
    assert list(fake.messages) == [result.msgid]  # WeCom answered with the first send
    assert fake.deliveries == {"lisi": 1, "wangwu": 1}


# --- send ---


def test_send_result_splits_recipient_lists():
    with FakeWeCom(unlicensed={"wangwu"}) as fake:
        client = make_client(fake)
        result = client.send_template_card(
            BUTTON_CARD, touser="zhangsan|Ghost|wangwu", toparty=[2, 99], totag=["1", "42"]
        )
    assert result.invalid_users == ["ghost"]
    assert (result.invalid_parties, result.invalid_tags) == (["99"], ["42"])
    assert result.unlicensed_users == ["wangwu"]
    assert result.msgid and result.response_code
    assert fake.deliveries == {"zhangsan": 1, "lisi": 1, "zhaoliu": 1}


def test_send_result_empty_lists_and_no_response_code_for_notices(client):
    notice = {
        "card_type": "text_notice",
        "main_title": {"title": "通知"},
        "card_action": {"type": 1, "url": "https://example.com"},
    }
    result = client.send_template_card(notice, touser="@all")
    assert result.invalid_users == result.invalid_parties == result.unlicensed_users == []
    assert result.response_code is None and result.raw["errcode"] == 0


def test_posted_bytes_are_the_built_body(fake, client):
    client.send_template_card(BUTTON_CARD, touser=["lisi"], enable_duplicate_check=True)
    body = build_send_body(BUTTON_CARD, fake.agent_id, touser="lisi", enable_duplicate_check=True)
    assert fake.calls("/message/send")[0].raw == encode_body(body)


def test_send_needs_a_recipient(fake, client):
    with pytest.raises(ValueError):
        client.send_template_card(BUTTON_CARD, touser=[], toparty="")
    assert not fake.requests


def test_build_send_body_golden():
    card = {"card_type": "text_notice", "main_title": {"title": "通知"}}
    users = ["zhangsan", "lisi", "zhangsan"]
    body = build_send_body(card, "1000002", touser=users, toparty="2|3", enable_duplicate_check=1)
    assert json.dumps(body, ensure_ascii=False, separators=(",", ":")) == (
        '{"touser":"zhangsan|lisi","toparty":"2|3","totag":"","msgtype":"template_card",'
        '"agentid":1000002,"template_card":{"card_type":"text_notice","main_title":'
        '{"title":"通知"}},"enable_id_trans":0,"enable_duplicate_check":1,'
        '"duplicate_check_interval":1800}'
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"touser": [f"u{i}" for i in range(1001)]},
        {"toparty": list(range(101))},
        {"totag": "|".join(map(str, range(101)))},
        {"touser": "a", "duplicate_check_interval": 14401},
    ],
)
def test_build_send_body_limits(kwargs):
    with pytest.raises(ValueError):
        build_send_body(BUTTON_CARD, 1, **kwargs)


# --- update and recall ---


def test_update_mode_a_replace_name(fake, client):
    code = client.send_template_card(BUTTON_CARD, touser="lisi").response_code
    result = client.update_template_card(code, userids=["lisi", "Ghost"], replace_name="已报名")
    assert result.invalid_users == ["ghost"]
    body = fake.calls("/message/update_template_card")[0].body
    assert body == {
        "userids": ["lisi", "Ghost"],
        "atall": 0,
        "agentid": fake.agent_id,
        "response_code": code,
        "button": {"replace_name": "已报名"},
    }


def test_update_mode_b_template_card(fake, client):
    code = fake.issue_response_code()
    card = {**BUTTON_CARD, "replace_text": "已报名"}
    result = client.update_template_card(code, atall=True, template_card=card)
    assert result.invalid_users == []
    body = fake.calls("/message/update_template_card")[0].body
    assert body["template_card"] == card and body["atall"] == 1 and "button" not in body
    with pytest.raises(ApiError) as info:  # a response code allows one update
        client.update_template_card(code, atall=True, template_card=card)
    assert info.value.errcode == 42022


@pytest.mark.parametrize(
    "kwargs",
    [
        {"userids": "lisi"},  # neither mode
        {"userids": "lisi", "replace_name": "x", "template_card": BUTTON_CARD},  # both
        {"replace_name": "x"},  # nobody to update
        {"userids": [f"u{i}" for i in range(1001)], "replace_name": "x"},
        {"response_code": "", "atall": True, "replace_name": "x"},
    ],
)
def test_update_argument_validation(fake, client, kwargs):
    kwargs = {"response_code": "rc", **kwargs}
    with pytest.raises(ValueError):
        client.update_template_card(kwargs.pop("response_code"), **kwargs)
    assert not fake.requests


def test_recall(fake, client):
    msgid = client.send_template_card(BUTTON_CARD, touser="lisi").msgid
    assert client.recall(msgid) is None
    assert fake.messages[msgid]["recalled"]
    with pytest.raises(ApiError):
        client.recall("no-such-msgid")


# --- directory ---


def test_directory_reads(client):
    assert [d["id"] for d in client.list_departments()] == [1, 2, 3]
    assert [d["id"] for d in client.list_departments(id=2)] == [2]
    assert [u["userid"] for u in client.list_department_users(2)] == ["lisi", "wangwu"]
    assert len(client.list_department_users(1, fetch_child=True)) == 4
    assert client.list_tags() == [{"tagid": 1, "tagname": "managers"}]
    assert client.tag_members(1) == {
        "userlist": [{"userid": "zhangsan", "name": "张三"}],
        "partylist": [3],
    }
    assert client.get_callback_ip()
