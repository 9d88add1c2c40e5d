"""The sandbox's pages: inbox, control and faults, access rules, CSRF, the first-run seed."""
import json
import re
from pathlib import Path

import pytest

from dashboard.auth import service as auth_service
from dashboard.extensions import db
from dashboard.models import SandboxSettings
from dashboard.sandbox import callbacks, seed_directory
from dashboard.wecom.replies import update_template_card_xml
from dashboard.wecom.xmlsafe import parse_xml
from tests.conftest import PASSWORD, make_app

GALLERY = sorted((Path(__file__).parent.parent / "dashboard" / "cards" / "gallery").glob("*.json"))


def test_every_page_shows_the_sandbox_banner(client, login):
    assert "Sandbox" in client.get("/login").get_data(as_text=True)
    login("manager")
    assert 'class="sandbox-banner' in client.get("/").get_data(as_text=True)


def test_the_inbox_starts_empty_and_seeds_the_directory(client, login):
    login("staff")
    page = client.get("/sandbox/").get_data(as_text=True)
    assert "The sandbox directory is empty" in page
    response = client.post("/sandbox/seed", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "50 employees (4 unlicensed)" in page and "张伟" in page and "Anna Müller" in page
    assert page.count(">unlicensed<") == 4
    chosen = client.get("/sandbox/?user=emma.wilson").get_data(as_text=True)
    assert 'data-feed-url="/sandbox/inbox/emma.wilson/feed"' in chosen


@pytest.mark.parametrize("path", ["/sandbox/", "/sandbox/control", "/sandbox/inbox/lina/feed"])
def test_pages_need_a_login_but_the_wecom_api_is_public(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/sandbox/cgi-bin/tag/list").json["errcode"] == 41001


def test_the_control_page_saves_faults_and_expires_tokens(app, client, login):
    login("manager")
    page = client.get("/sandbox/control").get_data(as_text=True)
    assert app.config["WECOM_CORP_ID"] in page and "/wecom/callback" in page
    form = {"latency_ms": 0, "fail_next": 2, "limit_next": 1, "token_ttl": 120,
            "duplicate_callbacks": "y", "slow_callbacks": 1}
    assert client.post("/sandbox/control", data=form).status_code == 302
    with app.app_context():
        row = db.session.get(SandboxSettings, 1)
        assert (row.fail_next, row.limit_next, row.token_ttl, row.duplicate_callbacks) == (2, 1, 120, True)
    bad = client.post("/sandbox/control", data={**form, "token_ttl": 1}).get_data(as_text=True)
    assert "Between 10 and 7200 seconds." in bad
    done = client.post("/sandbox/control/expire-tokens", follow_redirects=True).get_data(as_text=True)
    assert "0 access token(s) expired" in done


def test_clicks_need_the_csrf_token_in_the_header(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        auth_service.create_user("staff", "staff", PASSWORD, actor="test")
        seed_directory()
        db.session.commit()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "staff", "password": PASSWORD, "csrf_token": token[1]})
    page = client.get("/sandbox/?user=lina").get_data(as_text=True)
    csrf = re.search(r'data-csrf="([^"]+)"', page)[1]
    url = "/sandbox/inbox/lina/cards/1/act"
    assert client.post(url, json={"kind": "menu", "key": "x"}).status_code == 400
    assert client.post(url, json={"kind": "menu", "key": "x"}, headers={"X-CSRFToken": csrf}).status_code == 404


@pytest.mark.parametrize("path", GALLERY, ids=lambda p: p.stem)
def test_a_card_in_a_passive_reply_reads_back_as_the_same_json(path):
    card = json.loads(path.read_text())["template_card"]
    xml = update_template_card_xml("lina", "wwcorp", card, 1700000000)
    inner = parse_xml(xml, force_list=callbacks.LIST_ELEMENTS)["xml"]
    assert callbacks.card_from_xml(inner["TemplateCard"]) == card


def test_demo_seed_creates_the_sandbox_directory(tmp_path):
    runner = make_app(tmp_path).test_cli_runner()
    assert "Sandbox directory seeded: 50 employees" in runner.invoke(args=["demo", "seed"]).output
    assert "Sandbox directory kept" in runner.invoke(args=["demo", "seed"]).output
