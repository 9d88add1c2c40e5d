"""CSV exports: UTF-8 with a BOM, streamed in chunks, names only when the campaign allows them."""
import csv
import io
import json

import pytest

from dashboard.extensions import db
from dashboard.models import Campaign, Delivery
from dashboard.models.event import MENU, REPLY
from dashboard.reports import exports
from tests.test_reports import (lunch_poll, make_campaign, make_directory, make_event, make_ledger,
                                make_version, stored)


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


# --- formula injection (security issue, point 2): text a spreadsheet would run gets a leading ' ---

DANGER = ("=", "+", "-", "@", "\t", "\r")
EVIL_CARD = {  # a staff member's poll: title, question key, option ids and texts, buttons, menu
    "card_type": "vote_interaction", "main_title": {"title": "=1+1 Offsite?"},
    "checkbox": {"question_key": "=q", "mode": 1, "option_list": [
        {"id": "+a", "text": "=cmd|'/c calc'!A0"}, {"id": "-b", "text": "-3"},
        {"id": "@c", "text": "@SUM(A1:A9)"}, {"id": "\td", "text": "\r=1+1"}]},
    "submit_button": {"text": "+Go", "key": "-submit"},
    "action_menu": {"desc": "more", "action_list": [{"text": "\tlater", "key": "@later"}]},
}


@pytest.fixture
def evil(app):
    """A campaign whose user-visible names, keys and texts start with each dangerous character."""
    with app.app_context():
        make_directory({"=u1": ("+Mallory", [7]), "-u2": ("@Eve", [8]), "@u3": ("\tTab", [7, 8])},
                       {7: ("=HYPERLINK(\"x\")", 0), 8: ("-Sales", 0)})
        campaign = make_campaign(make_version(EVIL_CARD, "Evil"), name="=1+1 Offsite?")
        make_ledger(campaign, {"=u1": "accepted", "-u2": "accepted", "@u3": "accepted", "\ru4": "invalid"})
        db.session.flush()
        for delivery in db.session.scalars(db.select(Delivery).filter_by(campaign_id=campaign.id)):
            delivery.detail = "=ERROR(1)" if delivery.state == "invalid" else None
        make_event(campaign, "=u1", 100, key="-submit", selected={"=q": ["+a", "-b"]})
        make_event(campaign, "-u2", 110, key="-submit", selected={"=q": ["@c", "\td"]})
        make_event(campaign, "@u3", 120, key="@later", event=MENU)
        stored()
        return campaign.id


def no_live_formula(table: list[list[str]]) -> None:
    """Not one cell of the file, header or data, begins with what a spreadsheet would run."""
    bad = [cell for row in table for cell in row if cell.startswith(DANGER)]
    assert not bad, bad


def test_formula_safe_quotes_text_and_leaves_numbers():
    table = [("=1+1", "'=1+1"), ("+1", "'+1"), ("-3", "'-3"), ("@SUM(A1)", "'@SUM(A1)"),
             ("\tx", "'\tx"), ("\r=1", "'\r=1"), ("=cmd|'/c calc'!A0", "'=cmd|'/c calc'!A0"),
             ("a=1", "a=1"), ("", ""), ("'=already", "'=already"), ("饺子", "饺子"), (" =1", " =1"),
             (-3, -3), (-0.5, -0.5), (0, 0), (42, 42), (None, None)]
    for value, expected in table:
        assert exports.formula_safe(value) == expected, value
        assert type(exports.formula_safe(value)) is type(expected)


def test_stream_writes_every_cell_through_formula_safe():
    text = "".join(exports.stream(["=h", "n"], iter([[["=x", -3, "-3", 1.5]], [["+y", -0.25, "", "@z"]]])))
    assert text == "\ufeff'=h,n\r\n'=x,-3,'-3,1.5\r\n'+y,-0.25,,'@z\r\n"


def test_ledger_csv_is_formula_safe(client, login, evil):
    login("manager")
    table = rows(client.get(f"/reports/{evil}/ledger.csv?header=en"))
    no_live_formula(table)
    by_user = {r[0]: r for r in table[1:]}
    assert set(by_user) == {"'=u1", "'-u2", "'@u3", "'\ru4"}
    assert by_user["'=u1"][1:3] == ["'+Mallory", "'=HYPERLINK(\"x\")"]
    assert by_user["'-u2"][1:3] == ["'@Eve", "'-Sales"]
    assert by_user["'@u3"][1:3] == ["'\tTab", "'=HYPERLINK(\"x\") / -Sales"]
    assert by_user["'\ru4"][3:5] == ["invalid", "'=ERROR(1)"]
    assert all(int(r[5]) == 1 for r in table[1:])  # the batch number is still a number


def test_events_csv_is_formula_safe(client, login, evil):
    login("manager")
    table = rows(client.get(f"/reports/{evil}/events.csv?header=en"))
    no_live_formula(table)
    assert len(table) == 4
    first, second, menu = table[1:]
    assert first[3:9] == ["'=u1", "'+Mallory", REPLY, "'-submit", "'+Go",
                          "'=1+1 Offsite?: =cmd|'/c calc'!A0, -3"]
    assert json.loads(first[9]) == {"=q": ["+a", "-b"]}  # the JSON starts with {: left as it is
    assert second[3:8] == ["'-u2", "'@Eve", REPLY, "'-submit", "'+Go"]
    assert menu[3:8] == ["'@u3", "'\tTab", MENU, "'@later", "'\tlater"]
    for row in table[1:]:  # event_id and campaign_id are still numbers
        assert int(row[0]) > 0 and int(row[1]) == evil


def test_tallies_csv_is_formula_safe(client, login, evil):
    login("staff")
    table = rows(client.get(f"/reports/{evil}/tallies.csv?header=en"))
    no_live_formula(table)
    assert ["question =q", "", "'=1+1 Offsite?", "2", ""] in table
    assert ["vote =q", "'+a", "'=cmd|'/c calc'!A0", "1", "50.0"] in table
    assert ["vote =q", "'-b", "'-3", "1", "50.0"] in table  # "-3" typed as an option: text, quoted
    assert ["vote =q", "'@c", "'@SUM(A1:A9)", "1", "50.0"] in table
    assert ["vote =q", "'\td", "'\r=1+1", "1", "50.0"] in table
    assert ["click", "'-submit", "'+Go", "2", "100.0"] in table
    assert ["menu", "'@later", "'\tlater", "1", "100.0"] in table
    for row in table[1:]:  # counts and percents still parse as numbers
        float(row[3])
        assert row[4] == "" or float(row[4]) >= 0
