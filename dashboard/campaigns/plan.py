"""The plan of a send: batches of at most 1000 people, each with its task_id and the exact
request body, and a ledger row per person, all written before the first call."""
from __future__ import annotations

from .. import wecom_app
from ..extensions import db
from ..models import Campaign, Delivery, SendBatch
from ..wecom.client import MAX_USERS, build_send_body
from .links import with_links


def task_id(campaign: Campaign, number: int) -> str:
    """Unique within the app, also across a reset database: [0-9A-Za-z_-@], far below 128 bytes."""
    return f"c{campaign.id}-{campaign.created_at:%y%m%d%H%M%S}-b{number}"


def body(campaign: Campaign, number: int, touser) -> dict:
    """The exact message/send body of one batch, from the one payload builder, the campaign's
    links in its card."""
    options = campaign.options or {}
    card = {**with_links(campaign.card_version.template_card, campaign),
            "task_id": task_id(campaign, number)}
    return build_send_body(
        card, wecom_app.agent_id(), touser=touser,
        enable_id_trans=options.get("enable_id_trans", False),
        enable_duplicate_check=options.get("enable_duplicate_check", True),
        duplicate_check_interval=options.get("duplicate_check_interval", 1800),
    )


def chunks(userids: list[str], everyone: bool = False) -> list[tuple[str | list[str], list[str]]]:
    """(touser, ledger userids) per call: one "@all" call, or at most 1000 users a call."""
    if everyone:
        return [("@all", userids)]
    parts = [userids[i:i + MAX_USERS] for i in range(0, len(userids), MAX_USERS)]
    return [(part, part) for part in parts]


def add_batches(campaign: Campaign, userids: list[str], *, everyone: bool = False
                ) -> list[SendBatch]:
    """Add batches and ledger rows for userids: new rows, or existing rows planned again."""
    first = 1 + (db.session.scalar(db.select(db.func.max(SendBatch.number))
                                   .filter_by(campaign_id=campaign.id)) or 0)
    known = set(db.session.scalars(db.select(Delivery.userid).filter_by(campaign_id=campaign.id)))
    batches = []
    for number, (touser, people) in enumerate(chunks(userids, everyone), first):
        batch = SendBatch(campaign=campaign, number=number, task_id=task_id(campaign, number),
                          request=body(campaign, number, touser))
        db.session.add(batch)
        db.session.flush()
        if new := [{"campaign_id": campaign.id, "batch_id": batch.id, "userid": u}
                   for u in people if u not in known]:
            # Core's INSERT, not the ORM's bulk path: a quarter less time for 100,000 rows.
            db.session.execute(Delivery.__table__.insert(), new)
        if again := [u for u in people if u in known]:
            set_ledger(campaign.id, Delivery.userid.in_(again),
                       batch_id=batch.id, state="pending", detail=None, sent_at=None)
        batches.append(batch)
    return batches


def set_ledger(campaign_id: int, *where, **values) -> None:
    """Update the ledger rows of a campaign that match every condition in where."""
    db.session.execute(db.update(Delivery).where(Delivery.campaign_id == campaign_id, *where)
                       .values(**values))
