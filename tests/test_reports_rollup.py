"""The report summaries (rollup.py) equal what the events say, however the events are split into
catch-ups, whatever order their CreateTimes come in, and with two catch-ups racing."""
import threading
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.extensions import db
from dashboard.models import (Campaign, CardEvent, CurrentAnswer, EventCount, EventSelection, OptionTally,
                              Respondent, RollupState)
from dashboard.callback import rollup
from dashboard.reports import queries
from tests.test_reports import S, VOTE_CARD, make_campaign, make_event, make_ledger, make_version

USERS = ("u1", "u2", "u3", "u4")
EVENT = st.tuples(
    st.sampled_from(USERS), st.integers(0, 5),  # who, CreateTime (seconds after S; ties happen)
    st.sampled_from(("root", "reminder")),  # which campaign of the family it answers
    st.one_of(st.frozensets(st.sampled_from("abc"), min_size=1).map(sorted),  # a vote
              st.sampled_from(("mute", "later"))),  # or a menu pick
)


@pytest.fixture
def family(tmp_path):
    from tests.conftest import make_app

    app = make_app(tmp_path)
    with app.app_context():
        version = make_version(VOTE_CARD)
        root = make_campaign(version, owner=None)
        reminder = make_campaign(version, owner=None, parent=root)
        make_ledger(root, {u: "accepted" for u in USERS})  # sent at S
        db.session.commit()
        yield app, root.id, reminder.id
        db.session.remove()
        db.engine.dispose()


def expected(events: list[tuple]) -> dict:
    """The figures computed from the events in plain Python: the oracle."""
    people, latest, keys = {}, {}, Counter()
    for number, (user, second, _, choice) in enumerate(events):
        if isinstance(choice, str):
            keys[("template_card_menu_event", choice)] += 1
            continue
        keys[("template_card_event", "submit")] += 1
        first, last, answers = people.get(user, (second, second, 0))
        people[user] = (min(first, second), max(last, second), answers + 1)
        if (second, number) >= latest.get(user, (-1, -1, None))[:2]:
            latest[user] = (second, number, choice)
    chosen = Counter(o for _, _, options in latest.values() for o in options)
    return {"people": {u: (S + f, S + l, n, f) for u, (f, l, n) in people.items()},
            "answers": sorted((u, "q_lunch", o) for u, (_, _, options) in latest.items() for o in options),
            "keys": dict(keys),
            "votes": ({"q_lunch": dict(sorted(chosen.items()))}, {"q_lunch": len(latest)}) if latest else ({}, {})}


def summaries(root: int) -> dict:
    ids = [root]
    people = {row.userid: (row.first_time, row.last_time, row.answers, row.delay)
              for row in db.session.execute(queries.respondents(ids).add_columns(
                  Respondent.response_seconds.label("delay")))}
    answers = sorted((r.userid, r.question_key, r.option_id) for r in db.session.execute(queries.current_answers(ids)))
    keys = {(event, key): n for event, found in queries.key_counts(ids).items() for key, n in found.items()}
    return {"people": people, "answers": answers, "keys": keys, "votes": queries.votes(ids)}


@pytest.mark.slow
@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(EVENT, max_size=14), cuts=st.sets(st.integers(1, 13), max_size=4))
def test_summaries_equal_the_events_however_they_are_split(family, events, cuts):
    app, root, reminder = family
    with app.app_context():
        for model in (EventSelection, CardEvent, Respondent, CurrentAnswer, EventCount, OptionTally):
            db.session.execute(db.delete(model))
        db.session.commit()
        for number, (user, second, target, choice) in enumerate(events):
            campaign = db.session.get(Campaign, root if target == "root" else reminder)
            if isinstance(choice, str):
                row = make_event(campaign, user, second, key=choice, event=queries.MENU)
            else:
                row = make_event(campaign, user, second, selected={"q_lunch": choice})
            row.dedupe_key = f"{number}"
            if number + 1 in cuts:
                db.session.commit()
                rollup.catch_up()
        db.session.commit()
        rollup.catch_up()
        assert summaries(root) == expected(events)
        assert rollup.pending() == 0


def test_two_catch_ups_at_once_count_each_event_once(tmp_path, monkeypatch):
    from tests.conftest import make_app

    monkeypatch.setattr(rollup, "BATCH", 40)  # several batches each
    app = make_app(tmp_path)
    with app.app_context():
        poll = make_campaign(make_version(VOTE_CARD), owner=None)
        for n in range(300):
            make_event(poll, f"user{n % 70}", n, selected={"q_lunch": ["abc"[n % 3]]})
        db.session.commit()
        poll_id = poll.id

    def fold():
        with app.app_context():
            rollup.catch_up()

    threads = [threading.Thread(target=fold) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        assert rollup.pending() == 0
        assert db.session.get(RollupState, 1).events == 300
        assert queries.key_counts([poll_id])[queries.REPLY] == {"submit": 300}
        assert sum(db.session.scalars(db.select(Respondent.answers))) == 300
        tallies, answered = queries.votes([poll_id])
        assert answered == {"q_lunch": 70} and sum(tallies["q_lunch"].values()) == 70
        db.engine.dispose()
