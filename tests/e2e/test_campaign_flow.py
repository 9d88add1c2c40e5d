"""The whole campaign flow in Chromium: card, recipients, check, send, live progress to done."""
import re

import pytest
from playwright.sync_api import expect

from dashboard import tasks
from dashboard.extensions import db
from tests.campaign_factories import card_version, userids, wired_app
from tests.conftest import PASSWORD
from tests.fake_wecom import FakeWeCom

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


@pytest.fixture
def app(tmp_path, fake):
    """Overrides the shared app: this one calls the fake WeCom, and has a card to send."""
    app = wired_app(tmp_path, fake)
    with app.app_context():
        card_version(name="Friday dinner RSVP")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_choose_card_pick_recipients_check_send_and_watch_progress(app, fake, live_server, page):
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "staff")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")

    page.goto(f"{live_server}/campaigns/")
    page.get_by_role("link", name="New campaign").click()
    page.fill("input[name=name]", "Dinner invitation")
    page.select_option("select[name=card_version]", label="Friday dinner RSVP · v1 (button_interaction)")
    page.get_by_role("button", name="Save and choose recipients").click()
    page.wait_for_url(re.compile(r"/directory/reading\?next="))  # first need: the directory was never read
    expect(page.locator("#directory-reading")).to_contain_text("Reading the directory from WeCom")
    with tasks.running(app):  # the worker reads it; the page goes on by itself
        page.locator("#chosen-ts-control").fill("研发", timeout=15_000)
    page.locator(".ts-dropdown .option[data-value='department:2']").click()
    assert page.url.endswith("/recipients")
    page.fill("textarea[name=pasted]", "zhaoliu")
    guests = "userid\n" + "\n".join(userids(1200, "guest"))
    page.set_input_files("input[name=upload]", files=[
        {"name": "guests.csv", "mimeType": "text/csv", "buffer": guests.encode()}])
    expect(page.locator("#import-report")).to_contain_text("1200 added to the list")  # read at once
    page.get_by_role("button", name="Save and check").click()
    page.wait_for_url(re.compile(r"/check$"), timeout=30_000)  # 1,203 people expanded, on a busy machine too

    assert page.locator("#check-recipients").inner_text() == "1,203"
    assert page.locator("#check-calls").inner_text() == "2"
    expect(page.locator(".campaign-card-preview")).to_contain_text("报名确认")  # rendered on load
    page.get_by_text("The request body (JSON)").click()
    assert "\"task_id\": \"c1-" in page.locator(".json-preview").inner_text()
    app.config["CAMPAIGN_CONCURRENT_CALLS"] = 1  # one batch after the other,
    fake.latency = 2.0  # each longer than a poll interval: the bar is seen at 50 %
    with tasks.running(app):
        page.get_by_role("button", name=re.compile("Send now to 1,203 people")).click()
        page.evaluate("window.stillTheSamePage = true")
        page.wait_for_selector(".progress-bar:text('50%')", timeout=15_000)
        assert page.evaluate("window.stillTheSamePage") is True  # updated without reloading
        assert "1 of 2 batches done" in page.locator("#progress").inner_text()
        page.wait_for_selector("#campaign-status[data-status=sent]", timeout=20_000)
    assert page.locator(".progress-bar").inner_text() == "100%"
    assert page.locator("[data-field=accepted]").inner_text() == "3"
    assert page.locator("#summary-failed").inner_text() == "1,200"  # led by what a manager asks
    expect(page.locator("#summary-reasons")).to_contain_text("1,200")
    assert sorted(fake.deliveries) == ["lisi", "wangwu", "zhaoliu"]
