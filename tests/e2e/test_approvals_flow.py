"""Approvals in a browser, with the sandbox as WeCom: a send to more people than APPROVAL_ABOVE
waits; the approver's card arrives in their sandbox inbox, their click on Approve goes to our
/wecom/callback, turns the card into the outcome and starts the send; a rejection on the web
page returns the campaign to draft with the reason its author reads."""
import re
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from dashboard import tasks
from dashboard.approvals import service as approvals
from dashboard.auth.service import set_wecom_userid
from dashboard.campaigns import service as campaigns
from dashboard.cards import service as cards
from dashboard.extensions import db
from dashboard.models import Card, User
from dashboard.sandbox import seed_directory
from tests.e2e.test_login import sign_in
from tests.e2e.test_sandbox_inbox import LUNCH, send_campaign

pytestmark = pytest.mark.e2e

RECIPIENTS = ["wangfang", "liuyang", "chenjie"]  # neither the author (zhangwei) nor the approver (lina)
APPROVER, AUTHOR = "lina", "zhangwei"
REASON = "Wrong week: the offsite moved to June."
# The approval card's button and what it becomes, in DEFAULT_LANGUAGE (the pages stay in the
# browser's English).
BUTTONS = {"zh": ("批准", r"已批准 · 李娜 · \d\d:\d\d"), "en": ("Approve", r"Approved · 李娜 · \d\d:\d\d")}


@pytest.fixture
def site(app):
    """The app over real HTTP as its own WeCom, with the task worker; sends to more than one
    person wait for approval; the admin is the sandbox's lina, the staff author its zhangwei."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config.update(DASHBOARD_URL=base, WECOM_API_BASE=f"{base}/sandbox/cgi-bin", APPROVAL_ABOVE=1)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    with app.app_context():
        seed_directory()
        cards.create_card("Lunch vote", LUNCH, actor="test")
        set_wecom_userid(user("admin"), APPROVER, actor="test")
        set_wecom_userid(user("staff"), AUTHOR, actor="test")
        db.session.commit()
    with tasks.running(app):
        yield base
    server.shutdown()
    thread.join(timeout=5)


def user(username: str) -> User:
    return db.session.scalar(db.select(User).filter_by(username=username))


def inbox_cards(page, base, userid):
    """The cards in a sandbox inbox, once its feed has loaded."""
    page.goto(f"{base}/sandbox/?user={userid}")
    expect(page.get_by_test_id("inbox")).not_to_contain_text("Loading…")
    return page.get_by_test_id("inbox-card")


def approve_in_the_inbox(page, base, language):
    """As the approver in their sandbox inbox: their card came, the recipients' did not; click."""
    button, outcome = BUTTONS[language]
    card = inbox_cards(page, base, APPROVER).filter(has_text="Friday lunch for three")
    expect(card.get_by_role("button", name=button, exact=True)).to_be_visible()  # the worker sent it
    for userid in RECIPIENTS:
        expect(inbox_cards(page, base, userid)).to_have_count(0)
    page.goto(f"{base}/sandbox/?user={APPROVER}")
    card.get_by_role("button", name=button, exact=True).click()
    click = page.get_by_test_id("callbacks").locator("li", has_text="“approve”")  # not enter_agent's
    expect(click).to_contain_text("HTTP 200")
    expect(card.locator(".sandbox-status")).to_contain_text("card replaced")  # by the passive reply
    expect(card).to_contain_text(re.compile(outcome))
    expect(card.get_by_role("button", name=button, exact=True)).to_have_count(0)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_an_approver_approves_in_the_sandbox_inbox_and_the_campaign_starts(page, site, app, language):
    app.config["DEFAULT_LANGUAGE"] = language
    sign_in(page, site, "staff")
    campaign_id = send_campaign(page, site, "Friday lunch for three", RECIPIENTS)
    expect(page.locator("#campaign-status")).to_have_attribute("data-status", "awaiting_approval")
    expect(page.locator("#approvals [data-decision=waiting]")).to_contain_text("admin")
    approve_in_the_inbox(page, site, language)
    page.goto(f"{site}/campaigns/{campaign_id}")
    expect(page.locator("#campaign-status")).to_have_attribute("data-status", re.compile("sending|sent"))
    expect(page.locator("#approvals [data-decision=approved]")).to_contain_text("in WeCom")
    for userid in RECIPIENTS:
        received = inbox_cards(page, site, userid)
        expect(received.filter(has_text="Lunch on Friday?")).to_have_count(1)
        expect(received).to_have_count(1)


def waiting_approval(app) -> tuple[int, int]:
    """A campaign by the staff author to three people, sent with the service functions, so it
    awaits approval: (campaign id, approval id)."""
    with app.app_context():
        author = user("staff")
        version = db.session.scalar(db.select(Card).filter_by(name="Lunch vote")).versions[0]
        campaign = campaigns.create_campaign(name="Friday lunch for three", card_version=version,
                                             recipients={"users": RECIPIENTS}, actor=author)
        campaigns.send(campaign, actor=author)
        db.session.commit()
        return campaign.id, approvals.current(campaign).id


def test_an_admin_rejects_on_the_web_and_the_author_reads_why(page, site, app):
    campaign_id, approval_id = waiting_approval(app)
    sign_in(page, site, "admin")
    page.goto(f"{site}/approvals/{approval_id}")
    expect(page.locator("#campaign-status")).to_have_attribute("data-status", "awaiting_approval")
    page.fill("#decide textarea[name=reason]", REASON)
    page.locator("#reject").click()
    expect(page.locator("#decision")).to_contain_text("Rejected by admin")
    expect(page.locator("#campaign-status")).to_have_attribute("data-status", "draft")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, site, "staff")
    page.goto(f"{site}/campaigns/{campaign_id}")
    expect(page.locator("#campaign-status")).to_have_attribute("data-status", "draft")
    expect(page.locator("#progress-state")).to_contain_text(REASON)
    expect(page.locator("#approvals [data-decision=rejected]")).to_contain_text("on the web")
    expect(page.locator("#approval-reason")).to_contain_text(REASON)
    expect(page.locator("#actions")).to_contain_text("Check and send")
