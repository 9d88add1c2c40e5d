"""`flask retention purge`: old campaigns lose names and raw callbacks, and keep every figure."""
import json
import re
from datetime import timedelta

import pytest

from dashboard import retention
from dashboard.extensions import db
from dashboard.models import AuditLog, Campaign, CardEvent, ConversationMessage, ResponseCode, SendBatch, utcnow
from dashboard.callback import rollup
from dashboard.reports import people, queries
from tests.test_reports_pages import without_tokens
from tests.test_reports import (BUTTON_CARD, T0, lunch_poll, make_campaign, make_directory, make_event, make_ledger,
                                make_version)

REAL = re.compile(r"\b(u[1-8]|p[1-3])\b")  # every userid the fixtures use
NOW = T0 + timedelta(days=30)
AGE = (utcnow() - T0).days  # the fixtures' old campaigns grow older as the calendar moves on


def old_campaigns() -> tuple[int, int, int]:
    """The lunch poll (changed votes, multi-select) with a reminder answered by u5 and u1, a button
    card with a menu, and a recent campaign; every event with its body and response code."""
    poll = lunch_poll()
    poll.recipients = {"users": [f"u{i}" for i in range(1, 9)], "exclude": {"users": ["u9"]}}
    batch = poll.batches[0]
    batch.request, batch.invalid_users, batch.unlicensed_users = {"touser": "u1|u2|u7"}, ["u7"], ["u8"]
    batch.response = {"errcode": 0, "invaliduser": "u7", "unlicenseduser": "u8"}
    reminder = make_campaign(poll.card_version, name="Reminder 1", parent=poll)
    make_ledger(reminder, {"u5": "accepted", "u6": "accepted"})
    make_event(reminder, "u5", 900, selected={"q_lunch": ["b"]})
    make_event(reminder, "u1", 950, selected={"q_lunch": ["d"]})
    party = make_campaign(make_version(BUTTON_CARD, "Party"), name="Party")
    make_ledger(party, {"p1": "accepted", "p2": "accepted", "p3": "accepted"})
    make_event(party, "p1", 10, key="join", selected={"q_meal": ["meat"]})
    make_event(party, "p1", 20, key="decline", selected={"q_meal": ["veg"]})
    make_event(party, "p2", 30, key="join", selected={"q_meal": ["veg"]})
    make_event(party, "p3", 40, key="mute", event=queries.MENU)
    recent = make_campaign(poll.card_version, name="Recent", started_at=utcnow() - timedelta(hours=2),
                           finished_at=utcnow() - timedelta(hours=1))
    make_ledger(recent, {"u1": "accepted"})
    make_event(recent, "u1", 0, selected={"q_lunch": ["a"]}).received_at = utcnow()
    for event in db.session.scalars(db.select(CardEvent)):
        event.xml = f"<xml><FromUserName>{event.from_user}</FromUserName></xml>"
        db.session.add(ResponseCode(code=f"rc-{event.id}", campaign_id=event.campaign_id,
                                    userid=event.from_user, source="callback", expires_at=T0))
    db.session.commit()
    return poll.id, party.id, recent.id


@pytest.fixture
def ids(app):
    with app.app_context():
        return old_campaigns()


def figures(campaign_id: int) -> dict:
    """Every figure the report, its people pages and the home page compute."""
    rollup.catch_up()  # as every report page does first
    campaign = db.session.get(Campaign, campaign_id)
    family = queries.family_ids(campaign)
    figures = queries.report_figures(campaign, family)
    api = figures["api"]
    api["invalid"], api["unlicensed"] = len(api["invalid"]), len(api["unlicensed"])  # names, counted
    table = people.answer_table(campaign, family, people.Filters(sort="time"))
    return {**figures, "timeline": queries.timeline(campaign, family, now=NOW),
            "waiting": people.non_responder_count(campaign, family),
            "responders": queries.responder_counts([campaign_id]),
            "rows": [(r["answers"], r["first_time"], r["last_time"], r["answer"], r["key"]) for r in table.items]}


def family_rows(family: list[int]) -> list[str]:
    """Every row of every table with a campaign_id, and the campaigns, as JSON text."""
    out = []
    for table in db.metadata.sorted_tables:
        key = table.c.id if table.name == "campaign" else table.c.get("campaign_id")
        if key is not None:
            out += [json.dumps(list(row), default=str, ensure_ascii=False)
                    for row in db.session.execute(db.select(table).where(key.in_(family)))]
    return out


