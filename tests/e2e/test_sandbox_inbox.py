"""The whole loop in a browser: send a vote card to two sandbox employees, vote as each in their
inbox, and read both votes in the campaign report (issue 7, point 8)."""
import re
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from dashboard import tasks
from dashboard.cards import service as cards
from dashboard.extensions import db
from dashboard.sandbox import seed_directory
from tests.e2e.test_login import sign_in

pytestmark = pytest.mark.e2e

LUNCH = {"card_type": "vote_interaction", "main_title": {"title": "Lunch on Friday?"},
         "checkbox": {"question_key": "q_lunch", "mode": 0, "option_list": [
             {"id": "noodles", "text": "Noodles", "is_checked": False},
             {"id": "rice", "text": "Rice", "is_checked": False}]},
         "submit_button": {"text": "Vote", "key": "submit_vote"}}


@pytest.fixture
def sandbox_site(app):
    """The app over real HTTP, its own WeCom (DASHBOARD_URL points at it), and the task worker."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config.update(DASHBOARD_URL=base, WECOM_API_BASE=f"{base}/sandbox/cgi-bin")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    with app.app_context():
        seed_directory()
        cards.create_card("Lunch vote", LUNCH, actor="test")
        db.session.commit()
    with tasks.running(app):
        yield base
    server.shutdown()
    thread.join(timeout=5)


def send_campaign(page, base, name="Friday lunch", people=("zhangwei", "lina")) -> str:
    """Through the campaign pages: read the directory, name, pick the card and people, send;
    returns the campaign's id."""
    page.goto(f"{base}/campaigns/")
    page.get_by_role("button", name="Refresh directory").click()
    expect(page.get_by_role("alert").first).to_contain_text("50 people")
    page.goto(f"{base}/campaigns/new")
    page.fill("#name", name)
    page.select_option("#card_version", label="Lunch vote · v1 (vote_interaction)")
    page.get_by_role("button", name="Save and choose recipients").click()
    page.fill("#pasted", "\n".join(people))
    page.get_by_role("button", name="Save and check").click()
    page.get_by_role("button", name=re.compile(f"Send now to {len(people)} people")).click()
    expect(page).to_have_url(re.compile(r"/campaigns/\d+$"))
    return page.url.rsplit("/", 1)[1]


def vote(page, base, userid, option):
    page.goto(f"{base}/sandbox/?user={userid}")
    card = page.get_by_test_id("inbox-card").first  # appears once the worker has sent it
    card.locator(".wc-option", has_text=option).click()
    card.get_by_role("button", name="Vote").click()
    expect(card.locator(".sandbox-status")).to_contain_text("Delivered")
    expect(page.get_by_test_id("callbacks")).to_contain_text("HTTP 200")


def test_two_employees_vote_in_their_inboxes_and_the_report_shows_both(page, sandbox_site):
    sign_in(page, sandbox_site, "staff")
    campaign_id = send_campaign(page, sandbox_site)
    vote(page, sandbox_site, "zhangwei", "Rice")
    vote(page, sandbox_site, "lina", "Noodles")
    page.goto(f"{sandbox_site}/reports/{campaign_id}")
    expect(page.locator("[data-figure=responders]")).to_have_text("2")
    for key in ("rice", "noodles"):
        expect(page.locator(f"tr[data-key={key}] td[data-value]")).to_have_attribute("data-value", "1")
