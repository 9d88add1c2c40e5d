"""Warn before, not after: the check page lists the people WeCom refused at earlier sends and
leaves them out on request; the campaign page leads with sent, answered and not delivered."""
import re

import pytest

from dashboard.campaigns import delivery, queries, service
from dashboard.extensions import db
from dashboard.models import Campaign, CardEvent
from dashboard.models.event import REPLY
from tests.campaign_factories import make_campaign, wired
from tests.fake_wecom import FakeWeCom

EVERYONE = ["lisi", "wangwu", "ghost", "zhaoliu"]  # ghost is nobody in WeCom


@pytest.fixture
def fake():
    with FakeWeCom(unlicensed=["wangwu"]) as fake:
        yield fake


@pytest.fixture
def app(tmp_path, fake):
    with wired(tmp_path, fake) as app:
        with app.app_context():
            service.refresh_directory(actor="test")
        yield app


def sent(recipients: list[str]) -> int:
    """A campaign sent to these people and delivered by the fake WeCom (in an app context)."""
    campaign = make_campaign({"users": recipients})
    service.send(campaign, actor="test")
    db.session.commit()
    delivery.run(campaign.id)
    return campaign.id


@pytest.fixture
def earlier(app):
    with app.app_context():
        return sent(["lisi", "wangwu", "ghost"])


@pytest.fixture
def draft(app, earlier):
    with app.app_context():
        return make_campaign({"users": EVERYONE}).id


def test_the_check_lists_whom_wecom_refused_before_with_name_reason_and_time(client, login, draft):
    login("staff")
    page = client.get(f"/campaigns/{draft}/check").get_data(as_text=True)
    section = re.search(r'<section class="alert alert-warning" id="refused".*?</section>', page, re.S)[0]
    assert "WeCom refused 2 of these people at earlier sends" in section
    assert '<span class="person" title="wangwu">王五</span> · WeCom: the member has no interface licence.' in section
    assert "ghost · WeCom: unknown userid, or outside the app&#39;s range." in section
    assert "lisi" not in section and "zhaoliu" not in section  # reached, or never messaged
    assert "Leave them out" in section


def test_leave_them_out_excludes_them_and_the_count_drops(app, client, login, draft):
    login("staff")
    assert re.search(r'id="check-recipients">4<', client.get(f"/campaigns/{draft}/check").get_data(as_text=True))
    response = client.post(f"/campaigns/{draft}/leave-out")
    assert response.headers["Location"].endswith(f"/campaigns/{draft}/check")
    page = client.get(f"/campaigns/{draft}/check").get_data(as_text=True)
    assert re.search(r'id="check-recipients">2<', page) and 'id="refused"' not in page
    with app.app_context():
        spec = db.session.get(Campaign, draft).recipients
    assert sorted(spec["exclude"]["users"]) == ["ghost", "wangwu"] and spec["users"] == EVERYONE


def test_a_later_send_that_reached_them_clears_the_warning(app, fake, earlier):
    fake.add_user("ghost", "鬼", [1])
    fake.unlicensed.clear()
    with app.app_context():
        assert {r.userid for r in queries.refused(EVERYONE)} == {"ghost", "wangwu"}
        sent(["ghost"])
        assert [(r.userid, r.state) for r in queries.refused(EVERYONE)] == [("wangwu", "unlicensed")]
        assert queries.refused([]) == [] and queries.refused(["lisi"]) == []


def test_the_campaign_page_leads_with_sent_answered_and_why_not_delivered(app, client, login, earlier):
    with app.app_context():
        db.session.add(CardEvent(dedupe_key="k1", campaign_id=earlier, from_user="lisi",
                                 msg_type="event", event=REPLY, event_key="join", create_time=1))
        db.session.commit()
        task_id = db.session.get(Campaign, earlier).batches[0].task_id
    login("manager")
    page = client.get(f"/campaigns/{earlier}").get_data(as_text=True)
    assert re.search(r'id="summary-sent">1<', page) and "of 3 people" in page
    assert re.search(r'id="summary-answered">1<', page) and re.search(r'id="summary-failed">2<', page)
    reasons = re.search(r'id="summary-reasons">(.*?)</ul>', page, re.S)[1]
    assert "1 person</a>: WeCom: the member has no interface licence." in reasons
    assert "1 person</a>: WeCom: unknown userid, or outside the app&#39;s range." in reasons
    fold = page.index('<details class="card shadow-sm mb-4" id="technical">')
    assert page.index(task_id) > fold and page.index("msgid") > fold
    assert page.index('id="summary"') < page.index('id="ledger"') < fold
    assert '<td class="text-break"><span class="person" title="lisi">李四</span></td>' in page


def test_on_a_phone_the_ledger_keeps_name_and_state_and_folds_the_rest(app, client, login, earlier):
    login("manager")
    page = client.get(f"/campaigns/{earlier}").get_data(as_text=True)
    ledger = re.search(r'id="ledger".*?</table>', page, re.S)[0]
    heads = re.findall(r"<th( class=\"[^\"]*\")?>([^<]*)</th>", ledger)
    assert [name for css, name in heads if "d-none" not in css] == ["Name", "State"]
    assert "table-responsive" not in ledger  # nothing to scroll sideways: it fits
