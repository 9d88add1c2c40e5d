"""Report aggregates against hand-computed fixtures: latest answer per person and question,
multi-select votes, ties, changed answers, reminders counted, test sends left out.

The factories below are shared by the other tests/test_reports_*.py modules.
"""
import hashlib
from datetime import datetime, timedelta, timezone

import pytest

from dashboard.extensions import db
from dashboard.models import (Campaign, Card, CardEvent, CardVersion, Delivery, DirectoryDepartment,
                              DirectoryUser, SendBatch, User)
from dashboard.callback import rollup
from dashboard.reports import people, queries, report

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)  # Monday 09:00 in Shanghai
S = int(T0.timestamp())

VOTE_CARD = {
    "card_type": "vote_interaction", "main_title": {"title": "午餐投票"},
    "checkbox": {"question_key": "q_lunch", "mode": 1, "option_list": [
        {"id": "a", "text": "饺子", "is_checked": False}, {"id": "b", "text": "面条", "is_checked": False},
        {"id": "c", "text": "米饭", "is_checked": False}, {"id": "d", "text": "沙拉", "is_checked": False}]},
    "submit_button": {"text": "提交", "key": "submit"},
}
BUTTON_CARD = {
    "card_type": "button_interaction", "main_title": {"title": "年会报名"},
    "action_menu": {"desc": "更多", "action_list": [{"text": "不再提醒", "key": "mute"},
                                                  {"text": "稍后提醒", "key": "later"}]},
    "button_selection": {"question_key": "q_meal", "title": "餐食", "option_list": [
        {"id": "meat", "text": "荤"}, {"id": "veg", "text": "素"}]},
    "button_list": [{"text": "参加", "key": "join"}, {"text": "不参加", "key": "decline", "style": 3}],
}


# --- factories (plain functions; call inside an app context, then stored()) ---------------------


def stored() -> None:
    """Commit, and count the new events in the report summaries, as every report page does first."""
    db.session.commit()
    rollup.catch_up()


def make_version(card: dict, name: str = "Card") -> CardVersion:
    version = CardVersion(card=Card(name=name, card_type=card["card_type"]), number=1, template_card=card)
    db.session.add(version)
    db.session.flush()
    return version


def make_campaign(version: CardVersion, *, name="Lunch poll", owner: str | None = "staff",
                  status="sent", is_test=False, parent: Campaign | None = None, privacy="named",
                  started_at=T0, finished_at=T0 + timedelta(minutes=1)) -> Campaign:
    creator = db.session.scalar(db.select(User).filter_by(username=owner)) if owner else None
    campaign = Campaign(name=name, card_version=version, recipients={"users": []}, status=status,
                        is_test=is_test, parent_id=parent.id if parent else None, privacy=privacy,
                        created_by=creator, created_at=started_at, started_at=started_at,
                        finished_at=finished_at)
    db.session.add(campaign)
    db.session.flush()
    return campaign


def make_ledger(campaign: Campaign, states: dict[str, str], sent_at=T0) -> SendBatch:
    batch = SendBatch(campaign=campaign, number=1, task_id=f"task-{campaign.id}", status="done",
                      sent_at=sent_at)
    db.session.add(batch)
    db.session.flush()
    db.session.add_all(Delivery(campaign_id=campaign.id, batch_id=batch.id, userid=userid, state=state,
                                sent_at=sent_at) for userid, state in states.items())
    return batch


def make_event(campaign: Campaign | None, userid: str, seconds: int, key: str = "submit",
               selected: dict | None = None, event: str = queries.REPLY, task_id=None) -> CardEvent:
    """An event as the callback stores it: the CardEvent, its options in ``selected`` (the roll-up
    writes them out as EventSelection rows)."""
    dedupe_key = f"{campaign.id if campaign else '-'}:{userid}:{seconds}:{key}:{selected}"
    if len(dedupe_key) > 64:  # the column's size (PostgreSQL enforces it): a digest, as the callback's
        dedupe_key = hashlib.sha256(dedupe_key.encode()).hexdigest()
    row = CardEvent(dedupe_key=dedupe_key,
                    campaign_id=campaign.id if campaign else None, from_user=userid, msg_type="event",
                    event=event, event_key=key, task_id=task_id or (f"task-{campaign.id}" if campaign else "x"),
                    card_type="vote_interaction", selected=selected or None, create_time=S + seconds,
                    received_at=T0 + timedelta(seconds=seconds))
    db.session.add(row)
    db.session.flush()
    return row


def make_directory(users: dict[str, tuple[str, list[int]]], departments: dict[int, tuple[str, int]]):
    db.session.add_all(DirectoryDepartment(id=d, name=name, parent_id=parent)
                       for d, (name, parent) in departments.items())
    db.session.add_all(DirectoryUser(userid=u, name=name, departments=depts)
                       for u, (name, depts) in users.items())


