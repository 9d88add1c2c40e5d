"""WECOM_CALLBACK_ALLOW through the callback route: listed networks and WeCom's own addresses
(fetched from the fake WeCom over HTTP and kept), refusals counted, off by default."""
import itertools
import logging
import time
from contextlib import ExitStack

import pytest

from dashboard import create_app
from dashboard.callback import allow
from dashboard.config import ConfigError
from dashboard.extensions import db
from dashboard.models import CallbackLog, CardEvent
from dashboard.wecom.crypto import CallbackCrypto
from dashboard.wecom.replies import event_xml
from tests.campaign_factories import wired
from tests.conftest import PASSWORD
from tests.fake_wecom import FakeWeCom

WECOM_IP, OUTSIDER = "101.226.103.5", "192.0.2.7"  # the fake lists 101.226.103.0/25


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


@pytest.fixture
def make(tmp_path, fake):
    """make(allow) -> an app wired to the fake WeCom with WECOM_CALLBACK_ALLOW = allow."""
    folders = itertools.count()
    with ExitStack() as stack:
        yield lambda allow_value="", **overrides: stack.enter_context(wired(
            tmp_path / str(next(folders)), fake, WECOM_CALLBACK_ALLOW=allow_value, **overrides))


def click(app, fake, remote_addr, *, user="zhangsan", headers=None):
    crypto = CallbackCrypto("callback-token", "a" * 43, fake.corp_id)
    xml = event_xml(to_user=fake.corp_id, from_user=user, create_time=int(time.time()), event_key="join",
                    task_id="elsewhere-1", card_type="button_interaction", response_code=None,
                    agent_id=fake.agent_id)
    query, body = crypto.encrypt_message(xml, nonce="1357", agent_id=fake.agent_id)
    return app.test_client().post("/wecom/callback", query_string=query, data=body, headers=headers,
                                  environ_base={"REMOTE_ADDR": remote_addr})


def verify(app, fake, remote_addr):
    crypto = CallbackCrypto("callback-token", "a" * 43, fake.corp_id)
    timestamp, echostr = str(int(time.time())), crypto.encrypt("echo-42")
    query = {"msg_signature": crypto.sign(timestamp, "9", echostr), "timestamp": timestamp, "nonce": "9",
             "echostr": echostr}
    return app.test_client().get("/wecom/callback", query_string=query, environ_base={"REMOTE_ADDR": remote_addr})


def stored(app):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(CardEvent.id)))


def refusals(app):
    with app.app_context():
        return db.session.scalars(db.select(CallbackLog.remote_addr).filter_by(
            outcome="rejected", reason="source not allowed", http_status=403)).all()


def test_off_by_default_any_address_may_call(make, fake):
    app = make()
    assert click(app, fake, OUTSIDER).status_code == 200
    assert stored(app) == 1 and fake.calls("/getcallbackip") == []


def test_listed_networks_and_addresses_may_call_others_get_403_and_nothing_stored(make, fake):
    app = make(" 10.0.0.0/8 , 127.0.0.1,2001:db8::/32")
    for address, user in (("10.20.30.40", "a"), ("127.0.0.1", "b"), ("::ffff:10.0.0.9", "c"), ("2001:db8::5", "d")):
        assert click(app, fake, address, user=user).status_code == 200, address
    assert stored(app) == 4
    for address in (OUTSIDER, "11.0.0.1", "127.0.0.2", "::1"):
        response = click(app, fake, address)
        assert (response.status_code, response.text) == (403, "source not allowed")
    assert stored(app) == 4 and refusals(app) == [OUTSIDER, "11.0.0.1", "127.0.0.2", "::1"]
    assert fake.calls("/getcallbackip") == []  # no `wecom` entry: WeCom is never asked


def test_url_verification_is_subject_to_the_list(make, fake):
    app = make("10.0.0.0/8")
    assert (verify(app, fake, "10.1.1.1").status_code, verify(app, fake, "10.1.1.1").text) == (200, "echo-42")
    assert verify(app, fake, OUTSIDER).status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(CallbackLog.method).filter_by(reason="source not allowed")) == "GET"


def test_wecom_addresses_are_fetched_once_and_kept(make, fake):
    app = make("wecom")
    assert [click(app, fake, WECOM_IP, user=f"u{i}").status_code for i in range(3)] == [200] * 3
    assert click(app, fake, "101.226.103.200").status_code == 403  # outside the /25
    assert click(app, fake, "182.254.11.180", user="u9").status_code == 200  # the fake's second range
    assert stored(app) == 4 and len(fake.calls("/getcallbackip")) == 1


