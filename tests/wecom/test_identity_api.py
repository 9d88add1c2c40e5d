"""Who signed in (身份验证, auth/getuserinfo) against the fake WeCom over real HTTP on 127.0.0.1,
and the sign-in code kept out of logs."""

import logging

import pytest

from dashboard.wecom.client import (
    INVALID_CODE, ApiError, NotAMemberError, RedactingFilter, RetryableError, WeComClient, redact,
)
from tests.fake_wecom import FakeWeCom


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


@pytest.fixture
def client(fake):
    client = WeComClient(fake.corp_id, fake.secret, fake.agent_id, base_url=fake.base_url,
                         timeout=(1, 0.3))
    yield client
    client.close()


def test_a_code_gives_the_members_userid(fake, client):
    code = fake.issue_login_code("lisi")
    assert client.get_user_info(code) == "lisi"
    call = fake.calls("/auth/getuserinfo")[-1]
    assert call.method == "GET" and call.query["code"] == code and call.query["access_token"]


def test_the_older_spelling_userid_is_taken(fake, client):
    assert client.get_user_info(fake.issue_login_code("wangwu", old_style=True)) == "wangwu"


def test_a_code_works_once(fake, client):
    code = fake.issue_login_code("lisi")
    client.get_user_info(code)
    with pytest.raises(ApiError) as info:
        client.get_user_info(code)
    assert info.value.errcode == INVALID_CODE == 40029


def test_an_unknown_code_is_refused(client):
    with pytest.raises(ApiError) as info:
        client.get_user_info("never-issued")
    assert info.value.errcode == 40029 and not isinstance(info.value, NotAMemberError)


def test_someone_outside_the_corp_is_not_a_member(fake, client):
    with pytest.raises(NotAMemberError) as info:
        client.get_user_info(fake.issue_login_code(openid="oWeChatUser123"))
    assert isinstance(info.value, ApiError) and info.value.errcode == 0
    assert "not a member" in str(info.value) and info.value.response["openid"] == "oWeChatUser123"


@pytest.mark.parametrize("line, shown", [
    ("GET /auth/wecom/callback?code=Abc-123_x&state=s HTTP/1.1",
     "GET /auth/wecom/callback?code=***&state=s HTTP/1.1"),
    ("url: /cgi-bin/auth/getuserinfo?access_token=tok&code=c0de (Caused by x)",
     "url: /cgi-bin/auth/getuserinfo?access_token=***&code=*** (Caused by x)"),
    # the names that merely end in "code" stay readable
    ("errcode=40029 response_code=rc1", "errcode=40029 response_code=rc1"),
])
def test_the_sign_in_code_is_redacted_like_the_access_token(line, shown):
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, "%s", (line,), None)
    assert RedactingFilter().filter(record) and record.getMessage() == shown == redact(line)


@pytest.fixture
def redacted_urllib3():
    """urllib3's request lines through the filter, as dashboard.security installs it."""
    logger, kept = logging.getLogger("urllib3.connectionpool"), RedactingFilter()
    logger.addFilter(kept)
    yield
    logger.removeFilter(kept)


def test_no_code_in_the_request_log(fake, client, caplog, redacted_urllib3):
    caplog.set_level(logging.DEBUG, logger="urllib3")
    code = fake.issue_login_code("lisi")
    client.get_user_info(code)
    assert "/cgi-bin/auth/getuserinfo?access_token=***&code=***" in caplog.text
    assert code not in caplog.text


def test_no_code_in_a_failed_calls_message(fake, client):
    code = fake.issue_login_code("lisi")
    client.get_access_token()
    fake.stop()  # connection refused: requests names the whole URL in its message
    try:
        with pytest.raises(RetryableError) as info:
            client.get_user_info(code)
    finally:
        fake.start()
    assert "getuserinfo" in str(info.value) and "code=***" in str(info.value)
    assert code not in str(info.value) + repr(info.value)