def test_purge_keeps_every_figure_and_names_nobody(app, runner, ids):
    poll, party, recent = ids
    with app.app_context():
        before = {cid: figures(cid) for cid in ids}
        family = queries.family_ids(db.session.get(Campaign, poll)) + [party]
        assert any(REAL.search(row) for row in family_rows(family))
    result = runner.invoke(args=["retention", "purge"])
    assert result.exit_code == 0, result.output
    assert "Purged campaign 1 “Lunch poll”" in result.output and "Recent" not in result.output
    with app.app_context():
        assert {cid: figures(cid) for cid in ids} == before
        rows = family_rows(family)
        assert not [row for row in rows if REAL.search(row)]
        assert db.session.scalar(db.select(db.func.count()).where(
            CardEvent.campaign_id.in_(family), CardEvent.xml.is_not(None))) == 0
        userids = db.session.scalars(db.select(CardEvent.from_user).where(CardEvent.campaign_id == poll))
        assert all(retention.IS_PSEUDONYM.fullmatch(u) for u in userids)
        batch = db.session.scalar(db.select(SendBatch).filter_by(campaign_id=poll))
        assert len(batch.request["touser"].split("|")) == 3 and len(batch.invalid_users) == 1
        assert db.session.get(Campaign, poll).purged_people == 9  # u1-u8 and the excluded u9


def test_the_same_person_has_the_same_pseudonym_everywhere_in_the_family(app, runner, ids):
    poll = ids[0]
    runner.invoke(args=["retention", "purge"])
    with app.app_context():
        rollup.catch_up()
        campaign = db.session.get(Campaign, poll)
        family = queries.family_ids(campaign)
        (u1,) = [row["userid"] for row in people.answer_table(
            campaign, family, people.Filters(option=("q_lunch", "d"), answered="yes")).items
            if row["answers"] == 3]  # u1: twice in the poll, once in the reminder
        history = people.history(family, u1)
        assert [h["campaign_id"] for h in history] == [poll, poll, family[1]]
        codes = db.session.scalars(db.select(ResponseCode.userid).where(ResponseCode.campaign_id.in_(family)))
        assert u1 in set(codes)


def test_recent_campaigns_are_untouched_and_a_second_run_changes_nothing(app, runner, ids):
    recent = ids[2]
    with app.app_context():
        untouched = family_rows([recent])
    assert runner.invoke(args=["retention", "purge"]).exit_code == 0
    with app.app_context():
        assert family_rows([recent]) == untouched
        purged = family_rows(queries.family_ids(db.session.get(Campaign, ids[0])) + [ids[1]])
    again = runner.invoke(args=["retention", "purge"])
    assert "Purged 0 campaign(s)" in again.output
    with app.app_context():
        assert family_rows(queries.family_ids(db.session.get(Campaign, ids[0])) + [ids[1]]) == purged
        audits = db.session.scalars(db.select(AuditLog).filter_by(action="campaign_purged")).all()
        assert sorted(int(a.object_id) for a in audits) == sorted([ids[0], ids[1], ids[0] + 1])
        poll_audit = next(a for a in audits if a.object_id == str(ids[0]))
        assert poll_audit.actor_name == "cli" and poll_audit.details["callbacks"] == 8
        assert poll_audit.details["campaigns"] == queries.family_ids(db.session.get(Campaign, ids[0]))


def test_dry_run_prints_and_changes_nothing(app, runner, ids):
    with app.app_context():
        before = family_rows(list(range(1, 10)))
    result = runner.invoke(args=["retention", "purge", "--dry-run", "--older-than", "12w"])
    assert result.exit_code == 0, result.output
    assert "Would purge campaign 1 “Lunch poll”" in result.output and "8 raw callbacks" in result.output
    assert "Would purge 3 campaign(s)" in result.output  # the poll, its test send, the party
    with app.app_context():
        assert family_rows(list(range(1, 10))) == before
        assert db.session.scalar(db.select(AuditLog).filter_by(action="campaign_purged")) is None


@pytest.mark.parametrize("age, purged", [("36h", 3), (f"{AGE + 30}d", 0), (f"{AGE // 7 + 5}W", 0), ("1h", 3)],
                         ids=["hours", "days-beyond", "weeks-beyond", "one-hour"])
def test_older_than_sets_the_cut_off(app, runner, ids, age, purged):
    result = runner.invoke(args=["retention", "purge", "--older-than", age])
    assert f"Purged {purged} campaign(s)" in result.output, result.output


@pytest.mark.parametrize("age", ["180", "0d", "d", "6m", "1.5d", "-3d", "999999999d"])
def test_a_bad_age_is_a_usage_error(runner, age):
    result = runner.invoke(args=["retention", "purge", "--older-than", age])
    assert result.exit_code == 2 and "such as 180d, 12w or 36h" in result.output


def test_retention_days_is_the_default_cut_off(ids, app, runner):
    app.config["RETENTION_DAYS"] = AGE + 100  # beyond the fixtures' old campaigns
    assert "Purged 0 campaign(s)" in runner.invoke(args=["retention", "purge"]).output
    app.config["RETENTION_DAYS"] = AGE - 30
    assert "Purged 3 campaign(s)" in runner.invoke(args=["retention", "purge"]).output