def lunch_poll() -> Campaign:
    """The hand-computed poll. Recipients u1-u6 accepted, u7 invalid, u8 unlicensed.

    u1 votes [a, b] at +100 s, then changes to [c] at +200 s      -> counts [c]
    u2 votes [a] at +150 s                                         -> counts [a]
    u3 votes [b, c] at +160 s (multi-select)                       -> counts [b, c]
    u4 votes [d] then [a] in the same second (+170 s; id decides)  -> counts [a]
    u5 and u6 do not answer; u5 answers a *test send* [d]          -> left out
    Latest tallies: a 2, b 1, c 2, d 0 (a and c tie); 4 of 6 answered; clicks 6;
    first answers 100, 150, 160, 170 s after delivery -> median 155 s.
    """
    version = make_version(VOTE_CARD, "Lunch")
    poll = make_campaign(version)
    make_ledger(poll, {**{f"u{i}": "accepted" for i in range(1, 7)}, "u7": "invalid", "u8": "unlicensed"})
    make_event(poll, "u1", 100, selected={"q_lunch": ["a", "b"]})
    make_event(poll, "u1", 200, selected={"q_lunch": ["c"]})
    make_event(poll, "u2", 150, selected={"q_lunch": ["a"]})
    make_event(poll, "u3", 160, selected={"q_lunch": ["b", "c"]})
    make_event(poll, "u4", 170, selected={"q_lunch": ["d"]})
    make_event(poll, "u4", 170, key="submit", selected={"q_lunch": ["a"]})
    test = make_campaign(version, name="Test: Lunch poll", is_test=True, parent=poll)
    make_ledger(test, {"u5": "accepted"})
    make_event(test, "u5", 50, selected={"q_lunch": ["d"]})
    stored()
    return poll


@pytest.fixture
def poll(app):
    with app.app_context():
        return lunch_poll().id


# --- the aggregates ---------------------------------------------------------------------------


def test_report_in_the_api_shape_counts_latest_answers_only(app, poll):
    with app.app_context():
        assert queries.campaign_report(db.session.get(Campaign, poll)) == {
            "recipients": 8, "accepted": 6, "invalid": ["u7"], "unlicensed": ["u8"],
            "responders": 4, "response_rate": 0.6667, "clicks": {"submit": 6},
            "votes": {"q_lunch": {"a": 2, "b": 1, "c": 2}}, "menu": {},
        }


def test_page_figures_ties_percentages_and_median(app, poll):
    with app.app_context():
        built = report.build(db.session.get(Campaign, poll))
        (lunch,) = built.questions
        assert [(r.key, r.text, r.count, r.percent, r.leading) for r in lunch.rows] == [
            ("a", "饺子", 2, 50.0, True), ("b", "面条", 1, 25.0, False),
            ("c", "米饭", 2, 50.0, True), ("d", "沙拉", 0, 0.0, False)]
        assert lunch.total == 4 and lunch.tie and "more than 100" in lunch.note
        assert built.median_seconds == 155 and built.changed == 2
        assert [(r.key, r.text, r.count) for r in built.clicks.rows] == [("submit", "提交", 6)]
        assert built.menu is None


def test_timeline_counts_each_responder_once_at_their_first_answer(app, poll):
    with app.app_context():
        campaign = db.session.get(Campaign, poll)
        rows = queries.timeline(campaign, queries.family_ids(campaign), now=T0 + timedelta(hours=1))
        assert rows[0] == {"label": "03-02 09:00", "new": 4, "total": 4}  # 15-minute buckets
        assert len(rows) == 5 and rows[-1]["total"] == 4


def test_buttons_menu_and_a_changed_button_selection(app):
    with app.app_context():
        version = make_version(BUTTON_CARD, "Party")
        party = make_campaign(version, name="Party")
        make_ledger(party, {"u1": "accepted", "u2": "accepted", "u3": "accepted"})
        make_event(party, "u1", 10, key="join", selected={"q_meal": ["meat"]})
        make_event(party, "u1", 20, key="decline", selected={"q_meal": ["veg"]})
        make_event(party, "u2", 30, key="join", selected={"q_meal": ["veg"]})
        make_event(party, "u3", 40, key="mute", event=queries.MENU)
        stored()
        api = queries.campaign_report(party)
        assert api["clicks"] == {"decline": 1, "join": 2} and api["menu"] == {"mute": 1}
        assert api["votes"] == {"q_meal": {"veg": 2}} and api["responders"] == 2
        built = report.build(party)
        assert [(r.text, r.count) for r in built.menu.rows] == [("不再提醒", 1), ("稍后提醒", 0)]
        assert [(r.text, r.count, r.leading) for r in built.questions[0].rows] == [
            ("荤", 0, False), ("素", 2, True)]


