"""Sign in with WeCom in Chromium, offline through the real code path: the login page's WeCom
button, the sandbox's QR-code page, an employee chosen, and the page asked for, signed in; and a
link in a sandbox card that opens as its employee, as inside the WeCom client (issue 19, points 5
and 8)."""
import re
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from dashboard import wecom_app
from dashboard.auth import service as auth_service
from dashboard.extensions import db
from dashboard.models import User
from dashboard.sandbox import seed_directory
from tests.conftest import PASSWORD
from tests.e2e.test_login import sign_in

pytestmark = pytest.mark.e2e

WANGFANG = "王芳"  # sandbox employee wangfang, 研发总监 in 研发部, linked below to a manager


@pytest.fixture
def site(app):
    """A fresh sandbox app over real HTTP: its WeCom API and sign-in pages at its own address, the
    sandbox's employees, and a manager linked to the employee wangfang."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config.update(DASHBOARD_URL=base, WECOM_API_BASE=f"{base}/sandbox/cgi-bin",
                      WECOM_OAUTH_BASE=f"{base}/sandbox/oauth", WECOM_SSO_BASE=f"{base}/sandbox/sso")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    with app.app_context():
        seed_directory()
        auth_service.create_user("fang.manager", "manager", PASSWORD, actor="test")
        db.session.scalar(db.select(User).filter_by(username="fang.manager")).wecom_userid = "wangfang"
        db.session.commit()
    yield base
    server.shutdown()
    thread.join(timeout=5)


def signed_in_as(page, username):
    expect(page.locator(".navbar-text")).to_contain_text(username)


def test_signing_in_with_wecom_lands_on_the_page_asked_for(page, site):
    page.goto(f"{site}/reports/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Freports%2F$"))
    page.get_by_role("link", name="Sign in with WeCom").click()
    expect(page).to_have_url(re.compile(re.escape(f"{site}/sandbox/sso/wwlogin/sso/login?login_type=CorpApp&")))
    expect(page.get_by_role("heading", name="Scan to sign in")).to_be_visible()
    expect(page.get_by_role("img", name="QR code")).to_be_visible()
    page.get_by_role("button", name=re.compile(WANGFANG)).click()
    expect(page).to_have_url(f"{site}/reports/")
    signed_in_as(page, "fang.manager")


def test_a_link_in_a_sandbox_card_opens_signed_in_as_its_employee(page, site, app):
    card = {"card_type": "text_notice", "main_title": {"title": "Lunch results"},
            "card_action": {"type": 1, "url": f"{site}/reports/"},
            "jump_list": [{"type": 1, "title": "View the results", "url": f"{site}/reports/"}]}
    with app.app_context():
        wecom_app.client().send_template_card(card, touser=["wangfang"])
    sign_in(page, site, "staff")  # whoever works the sandbox's inboxes
    page.goto(f"{site}/sandbox/?user=wangfang")
    with page.context.expect_page() as opened:
        page.get_by_test_id("inbox-card").get_by_role("link", name="View the results").click()
    report = opened.value
    expect(report).to_have_url(f"{site}/reports/")  # no list of employees on the way
    signed_in_as(report, "fang.manager")
