"""With known credentials configured, no page, API answer, error page, log line or repr shows the
WeCom secret, the callback token or the EncodingAESKey whole; the settings page shows their last
characters and where each came from. Sends, token fetches, callbacks and failing calls run for real
against the fake WeCom (or the sandbox) over HTTP."""
import base64
import hashlib
import html
import logging
import re
import socket
import threading
import time
from collections import deque

import pytest
from flask import Flask
from werkzeug.serving import make_server

from dashboard import config
from dashboard.auth import service as auth_service
from dashboard.auth.decorators import public
from dashboard.campaigns import delivery
from dashboard.extensions import db
from dashboard.models import Campaign
from dashboard.wecom.crypto import CallbackCrypto
from dashboard.wecom.replies import event_xml
from tests.campaign_factories import make_campaign, send_now, wired
from tests.conftest import PASSWORD, make_app
from tests.fake_wecom import FakeWeCom
from tests.test_api import issue_token

SECRET = "Fake-Secret-For-Leak-Tests-7Qz9"
TOKEN = "Callback-Token-Leak-8Kx2"
AES_KEY = base64.b64encode(hashlib.sha256(b"leak test").digest()).decode().rstrip("=")
LINK = re.compile(r'(?:href|action)="(/[^"#]*)"')


def leaks(text: str, secrets=(SECRET, TOKEN, AES_KEY)) -> list[str]:
    return [secret for secret in secrets if secret in text]


def crawl(client, *start: str, limit: int = 400) -> dict[str, str]:
    """GET every page reachable by links from start (no static files, no logout): path -> body."""
    seen, queue, bodies = set(start), deque(start), {}
    while queue and len(bodies) < limit:
        path = queue.popleft()
        response = client.get(path)
        bodies[path] = f"{response.headers}\n{response.get_data(as_text=True)}"
        for link in LINK.findall(html.unescape(bodies[path])):
            if link not in seen and not link.startswith(("/static/", "/logout")):
                seen.add(link)
                queue.append(link)
    return bodies


def signed_in(app, username="admin"):
    client = app.test_client()
    client.post("/login", data={"username": username, "password": PASSWORD})
    return client


@pytest.fixture
def fake():
    with FakeWeCom(secret=SECRET) as fake:
        yield fake


@pytest.fixture
def app(tmp_path, fake):
    with wired(tmp_path, fake, WECOM_TOKEN=TOKEN, WECOM_AES_KEY=AES_KEY, CAMPAIGN_MAX_ATTEMPTS=1,
               PROPAGATE_EXCEPTIONS=False) as app:
        app.add_url_rule("/test-500", "boom", public(lambda: 1 / 0))
        yield app


def deliver(app, recipients, name="Team dinner") -> int:
    with app.app_context():
        campaign_id = send_now(make_campaign(recipients))
        db.session.get(Campaign, campaign_id).name = name
        db.session.commit()
        while delivery.run(campaign_id) is not None:
            time.sleep(0.05)
        return campaign_id


def click(app, fake, task_id):
    crypto = CallbackCrypto(TOKEN, AES_KEY, fake.corp_id)
    xml = event_xml(to_user=fake.corp_id, from_user="lisi", create_time=int(time.time()), event_key="join",
                    task_id=task_id, card_type="button_interaction", response_code=None, agent_id=fake.agent_id)
    query, body = crypto.encrypt_message(xml, nonce="11", agent_id=fake.agent_id)
    return app.test_client().post("/wecom/callback", query_string=query, data=body)


def exercise(app, fake) -> list[int]:
    """An unreachable WeCom at the token fetch, a send, a refused send and callbacks: campaign ids."""
    client = app.extensions["wecom"].client
    base, client.base_url = client.base_url, f"http://127.0.0.1:{closed_port()}/cgi-bin"
    unreachable = deliver(app, {"users": ["lisi"]}, "Unreachable")
    client.base_url = base
    sent = deliver(app, {"users": ["lisi", "wangwu"]}, "Sent")
    fake.fail_next(48002, path="/message/send")
    refused = deliver(app, {"users": ["lisi"]}, "Refused")
    with app.app_context():
        task_id = db.session.get(Campaign, sent).batches[0].task_id
    assert click(app, fake, task_id).status_code == 200
    assert app.test_client().post("/wecom/callback?timestamp=1&nonce=1&msg_signature=x", data=b"<x").status_code == 400
    return [unreachable, sent, refused]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the block ends


def test_sends_token_fetches_callbacks_and_failures_log_no_secret(app, fake, caplog):
    caplog.set_level(logging.DEBUG)
    unreachable, sent, refused = exercise(app, fake)
    text = caplog.text + "\n".join(record.getMessage() for record in caplog.records)
    assert "corpsecret=***" in text  # urllib3's DEBUG lines and the unreachable fetch's error
    assert "ConnectionError" in text and "48002" in text and "callback POST" in text
    assert leaks(text) == []
    with app.app_context():
        statuses = [db.session.get(Campaign, cid).status for cid in (unreachable, sent, refused)]
    assert statuses == ["failed", "sent", "failed"]