def test_a_late_answer_is_pseudonymised_by_a_later_run_and_earlier_pseudonyms_stay(app, runner, ids):
    runner.invoke(args=["retention", "purge"])
    with app.app_context():
        campaign = db.session.get(Campaign, ids[0])
        campaign.purged_at = utcnow() - timedelta(days=10)  # as if purged then
        before = dict(db.session.execute(db.select(CardEvent.id, CardEvent.from_user)
                                         .filter_by(campaign_id=ids[0])).all())
        late = make_event(campaign, "u6", 5000, selected={"q_lunch": ["a"]})
        late.received_at, late.xml = utcnow() - timedelta(days=5), "<xml>u6</xml>"
        db.session.commit()
        late_id, answered = late.id, figures(ids[0])
    assert "Purged 0 campaign(s)" in runner.invoke(args=["retention", "purge"]).output  # 180 days
    assert "Purged 1 campaign(s)" in runner.invoke(args=["retention", "purge", "--older-than", "1d"]).output
    with app.app_context():
        after = dict(db.session.execute(db.select(CardEvent.id, CardEvent.from_user)
                                        .filter_by(campaign_id=ids[0])).all())
        assert {key: after[key] for key in before} == before
        assert retention.IS_PSEUDONYM.fullmatch(after[late_id]) and after[late_id] not in before.values()
        assert db.session.get(CardEvent, late_id).xml is None and figures(ids[0]) == answered


def test_callbacks_matching_no_campaign_lose_body_and_sender(app, runner):
    with app.app_context():
        old, new = make_event(None, "u1", 0), make_event(None, "u2", 0)
        old.xml, new.xml, new.received_at = "<xml>u1</xml>", "<xml>u2</xml>", utcnow()
        db.session.add(ResponseCode(code="rc-x", userid="u1", source="callback", expires_at=T0, created_at=T0))
        db.session.commit()
        old_id = old.id
    assert "1 callback(s) matching no campaign" in runner.invoke(args=["retention", "purge"]).output
    with app.app_context():
        rows = db.session.execute(db.select(CardEvent.from_user, CardEvent.xml, CardEvent.dedupe_key)
                                  .order_by(CardEvent.id)).all()
        assert rows[0] == ("purged", None, f"purged-{old_id}") and rows[1][:2] == ("u2", "<xml>u2</xml>")
        assert db.session.scalar(db.select(ResponseCode.userid)) is None


def test_reports_say_when_and_refuse_reminders(app, client, login, runner, ids):
    with app.app_context():
        make_directory({}, {1: ("总部", 0)})  # read: the department page shows, not the first read
        db.session.commit()
    runner.invoke(args=["retention", "purge"])
    login("staff")
    poll = ids[0]
    for page in ("", "/answers", "/waiting", "/departments", "/events.csv"):
        body = without_tokens(client.get(f"/reports/{poll}{page}").get_data(as_text=True))
        assert not REAL.search(body)
        assert page == "/events.csv" or "Named answers and raw callbacks were removed on" in body
    assert "purged-0" in client.get(f"/reports/{poll}/answers").get_data(as_text=True)
    body = client.get(f"/reports/{poll}").get_data(as_text=True)
    assert 'disabled title="Named answers were removed on' in body
    assert "known only by pseudonyms, so a reminder cannot reach them" in body
    response = client.post(f"/reports/{poll}/remind", follow_redirects=True)
    assert "a reminder cannot reach them" in response.get_data(as_text=True)
    with app.app_context():
        assert len(queries.reminders(db.session.get(Campaign, poll))) == 1  # the one sent before
    assert "(retention)" in client.get(f"/campaigns/{poll}").get_data(as_text=True)


def test_inbox_messages_older_than_the_cut_off_are_deleted(app, runner):
    with app.app_context():
        for userid, days in (("u1", 200), ("u1", 181), ("u2", 10)):
            db.session.add(ConversationMessage(userid=userid, direction="in", msg_type="text", text=f"{days} days",
                                               created_at=utcnow() - timedelta(days=days)))
        db.session.commit()
    dry = runner.invoke(args=["retention", "purge", "--dry-run"])
    assert "Would delete 2 inbox message(s)" in dry.output
    assert "Deleted 2 inbox message(s)" in runner.invoke(args=["retention", "purge"]).output
    with app.app_context():
        assert db.session.scalars(db.select(ConversationMessage.text)).all() == ["10 days"]
        audit = db.session.scalar(db.select(AuditLog).filter_by(action="conversation_messages_deleted"))
        assert audit.actor_name == "cli" and audit.details["messages"] == 2
    assert "Deleted 1 inbox message(s)" in runner.invoke(args=["retention", "purge", "--older-than", "1w"]).output
