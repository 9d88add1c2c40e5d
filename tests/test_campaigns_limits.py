"""The per-member limits at a claim: the ledger is read only when enough other campaigns have sent
in the last hour to put a member at a limit (a member has one ledger row per campaign)."""
from datetime import timedelta

import pytest

from dashboard.campaigns import delivery, limits, queries, service
from dashboard.extensions import db
from dashboard.models import Delivery, SendBatch, utcnow
from tests.campaign_factories import card_version, make_campaign, wired
from tests.fake_wecom import FakeWeCom


@pytest.fixture
def app(tmp_path):
    with FakeWeCom(users=["lisi", "wangwu"]) as fake, wired(tmp_path, fake) as app:
        yield app


def earlier_campaign(version, *, status, attempts=0, finished=None, userid="lisi"):
    """Another campaign with one batch to userid, in the given state (committed)."""
    campaign = service.create_campaign(name="Earlier", card_version=version, actor="test")
    campaign.status = "sending"
    batch = SendBatch(campaign=campaign, number=1, task_id=f"t{campaign.id}", request={},
                      status=status, attempts=attempts, sent_at=finished, finished_at=finished)
    db.session.add(batch)
    db.session.flush()
    state = "accepted" if finished else "pending"
    db.session.add(Delivery(campaign_id=campaign.id, batch_id=batch.id, userid=userid, state=state,
                            sent_at=finished))
    db.session.commit()
    return campaign


def test_other_campaigns_count_while_their_rows_may_be_within_the_hour(app):
    with app.app_context():
        version, now = card_version(), utcnow()
        counted = [earlier_campaign(version, status="done", finished=now - timedelta(minutes=10)),
                   earlier_campaign(version, status="sending", attempts=1),  # in flight
                   earlier_campaign(version, status="pending", attempts=1)]  # to be repeated
        earlier_campaign(version, status="done", finished=now - timedelta(hours=2))
        earlier_campaign(version, status="pending")  # not attempted yet
        loose = service.create_campaign(name="Loose", card_version=version, actor="test")
        old = service.create_campaign(name="Old", card_version=version, actor="test")
        db.session.add_all([Delivery(campaign_id=loose.id, userid="lisi", state="accepted",
                                     sent_at=now - timedelta(minutes=5)),
                            Delivery(campaign_id=old.id, userid="lisi", state="accepted",
                                     sent_at=now - timedelta(hours=3))])
        db.session.commit()
        assert limits.others_sending(make_campaign({"users": ["lisi"]}).id, now) == len(counted) + 1
        assert limits.others_sending(counted[0].id, now) == len(counted)  # never itself


@pytest.mark.parametrize("earlier, claimed", [(29, True), (30, False)])
def test_finished_batches_of_other_campaigns_hold_a_member_at_the_minute_limit(app, earlier, claimed):
    with app.app_context():
        version, sent = card_version(), utcnow() - timedelta(seconds=40)
        for _ in range(earlier):
            earlier_campaign(version, status="done", finished=sent)
        campaign = make_campaign({"users": ["lisi", "wangwu"]}, card=version)
        service.send(campaign, actor="test")
        db.session.commit()
        (batch,) = campaign.batches
        assert delivery.prepare(campaign, batch) is claimed
        db.session.refresh(batch)
        if claimed:
            assert batch.status == "sending" and batch.wait_reason is None
        else:
            assert batch.status == "pending" and "30 a minute" in batch.wait_reason
            assert batch.not_before == sent + timedelta(minutes=1)


def test_a_first_attempt_counts_by_its_batch_until_its_outcome_stamps_the_rows(app):
    with app.app_context():
        version, sent = card_version(), utcnow() - timedelta(seconds=20)
        first = earlier_campaign(version, status="sending", attempts=1)
        first.batches[0].sent_at = sent
        db.session.commit()
        row = db.session.scalar(db.select(Delivery).filter_by(campaign_id=first.id))
        assert row.sent_at is None  # a first claim leaves the rows as they are
        assert limits.recent_sends(["lisi"], utcnow()) == {"lisi": [sent]}


def test_the_check_warns_of_people_messaged_lately_only_when_they_were(app):
    with app.test_request_context():
        version = card_version()
        campaign = make_campaign({"users": ["lisi", "wangwu"]}, card=version)
        assert not [n for n in queries.check(campaign).notices if "messaged often" in n.text]
        earlier_campaign(version, status="done", finished=utcnow() - timedelta(seconds=20))
        earlier_campaign(version, status="done", finished=utcnow() - timedelta(hours=2), userid="wangwu")
        (notice,) = [n for n in queries.check(campaign).notices if "messaged often" in n.text]
        assert "1 recipient(s) got a message from this app in the last minute" in notice.text