def test_wecom_addresses_are_fetched_again_after_an_hour(make, fake):
    app = make("wecom")
    now = [1000.0]
    app.extensions["callback_allow"].clock = lambda: now[0]
    assert click(app, fake, WECOM_IP, user="u1").status_code == 200
    now[0] += allow.KEEP - 1
    assert click(app, fake, WECOM_IP, user="u2").status_code == 200
    now[0] += 2
    assert click(app, fake, WECOM_IP, user="u3").status_code == 200
    assert len(fake.calls("/getcallbackip")) == 2


def test_a_failed_fetch_keeps_the_last_list_logs_and_never_answers_500(make, fake, caplog):
    app = make("wecom, 10.0.0.0/8")
    now = [1000.0]
    app.extensions["callback_allow"].clock = lambda: now[0]
    assert click(app, fake, WECOM_IP, user="u1").status_code == 200
    now[0] += allow.KEEP + 1
    fake.fail_next(48002, path="/getcallbackip")
    with caplog.at_level(logging.ERROR, logger="dashboard.callback.allow"):
        assert click(app, fake, WECOM_IP, user="u2").status_code == 200  # the last list still serves
    assert "not fetched" in caplog.text and "48002" in caplog.text
    assert click(app, fake, WECOM_IP, user="u3").status_code == 200  # not asked again at once
    assert len(fake.calls("/getcallbackip")) == 2
    page = admin_page(app)
    assert "48002" in page and "101.226.103.0/25" in page and "10.0.0.0/8" in page


def test_without_any_list_a_failed_fetch_refuses_wecom_until_a_retry_succeeds(make, fake):
    app = make("wecom")
    now = [1000.0]
    app.extensions["callback_allow"].clock = lambda: now[0]
    fake.drop_next(path="/getcallbackip")  # the connection is closed: a network error
    assert click(app, fake, WECOM_IP, user="u1").status_code == 403
    now[0] += allow.RETRY + 1
    assert click(app, fake, WECOM_IP, user="u2").status_code == 200
    assert stored(app) == 1


def test_behind_a_proxy_the_forwarded_address_counts_only_with_proxy_fix(make, fake):
    forwarded = {"X-Forwarded-For": "10.9.9.9"}
    plain = make("10.0.0.0/8")
    assert click(plain, fake, "127.0.0.1", headers=forwarded).status_code == 403  # the header is not trusted
    proxied = make("10.0.0.0/8", TRUSTED_PROXIES=1)
    assert click(proxied, fake, "127.0.0.1", headers=forwarded).status_code == 200
    assert click(proxied, fake, "127.0.0.1", user="x").status_code == 403  # the proxy itself is not listed


@pytest.mark.parametrize("value, wecom, networks", [
    ("", False, []),
    ("wecom", True, []),
    (" WeCom , 10.0.0.0/8,127.0.0.1 ", True, ["10.0.0.0/8", "127.0.0.1/32"]),
    ("10.1.2.3/8", False, ["10.0.0.0/8"]),
    ("::1", False, ["::1/128"]),
])
def test_parse(value, wecom, networks):
    assert allow.parse(value) == (wecom, tuple(allow.ipaddress.ip_network(n) for n in networks))


@pytest.mark.parametrize("value", ["10.0.0.0/33", "example.com", "wecom;10.0.0.1", "*"])
def test_a_bad_entry_stops_the_app_with_a_clear_message(tmp_path, value):
    with pytest.raises(ConfigError, match="WECOM_CALLBACK_ALLOW"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path),
                    "WECOM_CALLBACK_ALLOW": value})


def test_the_settings_page_says_whether_the_list_is_on_and_counts_refusals(make, fake):
    app = make("wecom, 10.0.0.0/8")
    assert "not fetched yet" in admin_page(app)
    click(app, fake, OUTSIDER)
    page = admin_page(app)
    section = page.split('id="callback-allow"')[1].split('id="callback-counts"')[0]
    assert "10.0.0.0/8" in section and "101.226.103.0/25, 182.254.11.176/28" in section and "fetched" in section
    assert "source not allowed" in page.split('id="callback-counts"')[1]
    assert "Any address" in admin_page(make())


def admin_page(app):
    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    return client.get("/settings/").get_data(as_text=True)
