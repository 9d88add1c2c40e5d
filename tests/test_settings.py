"""The diagnostics page (admin), the self-test over real HTTP, and the after-click and close-poll pages."""
import re
import threading

import pytest
from werkzeug.serving import make_server

from dashboard.auth import service as auth_service
from dashboard.extensions import db
from dashboard.models import CardVersion
from tests.conftest import PASSWORD
from tests.fake_wecom import FakeWeCom
from tests.test_callback import callback_app, card_xml, make_campaign, post


def with_users(app):
    with app.app_context():
        for role in ("admin", "staff", "manager"):
            auth_service.create_user(role, role, PASSWORD, actor="test")
        db.session.commit()
    return app


def signed_in(app, role):
    client = app.test_client()
    token = _token(client, "/login")
    client.post("/login", data={"username": role, "password": PASSWORD, "csrf_token": token})
    return client


def _token(client, path):
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    return match.group(1) if match else ""


@pytest.fixture
def served():
    """Serve an app over real HTTP on 127.0.0.1; yields a function app -> base URL."""
    servers = []

    def serve(app):
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()


@pytest.mark.parametrize("role, status", [("admin", 200), ("staff", 403), ("manager", 403)])
def test_diagnostics_page_is_for_admins(tmp_path, role, status):
    client = signed_in(with_users(callback_app(tmp_path)), role)
    assert client.get("/settings/").status_code == status


def test_diagnostics_show_url_checks_recent_callbacks_counts_and_unmatched_events(tmp_path):
    app = with_users(callback_app(tmp_path, DASHBOARD_URL="https://cards.example.com/"))
    client = signed_in(app, "admin")
    post(client, card_xml("from-another-system"))
    query = {"timestamp": "1", "nonce": "1", "msg_signature": "x"}
    client.post("/wecom/callback", query_string=query, data=b"<x")
    page = client.get("/settings/").get_data(as_text=True)
    assert 'value="https://cards.example.com/wecom/callback"' in page
    assert page.count(">OK</span>") == 5 and ">Fix</span>" not in page
    log = page.split('id="callback-log"')[1]
    assert "unmatched" in log and "rejected" in log and "malformed XML" in log
    assert "from-another-system" in page.split('id="unmatched"')[1]
    assert "Token" not in log and "CampaignTok3n" not in page and "03VqSMYhl5" not in page


def test_a_bad_key_is_flagged(tmp_path):
    app = with_users(callback_app(tmp_path, WECOM_AES_KEY="tooshort"))
    page = signed_in(app, "admin").get("/settings/").get_data(as_text=True)
    assert page.count(">Fix</span>") == 2 and "8 characters" in page


def test_self_test_over_http_reports_each_step(tmp_path, served):
    app = with_users(callback_app(tmp_path))
    app.config["DASHBOARD_URL"] = served(app)
    client = signed_in(app, "admin")
    page = client.post("/settings/self-test", follow_redirects=True).get_data(as_text=True)
    steps = page.split('id="self-test-steps"')[1].split("</ol>")[0]
    assert steps.count("passed") == 3 and "failed" not in steps
    assert "self-test" in page.split('id="callback-log"')[1]
    assert "selftest-" not in page.split('id="unmatched"')[0].split("Unmatched card events")[1]


def test_self_test_explains_an_unreachable_dashboard_url(tmp_path):
    client = signed_in(with_users(callback_app(tmp_path)), "admin")  # DASHBOARD_URL: port 9
    page = client.post("/settings/self-test", follow_redirects=True).get_data(as_text=True)
    assert "failed" in page and "Could not reach http://127.0.0.1:9/wecom/callback" in page


def test_after_click_page_saves_the_settings(tmp_path):
    app = with_users(callback_app(tmp_path))
    make_campaign(app)
    client = signed_in(app, "staff")
    assert "After a click" in client.get("/settings/cards/1/after-click").get_data(as_text=True)
    response = client.post("/settings/cards/1/after-click", data={"mode": "button", "replace_name": ""})
    assert "Give the caption" in response.get_data(as_text=True)
    response = client.post("/settings/cards/1/after-click", follow_redirects=True,
                           data={"mode": "button", "replace_name": "已投票"})
    assert "saved" in response.get_data(as_text=True) and "已投票" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(CardVersion, 1).after_click == {"mode": "button", "replace_name": "已投票"}
    assert signed_in(app, "manager").get("/settings/cards/1/after-click").status_code == 403


def test_close_poll_button_with_csrf_on_runs_the_worker_job(tmp_path):
    with FakeWeCom() as fake:
        app = with_users(callback_app(tmp_path, WTF_CSRF_ENABLED=True, WECOM_CORP_ID=fake.corp_id,
                                      WECOM_SECRET=fake.secret, WECOM_API_BASE=fake.base_url))
        app.extensions["huey"].immediate = True  # the job runs at once, in this thread
        make_campaign(app, response_code=fake.issue_response_code())
        client = signed_in(app, "staff")
        assert client.post("/settings/campaigns/1/close-poll").status_code == 400  # no CSRF token
        token = _token(client, "/settings/campaigns/1/close-poll")
        page = client.post("/settings/campaigns/1/close-poll", data={"csrf_token": token},
                           follow_redirects=True).get_data(as_text=True)
        assert "Closing the poll" in page and len(fake.calls("/message/update_template_card")) == 1
        assert "1 send(s) updated, 1 response code(s) used" in " ".join(page.split())
        page = client.post("/settings/campaigns/1/close-poll", data={"csrf_token": token},
                           follow_redirects=True).get_data(as_text=True)
        assert "No unused response code left" in page
