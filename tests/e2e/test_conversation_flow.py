"""The app talks back, in a browser (issue 26, point 10): in the sandbox an employee types 投票,
the demo rule answers with the starter poll card (sent by the worker), the employee votes, and
the vote shows in the report of the rule's standing campaign."""
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from dashboard import demo, tasks
from dashboard.extensions import db
from dashboard.models import ReplyCampaign
from tests.e2e.test_login import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def site(app):
    """The app over real HTTP as its own WeCom, `flask demo seed` done, and the task worker."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config.update(DASHBOARD_URL=base, WECOM_API_BASE=f"{base}/sandbox/cgi-bin")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    with app.app_context():
        demo.seed()  # the gallery's cards, the sandbox directory and the demo reply rules
    with tasks.running(app):
        yield base
    server.shutdown()
    thread.join(timeout=5)


def test_an_employee_types_投票_votes_on_the_poll_and_the_report_counts_it(page, site, app):
    sign_in(page, site, "staff")
    page.goto(f"{site}/sandbox/?user=zhangwei")
    box = page.get_by_label("Message to the app")
    box.fill("投票")
    box.press("Enter")
    expect(page.get_by_test_id("own-message").last).to_contain_text("投票")
    expect(box).to_have_value("")
    card = page.get_by_test_id("inbox-card").last  # the worker sends it within seconds
    expect(card).to_contain_text("When should we hold the offsite?", timeout=20_000)
    card.locator(".wc-option", has_text="Fri 21 June").click()
    card.get_by_role("button", name="Vote").click()
    expect(card.locator(".sandbox-status")).to_contain_text("Delivered")
    with app.app_context():
        campaign_id = db.session.scalar(db.select(ReplyCampaign.campaign_id))
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, site, "manager")  # reports are the managers'
    page.goto(f"{site}/reports/{campaign_id}")
    expect(page.locator("[data-figure=responders]")).to_have_text("1")
    expect(page.locator("tr[data-key=june_21] td[data-value]")).to_have_attribute("data-value", "1")
    expect(page.locator("tr[data-key=june_14] td[data-value]")).to_have_attribute("data-value", "0")
