"""The report in a real browser: every chart shows the numbers of its table, and a live report
updates itself without reloading the page."""
import pytest
from playwright.sync_api import expect

from dashboard.extensions import db
from dashboard.models import Campaign, utcnow
from tests.e2e.test_login import sign_in
from tests.test_reports import BUTTON_CARD, lunch_poll, make_campaign, make_event, make_ledger, make_version

pytestmark = pytest.mark.e2e

CHART_NUMBERS = """chart => {
  const bars = [...chart.querySelectorAll('.bar-value')].map(t => parseInt(t.textContent.replace(/,/g, ''), 10));
  const points = [...chart.querySelectorAll('circle.point')].map(c => Number(c.dataset.value));
  return bars.length ? bars : points;
}"""
TABLE_NUMBERS = """table => [...table.querySelectorAll('tbody td[data-value]')]
  .map(td => parseInt(td.textContent.replace(/,/g, ''), 10))"""


def party(app) -> int:
    with app.app_context():
        version = make_version(BUTTON_CARD, "Party")
        campaign = make_campaign(version, name="Party", started_at=utcnow(), finished_at=utcnow())
        make_ledger(campaign, {"u1": "accepted", "u2": "accepted", "u3": "accepted"})
        make_event(campaign, "u1", 10, key="join", selected={"q_meal": ["meat"]})
        make_event(campaign, "u2", 30, key="join", selected={"q_meal": ["veg"]})
        make_event(campaign, "u3", 40, key="mute", event="template_card_menu_event")
        db.session.commit()
        return campaign.id


@pytest.mark.parametrize("which", ["poll", "party"])
def test_every_chart_shows_the_numbers_of_its_table(app, live_server, page, which):
    with app.app_context():
        campaign_id = lunch_poll().id if which == "poll" else None
    campaign_id = campaign_id or party(app)
    sign_in(page, live_server, "manager")
    page.goto(f"{live_server}/reports/{campaign_id}")
    charts = page.locator("svg[data-chart]")
    names = [charts.nth(i).get_attribute("data-chart") for i in range(charts.count())]
    assert {"question-1", "clicks"} <= set(names) and ("menu" in names) == (which == "party")
    assert "timeline" not in names  # a handful of answers: a sentence instead (test_phone_layout.py)
    for name in names:
        shown = page.locator(f'svg[data-chart="{name}"]').evaluate(CHART_NUMBERS)
        listed = page.locator(f'table[data-table="{name}"]').evaluate(TABLE_NUMBERS)
        assert shown == listed and shown, name
        assert page.locator(f'svg[data-chart="{name}"]').is_visible()
    if which == "poll":
        assert page.locator('svg[data-chart="question-1"]').evaluate(CHART_NUMBERS) == [2, 1, 2, 0]


@pytest.mark.slow
def test_a_live_report_updates_itself_without_a_reload(app, live_server, page):
    campaign_id = party(app)
    sign_in(page, live_server, "manager")
    page.goto(f"{live_server}/reports/{campaign_id}")
    assert page.locator("#live-status").get_attribute("data-live") == "1"
    assert page.locator('[data-figure="responders"]').inner_text() == "2"
    page.evaluate("window.notReloaded = true")
    with app.app_context():
        make_event(db.session.get(Campaign, campaign_id), "u3", 99, key="decline", selected={"q_meal": ["veg"]})
        db.session.commit()
    expect(page.locator('[data-figure="responders"]')).to_have_text("3", timeout=10_000)
    assert page.evaluate("window.notReloaded") is True
    assert page.locator('table[data-table="clicks"] tr[data-key="decline"] td[data-value]').inner_text() == "1"