def test_no_page_api_answer_or_error_page_shows_a_secret(app, fake):
    campaign_ids = exercise(app, fake)
    pages = crawl(signed_in(app), "/", "/settings/", "/api-docs/", "/no-such-page", "/test-500",
                  *(f"/campaigns/{cid}" for cid in campaign_ids))
    assert len(pages) > 40 and "/campaigns/" in pages
    assert "corpsecret=***" in "".join(pages.values())  # the unreachable fetch's error is shown
    token, api = issue_token(app, "admin"), app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    for path in ("/openapi.json", "/cards", *(f"/campaigns/{cid}" for cid in campaign_ids), "/nothing"):
        pages[path] = api.get(f"/api/v1{path}", headers=headers).get_data(as_text=True)
    assert "48002" in pages[f"/campaigns/{campaign_ids[2]}"]
    assert "Something went wrong" in pages["/test-500"] and "Not found" in pages["/no-such-page"]
    assert {path: leaks(body) for path, body in pages.items() if leaks(body)} == {}


def test_the_settings_page_shows_the_last_characters_and_the_sources(app):
    page = signed_in(app).get("/settings/").get_data(as_text=True)
    table = page.split('id="credentials"')[1].split("</table>")[0]
    for secret in (SECRET, TOKEN, AES_KEY):
        assert f"••••••••{secret[-4:]}" in table
    assert "wwfakecorp0001" in table and "1000002" in table and table.count("app configuration") == 5
    assert leaks(page) == []


def test_repr_of_the_config_and_the_wecom_objects_masks_the_secrets(app):
    with app.app_context():
        shown = repr(app.config) + repr(app.extensions["wecom"].client) + repr(app.extensions["wecom"].crypto)
    assert leaks(shown) == [] and "test-secret" not in shown  # SECRET_KEY too
    assert f"••••••••{SECRET[-4:]}" in shown and "'WECOM_CORP_ID': 'wwfakecorp0001'" in shown


def test_sources_are_environment_instance_file_and_sandbox(tmp_path, monkeypatch):
    for name in config.ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    for name, value in {"WECOM_SECRET": SECRET, "WECOM_CORP_ID": "wwfakecorp0001", "WECOM_AGENT_ID": "1000002"}.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "config.py").write_text(f"WECOM_TOKEN = {TOKEN!r}\nWECOM_AES_KEY = {AES_KEY!r}\n"
                                        f"SECRET_KEY = {'k' * 32!r}\n")
    app = Flask(__name__, instance_path=str(tmp_path), instance_relative_config=True)
    config.load(app)
    assert app.config["CREDENTIAL_SOURCES"] == {
        "WECOM_SECRET": "environment", "WECOM_CORP_ID": "environment", "WECOM_AGENT_ID": "environment",
        "WECOM_TOKEN": "instance config", "WECOM_AES_KEY": "instance config"}
    assert (app.config["WECOM_SECRET"], app.config["WECOM_TOKEN"]) == (SECRET, TOKEN)
    for name in config.CREDENTIALS:  # none at all: sandbox mode generates the five (a part is refused)
        monkeypatch.delenv(name, raising=False)
    sandbox = Flask(__name__, instance_path=str(tmp_path / "sandbox"), instance_relative_config=True)
    config.load(sandbox)
    assert set(sandbox.config["CREDENTIAL_SOURCES"].values()) == {"sandbox generated"}


# --- sandbox mode: the sandbox is WeCom, and its generated credentials are kept just as secret ---


@pytest.fixture
def sandbox(tmp_path):
    """A sandbox app served over real HTTP at its DASHBOARD_URL, so its client calls its own API."""
    port = closed_port()
    app = make_app(tmp_path, DASHBOARD_URL=f"http://127.0.0.1:{port}")
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield app
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


def sandbox_secrets(app):
    return tuple(app.config[key] for key in ("WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY"))


def test_the_sandbox_api_and_its_access_log_never_show_its_generated_secret(sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    client = sandbox.extensions["wecom"].client
    client.timeout = (2, 5)
    client.list_tags()  # a token fetch, then a call with the token
    assert "gettoken?corpid=" in caplog.text and "corpsecret=***" in caplog.text  # werkzeug's and urllib3's lines
    assert "access_token=***" in caplog.text
    assert leaks(caplog.text, sandbox_secrets(sandbox)) == []


def test_sandbox_pages_show_no_generated_secret(tmp_path):
    app = make_app(tmp_path)
    with app.app_context():
        auth_service.create_user("admin", "admin", PASSWORD, actor="test")
        db.session.commit()
    client = signed_in(app)
    client.post("/sandbox/seed")
    pages = crawl(client, "/", "/sandbox/", "/sandbox/control", "/settings/")
    assert "/sandbox/control" in pages and len(pages) > 20
    assert {path: leaks(body, sandbox_secrets(app)) for path, body in pages.items()
            if leaks(body, sandbox_secrets(app))} == {}
    assert pages["/settings/"].count("sandbox generated") == 5


def test_cli_output_shows_no_generated_secret(tmp_path):
    app = make_app(tmp_path)
    runner = app.test_cli_runner()
    results = [runner.invoke(args=args) for args in (
        ["demo", "seed"], ["users", "create", "ops", "--role", "admin", "--password", "long-enough-pw"],
        ["tokens", "create", "ops"], ["users", "password", "ops", "--password", "generate"], ["--help"])]
    assert [result.exit_code for result in results] == [0] * 5
    assert "Sandbox directory" in results[0].output
    assert leaks("".join(result.output for result in results), sandbox_secrets(app)) == []
