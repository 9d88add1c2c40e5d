"""The report pages: charts with their tables, live JSON, privacy, filters in the query string."""
import re
from datetime import timedelta

import pytest

from dashboard.extensions import db
from dashboard.models import AuditLog, Campaign, utcnow
from tests.test_reports import lunch_poll, make_directory


@pytest.fixture
def poll(app):
    with app.app_context():
        return lunch_poll().id


def set_privacy(app, campaign_id, privacy="aggregate"):
    with app.app_context():
        db.session.get(Campaign, campaign_id).privacy = privacy
        db.session.commit()


def test_report_page_has_each_chart_and_its_table(client, login, poll):
    login("manager")
    body = client.get(f"/reports/{poll}").get_data(as_text=True)
    for name in ("question-1", "clicks"):
        assert f'data-chart="{name}"' in body and f'data-table="{name}"' in body
    assert 'data-chart="timeline"' not in body  # four answers: a sentence, not a chart
    assert re.search(r'id="timeline-summary">4 people answered, Mar 2, 9:01 AM–9:02:50 AM\.<', body)
    bars = re.findall(r'<g class="bar[^"]*" transform="[^"]*"\s+data-label="([^"]*)" data-value="(\d+)"', body)
    assert bars[:4] == [("饺子", "2"), ("面条", "1"), ("米饭", "2"), ("沙拉", "0")]
    assert 'data-figure="response_rate">66.7%' in body and "2 min 35 s" not in body
    assert 'data-figure="median">2 min<' in body and "Tie" in body
    assert "cdn" not in body.lower() and "<script>" not in body  # local assets, no inline scripts
    assert 'data-live="0"' in body  # sent long ago: not refreshing itself


def test_live_json_carries_the_figures_and_the_rendered_part(client, login, poll):
    login("manager")
    data = client.get(f"/reports/{poll}/live").get_json()
    assert data["report"]["responders"] == 4 and data["live"] is False and data["median_seconds"] == 155
    assert 'data-chart="question-1"' in data["html"] and "<html" not in data["html"]


def test_live_page_polls_while_sending(app, client, login, poll):
    with app.app_context():
        campaign = db.session.get(Campaign, poll)
        campaign.status, campaign.finished_at = "sent", utcnow()
        db.session.commit()
    login("manager")
    body = client.get(f"/reports/{poll}").get_data(as_text=True)
    assert 'data-live="1"' in body and "js/reports-live.js" in body


def test_who_answered_page_filters_from_the_query_string(app, client, login, poll):
    with app.app_context():
        make_directory({"u1": ("赵一", [2])}, {1: ("总部", 0), 2: ("研发", 1)})
        db.session.commit()
    login("manager")
    option = '["q_lunch", "c"]'
    body = client.get(f"/reports/{poll}/answers", query_string={"option": option}).get_data(as_text=True)
    assert re.findall(r'data-userid="(\w+)"', body) == ["u1", "u3"]
    assert "赵一" in body and "研发" in body and "午餐投票: 米饭" in body and "2 · history" in body
    body = client.get(f"/reports/{poll}/answers?answered=no&option=bogus&page=x").get_data(as_text=True)
    assert re.findall(r'data-userid="(\w+)"', body) == ["u5", "u6"]  # a bad filter is ignored


def test_history_shows_what_counts_and_what_was_replaced(client, login, poll):
    login("manager")
    body = client.get(f"/reports/{poll}/people/u1").get_data(as_text=True)
    assert body.count("<tr>") == 3 and "replaced" in body and "counts" in body
    assert client.get(f"/reports/{poll}/people/u6").status_code == 404


def without_tokens(body: str) -> str:
    """The page without its random CSRF tokens, which could spell a user id by chance."""
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]*', r"\1", body)


def test_aggregate_privacy_hides_who_answered_what(app, client, login, poll):
    set_privacy(app, poll)
    login("manager")
    body = without_tokens(client.get(f"/reports/{poll}/answers").get_data(as_text=True))
    assert "u1" not in body and "aggregates only" in body and 'data-figure="responders">4<' in body
    assert 'data-figure="waiting">2<' in body
    assert client.get(f"/reports/{poll}/people/u1").status_code == 404
    body = without_tokens(client.get(f"/reports/{poll}/waiting").get_data(as_text=True))
    assert "u5" not in body and 'id="waiting-count">2<' in body
    assert "See who" not in client.get(f"/reports/{poll}").get_data(as_text=True)


def test_non_responders_page(client, login, poll):
    login("staff")
    body = client.get(f"/reports/{poll}/waiting").get_data(as_text=True)
    assert re.findall(r'data-userid="(\w+)"', body) == ["u5", "u6"]
    assert "Remind those who have not answered" in body


def test_departments_page_with_and_without_a_directory(app, client, login, poll):
    login("manager")
    waiting = client.get(f"/reports/{poll}/departments")  # first need: the directory is read first
    assert waiting.status_code == 302
    assert waiting.headers["Location"] == f"/directory/reading?next=/reports/{poll}/departments"
    with app.app_context():
        make_directory({"u1": ("赵一", [2]), "u2": ("钱二", [2])}, {1: ("总部", 0), 2: ("研发", 1)})
        db.session.commit()
    body = client.get(f"/reports/{poll}/departments").get_data(as_text=True)
    assert re.search(r'data-department="2">.*?研发.*?>2<.*?>2<.*?>100%<', body, re.S)


def test_audit_log_filters_by_actor_action_and_day(app, client, login):
    with app.app_context():
        db.session.add(AuditLog(actor_name="alice", action="campaign_sent", object_type="campaign",
                                object_id="7", details={"recipients": 3}))
        db.session.commit()
    login("admin")
    body = client.get("/reports/audit?actor=alice&action=campaign_sent").get_data(as_text=True)
    assert body.count('<span class="badge text-bg-light border">campaign_sent</span>') == 1
    assert "recipients</code> 3" in body  # detail keys are data: shown as code, untranslated
    today, later = (utcnow() + timedelta(days=d) for d in (0, 2))
    assert "campaign_sent" in client.get(f"/reports/audit?since={today:%Y-%m-%d}&actor=alice").get_data(as_text=True)
    assert "No entries match" in client.get(f"/reports/audit?since={later:%Y-%m-%d}").get_data(as_text=True)
    assert "No entries match" in client.get("/reports/audit?actor=nobody").get_data(as_text=True)
    assert client.get("/reports/audit?since=not-a-date").status_code == 200


def test_people_are_shown_by_name_with_the_userid_on_hover(app, client, login, poll):
    with app.app_context():
        make_directory({"u5": ("陈静", []), "u7": ("赵敏", [])}, {})
        db.session.commit()
    login("manager")
    waiting = client.get(f"/reports/{poll}/waiting").get_data(as_text=True)
    assert '<td data-cell="name"><span class="person" title="u5">陈静</span></td>' in waiting
    assert '<td data-cell="name">u6</td>' in waiting  # not in the directory: the userid as is
    summary = client.get(f"/reports/{poll}").get_data(as_text=True)
    assert '<span class="person" title="u7">赵敏</span>' in summary  # the invalid recipients