def test_answers_to_a_reminder_count_in_the_parent(app, poll):
    with app.app_context():
        parent = db.session.get(Campaign, poll)
        reminder = make_campaign(parent.card_version, name="Reminder 1", parent=parent)
        make_ledger(reminder, {"u5": "accepted", "u6": "accepted"})
        make_event(reminder, "u5", 900, selected={"q_lunch": ["b"]})
        make_event(reminder, "u1", 950, selected={"q_lunch": ["d"]})  # u1 changes again, via the reminder
        stored()
        api = queries.campaign_report(parent)
        assert api["responders"] == 5 and api["recipients"] == 8
        assert api["votes"] == {"q_lunch": {"a": 2, "b": 2, "c": 1, "d": 1}}
        assert queries.campaign_report(reminder) == api  # a reminder reports into its parent
        assert people.non_responder_userids(parent, queries.family_ids(parent)) == ["u6"]


def test_non_responders_and_history(app, poll):
    with app.app_context():
        campaign = db.session.get(Campaign, poll)
        ids = queries.family_ids(campaign)
        assert ids == [poll]  # the test send is not part of the family
        assert people.non_responder_userids(campaign, ids) == ["u5", "u6"]
        history = people.history(ids, "u4")
        assert [(h["selected"], h["current"]) for h in history] == [
            ({"q_lunch": ["d"]}, set()), ({"q_lunch": ["a"]}, {"q_lunch"})]


@pytest.mark.parametrize("filters, expected", [
    (people.Filters(), ["u1", "u4", "u3", "u2", "u5", "u6"]),  # latest answer first, then not answered
    (people.Filters(answered="no"), ["u5", "u6"]),
    (people.Filters(answered="yes", sort="userid", descending=False), ["u1", "u2", "u3", "u4"]),
    (people.Filters(option=("q_lunch", "c"), sort="userid", descending=False), ["u1", "u3"]),
    (people.Filters(option=("q_lunch", "b")), ["u3"]),  # u1's [a, b] was replaced
    (people.Filters(department=2, sort="name", descending=False), ["u2", "u5", "u1"]),
])
def test_who_answered_what_filters_and_sorts(app, poll, filters, expected):
    with app.app_context():
        make_directory({"u1": ("赵一", [3]), "u2": ("Alice", [2]), "u5": ("Bob", [2, 4])},
                       {1: ("总部", 0), 2: ("研发", 1), 3: ("测试", 2), 4: ("市场", 1)})
        stored()
        campaign = db.session.get(Campaign, poll)
        table = people.answer_table(campaign, queries.family_ids(campaign), filters)
        assert [row["userid"] for row in table.items] == expected and table.total == len(expected)


def test_who_answered_what_rows_and_pages(app, poll):
    with app.app_context():
        campaign = db.session.get(Campaign, poll)
        first = people.answer_table(campaign, [poll], people.Filters(answered="yes"), per_page=3)
        assert (first.total, first.pages, first.has_next) == (4, 2, True)
        u1 = first.items[0]
        assert (u1["userid"], u1["answer"], u1["key"], u1["answers"]) == ("u1", {"q_lunch": ["c"]}, "submit", 2)
        second = people.answer_table(campaign, [poll], people.Filters(answered="yes", page=2), per_page=3)
        assert [row["userid"] for row in second.items] == ["u2"] and not second.has_next


def test_by_department_counts_each_membership(app, poll):
    with app.app_context():
        make_directory({"u1": ("赵一", [2]), "u2": ("Alice", [2, 3]), "u5": ("Bob", [3])},
                       {1: ("总部", 0), 2: ("研发", 1), 3: ("市场", 1)})
        stored()
        campaign = db.session.get(Campaign, poll)
        breakdown = people.by_department(campaign, [poll])
        assert breakdown["got"] == {2: 2, 3: 2} and breakdown["answered"] == {2: 2, 3: 1}
        assert breakdown["options"] == {2: {"q_lunch": {"a": 1, "c": 1}}, 3: {"q_lunch": {"a": 1}}}


def test_is_live_while_sending_and_for_a_day_after(app, poll):
    with app.app_context():
        campaign = db.session.get(Campaign, poll)
        assert queries.is_live(campaign, now=T0 + timedelta(hours=23))
        assert not queries.is_live(campaign, now=T0 + timedelta(days=2))
        campaign.status = "sending"
        assert queries.is_live(campaign, now=T0 + timedelta(days=2))
