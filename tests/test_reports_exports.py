"""CSV exports: UTF-8 with a BOM, streamed in chunks, names only when the campaign allows them."""
import csv
import io

import pytest

from dashboard.extensions import db
from dashboard.models import Campaign
from dashboard.reports import exports
from tests.test_reports import lunch_poll, make_directory


@pytest.fixture
def poll(app):
    with app.app_context():
        make_directory({"u1": ("赵一", [2]), "u2": ("钱二", [2, 3])},
                       {1: ("总部", 0), 2: ("研发", 1), 3: ("市场", 1)})
        return lunch_poll().id


def rows(response) -> list[list[str]]:
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_ledger_csv(client, login, poll):
    login("manager")
    response = client.get(f"/reports/{poll}/ledger.csv")
    assert response.is_streamed and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="campaign-{poll}-ledger.csv"'
    table = rows(response)
    assert table[0] == ["userid", "name", "departments", "state", "detail", "batch", "sent_at"]
    assert table[1] == ["u1", "赵一", "研发", "accepted", "", "1", "2026-03-02 09:00:00"]
    assert table[2][:3] == ["u2", "钱二", "研发 / 市场"] and len(table) == 9
    assert [r[3] for r in table[7:]] == ["invalid", "unlicensed"]


def test_events_csv_labels_answers_and_leaves_out_test_sends(client, login, poll):
    login("manager")
    table = rows(client.get(f"/reports/{poll}/events.csv"))
    assert table[0] == ["event_id", "campaign_id", "time", "userid", "name", "event", "event_key",
                        "key_text", "answer", "selected"]
    assert len(table) == 7 and {r[3] for r in table[1:]} == {"u1", "u2", "u3", "u4"}
    first = table[1]
    assert first[2:5] == ["2026-03-02 09:01:40", "u1", "赵一"]
    assert first[6:9] == ["submit", "提交", "午餐投票: 饺子, 面条"]
    assert first[9] == '{"q_lunch": ["a", "b"]}'


def test_events_csv_without_names_for_aggregate_campaigns(app, client, login, poll):
    with app.app_context():
        db.session.get(Campaign, poll).privacy = "aggregate"
        db.session.commit()
    login("manager")
    response = client.get(f"/reports/{poll}/events.csv")
    table = rows(response)
    assert "userid" not in table[0] and "name" not in table[0] and len(table) == 7
    assert "u1" not in response.get_data(as_text=True) and "赵一" not in response.get_data(as_text=True)


def test_tallies_csv_has_the_page_numbers(client, login, poll):
    login("staff")
    table = rows(client.get(f"/reports/{poll}/tallies.csv"))
    assert ["figure", "responders", "responders", "4", ""] in table
    assert ["figure", "response_rate", "response rate", "0.6667", ""] in table
    assert ["vote q_lunch", "a", "饺子", "2", "50.0"] in table
    assert ["vote q_lunch", "d", "沙拉", "0", "0.0"] in table
    assert ["click", "submit", "提交", "6", "100.0"] in table


def test_rows_leave_in_chunks(app, poll, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 2)
    with app.test_request_context():
        chunks = list(exports.export(db.session.get(Campaign, poll), "ledger"))
    assert chunks[0].startswith("\ufeffuserid,") and len(chunks) == 1 + 4  # header, then 8 rows by 2
    assert all(chunk.count("\n") == 2 for chunk in chunks[1:])


ENGLISH_HEADERS = {
    "ledger": ["userid", "name", "departments", "state", "detail", "batch", "sent_at"],
    "events": ["event_id", "campaign_id", "time", "userid", "name", "event", "event_key", "key_text",
               "answer", "selected"],
    "tallies": ["section", "key", "text", "count", "percent"],
}


@pytest.mark.parametrize("kind", sorted(ENGLISH_HEADERS))
def test_header_en_gives_the_english_column_names_whatever_the_language(client, login, poll, kind):
    """?header=en (for scripts): today's English names and words, even for a Chinese browser;
    without it the page's language decides, and in English that is the same table."""
    login("manager")
    english = rows(client.get(f"/reports/{poll}/{kind}.csv?header=en", headers={"Accept-Language": "zh-CN"}))
    assert english[0] == ENGLISH_HEADERS[kind]
    plain = client.get(f"/reports/{poll}/{kind}.csv", headers={"Accept-Language": "en"})
    assert plain.headers["Content-Disposition"] == f'attachment; filename="campaign-{poll}-{kind}.csv"'
    assert rows(plain) == english
    if kind == "ledger":
        assert [r[3] for r in english[1:]] == ["accepted"] * 6 + ["invalid", "unlicensed"]
    if kind == "tallies":
        assert ["figure", "response_rate", "response rate", "0.6667", ""] in english


def test_the_report_pages_link_the_english_exports(client, login, poll):
    login("manager")
    body = client.get(f"/reports/{poll}").get_data(as_text=True)
    for kind in ENGLISH_HEADERS:
        assert f'href="/reports/{poll}/{kind}.csv?header=en"' in body
