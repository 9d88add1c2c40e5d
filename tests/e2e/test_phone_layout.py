"""The pages managers read, on a phone (375 × 740): no page wider than the screen, each table's key
columns in view, chart text readable, names shown with the userid on hover, and the designer's
problem list naming fields as the form does (its JS mirror of cards/spec.field_label). On a taller
phone (375 × 812, issue 19): the report, the campaign pages and the login page, every part opened:
no sideways scroll of the page, each table fits or scrolls inside its box, charts fit their box,
the remind button in reach; and the approval pages, as the approver, with Approve in reach."""
import json
from datetime import timedelta

import pytest
from flask_babel import force_locale

from dashboard.approvals import service as approvals
from dashboard.auth.service import set_wecom_userid
from dashboard.campaigns import service as campaigns
from dashboard.cards import service as cards
from dashboard.cards.spec import field_label
from dashboard.extensions import db
from dashboard.models import CallbackLog, CardEvent, DirectoryDepartment, User, utcnow
from tests.e2e.test_login import sign_in
from tests.test_field_labels import BAD_VOTE, CASES, UNKNOWN
from tests.test_reports import (BUTTON_CARD, VOTE_CARD, lunch_poll, make_campaign, make_directory,
                                make_event, make_ledger, make_version, stored)

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 740}
NAMES = {f"u{i}": (name, [2]) for i, name in enumerate(
    ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强"], start=1)}
LONG = "一个很长很长的部门名称用来检查手机上的表格是否会把页面撑宽" * 2

# page -> the cells that must stay in view (each selector: at least one cell, all inside the screen)
KEY_CELLS = {
    "/": ["#week-campaigns tbody td:nth-child(1)", "#week-campaigns tbody td:nth-child(2)",
          "#week-campaigns tbody td:nth-child(4)", "#feed strong"],
    "/reports/": ["table tbody td:nth-child(1)", "table tbody td:nth-child(2)"],
    "/reports/{poll}": ['table[data-table="question-1"] tbody td:nth-child(1)',
                        'table[data-table="question-1"] tbody td:nth-child(2)'],
    "/reports/{poll}/answers": ['#answers td[data-cell="name"]', '#answers td[data-cell="answer"]'],
    "/reports/{poll}/waiting": ['#waiting td[data-cell="name"]'],
    "/reports/{poll}/departments": ["#departments tbody td:nth-child(1)",
                                    "#departments tbody td:nth-child(3)"],
    "/reports/{poll}/people/u1": ["#history tbody td:nth-child(2)", "#history tbody td:nth-child(3)"],
    "/reports/{party}": ['svg[data-chart="timeline"]'],
    "/settings/": ["#callback-log tbody td:nth-child(3)", "#unmatched tbody td:nth-child(3)",
                   "#credentials tbody td:nth-child(1)"],
    "/settings/cards/{card}/after-click": [],
    "/settings/campaigns/{poll}/close-poll": [],
    "/api-docs/": ["section table tbody td:nth-child(1)"],
    "/campaigns/{poll}": ["#summary-sent", "#ledger table tbody td:nth-child(1)",
                          "#ledger table tbody td:nth-child(2)"],
    "/cards/": [".cards-table tbody td:nth-child(1)", ".cards-table tbody td:nth-child(3)",
                ".cards-table tbody td:last-child"],
    "/account/tokens": [],
}

PAGE_WIDTH = "() => document.documentElement.scrollWidth"
IN_VIEW = """([selector, width]) => [...document.querySelectorAll(selector)].map(el => {
  const box = el.getBoundingClientRect();
  return {text: el.textContent.trim().slice(0, 30), left: box.left, right: box.right, shown: box.width > 0};
})"""
CHART_TEXT = """() => [...document.querySelectorAll('svg.report-chart text')].map(t => {
  const svg = t.ownerSVGElement;
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return {text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize) * scale};
})"""
TALL_PHONE = {"width": 375, "height": 812}
# page -> what must be on it (at least one each), besides the tables and charts every page is checked for
PHONE_PAGES = {
    "/reports/{poll}": ['table[data-table="question-1"]', 'svg[data-chart="question-1"]',
                        ".report-figures", 'form[action$="/remind"] button'],
    "/reports/{party}": ['svg[data-chart="timeline"]', 'svg[data-chart="clicks"]', 'table[data-table="timeline"]'],
    "/reports/{poll}/answers": ["#answers"],
    "/reports/{poll}/waiting": ["#waiting", 'form[action$="/remind"] button'],
    "/reports/{poll}/departments": ["#departments"],
    "/campaigns/{poll}": ["#summary-sent", "#ledger table", "#actions", "#technical table"],
    "/campaigns/{party}": ["#ledger table", "#technical table"],
    "/reports/{unbroken}": ['svg[data-chart="question-1"]', "#report-live", 'form[action$="/remind"] button'],
    "/reports/{unbroken}/answers": ["#answers"],
    "/reports/{unbroken}/waiting": ["#waiting"],
    "/campaigns/{unbroken}": ["#ledger table", "#actions button"],
}
UNBROKEN = "QuarterlyAllHandsRegistrationShanghaiBeijingShenzhen2026"  # no place to wrap a line
# The approval pages, as the approver: what must be on them (issue 20's approvals on a phone).
APPROVAL_PAGES = {
    "/approvals/": ["#waiting li a", "#mine"],
    "/approvals/{approval}": ["#summary .card", "#approvers li", ".campaign-card-preview",
                              "#decide textarea[name=reason]", "#approve", "#reject"],
}
OPEN_ALL = "() => document.querySelectorAll('details').forEach(d => { d.open = true; })"
# Elements (every shown table, and each page's own list) outside the screen: an element that
# scrolls sideways inside a box (.table-responsive) counts as in view when that box is.
OUT_OF_VIEW = """([selector, all]) => [...document.querySelectorAll(selector)].filter(el => {
  if (all && !el.getClientRects().length) return false;
  let box = el.parentElement;
  while (box && box !== document.body && !['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) {
    box = box.parentElement;
  }
  const shown = (box && box !== document.body ? box : el).getBoundingClientRect();
  const own = el.getBoundingClientRect();
  return !(own.width > 0 && shown.left >= -0.5 && shown.right <= innerWidth + 0.5);
}).map(el => el.id || el.dataset.table || el.outerHTML.slice(0, 80))"""
# Charts as wide as their box at most, so scaled down to the phone (viewBox 360 wide: reports/charts.py).
CHARTS = """() => [...document.querySelectorAll('svg.report-chart')].map(svg => {
  const box = svg.getBoundingClientRect();
  return {chart: svg.dataset.chart, width: box.width, room: svg.parentElement.clientWidth, right: box.right};
}).filter(c => !(c.width > 0 && c.width <= c.room + 0.5 && c.right <= innerWidth + 0.5))"""


def seed(app) -> dict:
    """A poll with four answers (a sentence for its timeline), a party with eight answers in three
    minutes this week (per-minute bars), names in the directory, a long department name, callbacks."""
    with app.app_context():
        make_directory(NAMES, {1: ("总部", None), 2: (LONG, 1)})
        db.session.execute(db.update(DirectoryDepartment).values(refreshed_at=utcnow()))
        poll = lunch_poll()
        now = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=10)
        party = make_campaign(make_version(BUTTON_CARD, "Party"), name="年会报名 " * 4,
                              started_at=now, finished_at=now)
        make_ledger(party, {u: "accepted" for u in NAMES}, sent_at=now)
        for i, userid in enumerate(NAMES):
            event = make_event(party, userid, 20 * i, key="join")
            event.received_at, event.create_time = now + timedelta(seconds=20 * i), int(now.timestamp()) + 20 * i
        db.session.add(CardEvent(dedupe_key="stray", campaign_id=None, from_user="u1", msg_type="event",
                                 event="template_card_event", event_key="x", task_id="t" * 60,
                                 card_type="vote_interaction", create_time=1, received_at=now))
        db.session.add(CallbackLog(method="POST", outcome="unmatched", http_status=200,
                                   reason="unknown_task", task_id="t" * 60, remote_addr="10.0.0.1",
                                   duration_ms=3, received_at=now))
        card = cards.create_card("Bad vote", BAD_VOTE)
        stored()
        return {"poll": poll.id, "party": party.id, "card": card.id}


def seed_unbroken(app) -> int:
    """A campaign still sending whose name, card, option, notes and userids have no place to wrap."""
    with app.app_context():
        card = {**VOTE_CARD, "checkbox": {**VOTE_CARD["checkbox"], "option_list": [
            {"id": "a", "text": UNBROKEN, "is_checked": False}, {"id": "b", "text": "面条", "is_checked": False}]}}
        campaign = make_campaign(make_version(card, UNBROKEN), name=UNBROKEN, status="sending",
                                 started_at=utcnow(), finished_at=None)
        campaign.notes = f"https://intranet.example.com/{UNBROKEN}?from=card"
        people = [f"{UNBROKEN}.{i}" for i in range(4)]
        make_ledger(campaign, {**dict.fromkeys(people[:3], "accepted"), people[3]: "invalid"})
        make_event(campaign, people[0], 10, selected={"q_lunch": ["a"]})
        stored()
        return campaign.id


def seed_approval(app) -> int:
    """An approval awaiting the admin's decision, asked through the service functions: a send by
    staff, above APPROVAL_ABOVE, whose name, notes and recipients have no place to wrap (and are
    not in the directory, so the check's warning on the page lists them)."""
    app.config["APPROVAL_ABOVE"] = 1
    with app.app_context():
        staff, admin = (db.session.scalar(db.select(User).filter_by(username=name))
                        for name in ("staff", "admin"))
        set_wecom_userid(admin, "boss", actor="test")
        campaign = campaigns.create_campaign(
            name=UNBROKEN, card_version=make_version(VOTE_CARD, UNBROKEN), actor=staff,
            notes=f"https://intranet.example.com/{UNBROKEN}?from=card",
            recipients={"users": [f"{UNBROKEN}.{i}" for i in range(4)]})
        campaigns.send(campaign, actor=staff)
        db.session.commit()
        return approvals.current(campaign).id


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def tall_phone(browser):
    context = browser.new_context(viewport=TALL_PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def phone_problems(page, url: str, selectors: list[str]) -> list:
    """What on the page at url does not work on the phone, every <details> opened first: the page
    wider than the screen, a selector with nothing shown in view, a table sticking out, a chart
    wider than its box."""
    assert page.goto(url).ok, url
    page.evaluate(OPEN_ALL)
    problems = [(url, "page width", width) for width in [page.evaluate(PAGE_WIDTH)]
                if width > TALL_PHONE["width"]]
    for selector in selectors:
        found = page.locator(selector).count()
        problems += [(url, selector, "missing")] if not found else [
            (url, selector, out) for out in page.evaluate(OUT_OF_VIEW, [selector, False])]
    problems += [(url, "table", out) for out in page.evaluate(OUT_OF_VIEW, ["table", True])]
    return problems + [(url, "chart", chart) for chart in page.evaluate(CHARTS)]


def test_report_campaign_and_login_pages_fit_a_375_by_812_phone(app, live_server, tall_phone):
    ids = {**seed(app), "unbroken": seed_unbroken(app)}
    problems = phone_problems(tall_phone, f"{live_server}/login", ["main form [type=submit]"])
    sign_in(tall_phone, live_server, "admin")
    for path, selectors in PHONE_PAGES.items():
        problems += phone_problems(tall_phone, live_server + path.format(**ids), selectors)
    assert not problems


def test_the_approval_pages_fit_a_375_by_812_phone_with_approve_in_reach(app, live_server, tall_phone):
    approval_id = seed_approval(app)
    sign_in(tall_phone, live_server, "admin")
    problems = []
    for path, selectors in APPROVAL_PAGES.items():
        problems += phone_problems(tall_phone, live_server + path.format(approval=approval_id), selectors)
    tall_phone.goto(f"{live_server}/approvals/{approval_id}")
    box = tall_phone.locator("#approve").bounding_box()
    assert not problems
    assert box["width"] > 0 and 0 <= box["x"] and box["x"] + box["width"] <= TALL_PHONE["width"]


def test_every_page_fits_a_phone_with_its_key_columns_in_view(app, live_server, phone):
    ids = seed(app)
    sign_in(phone, live_server, "admin")
    problems = []  # every page's, so that one run shows them all
    for path, selectors in KEY_CELLS.items():
        url = path.format(**ids)
        assert phone.goto(live_server + url).ok, url
        if (width := phone.evaluate(PAGE_WIDTH)) > PHONE["width"]:
            problems.append((url, "page width", width))
        for selector in selectors:
            cells = phone.evaluate(IN_VIEW, [selector, PHONE["width"]])
            problems += [(url, selector, "no cell")] if not cells else [
                (url, selector, cell) for cell in cells
                if not (cell["shown"] and 0 <= cell["left"] and cell["right"] <= PHONE["width"])]
        problems += [(url, "chart text", text) for text in phone.evaluate(CHART_TEXT) if text["px"] < 11]
    assert not problems


def test_names_with_the_userid_on_hover(app, live_server, phone):
    ids = seed(app)
    sign_in(phone, live_server, "manager")
    phone.goto(f"{live_server}/reports/{ids['poll']}/answers")
    name = phone.locator('#answers tr[data-userid="u1"] td[data-cell="name"] [title]')
    assert (name.inner_text(), name.get_attribute("title")) == ("张伟", "u1")
    phone.goto(f"{live_server}/")
    shown = phone.locator("#feed strong .person")
    assert shown.count() and set(shown.all_inner_texts()) <= {n for n, _ in NAMES.values()}
    assert {shown.nth(i).get_attribute("title") for i in range(shown.count())} <= set(NAMES)


def test_a_small_campaign_timeline_is_a_sentence_and_a_short_one_per_minute_bars(app, live_server, phone):
    ids = seed(app)
    sign_in(phone, live_server, "manager")
    phone.goto(f"{live_server}/reports/{ids['poll']}")
    assert phone.locator('svg[data-chart="timeline"]').count() == 0
    assert phone.locator("#timeline-summary").inner_text().startswith("4 people answered")
    phone.goto(f"{live_server}/reports/{ids['party']}")
    bars = phone.locator('svg[data-chart="timeline"] .column')
    assert [int(v) for v in bars.evaluate_all("els => els.map(e => e.dataset.value)")] == [3, 3, 2]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_designer_names_fields_as_the_server_does(app, live_server, page, language):
    ids = seed(app)
    page.context.add_cookies([{"name": "lang", "value": language, "url": live_server}])
    sign_in(page, live_server, "staff")
    page.goto(f"{live_server}/cards/{ids['card']}")
    link = page.locator("#problems li a").first
    paths = [path for path, *_ in CASES] + UNKNOWN + ["main_title.title"]
    shown = page.evaluate("paths => paths.map(p => DesignerProblems.fieldLabel(p))", paths)
    with app.test_request_context(), force_locale(language):
        expected = [field_label(path) for path in paths]
        first = field_label("checkbox.option_list[2].text")
    assert link.inner_text() == first
    assert shown == expected
    assert json.dumps(shown, ensure_ascii=False).count("option_list[") == UNKNOWN.count("checkbox.option_list[x]")
