"""event selections written by the roll-up: none for events still pending

Written by hand, no schema change. The callback no longer writes event_selection rows; the
roll-up writes them from card_event.selected when it folds an event (dashboard/reports/rollup.py).
Events stored before this revision and not yet folded already have theirs: they are removed
here, so that the fold writes each once.

Revision ID: b8c9d0e1f2a3
Revises: a7b8c9d0e1f2
Create Date: 2026-11-28 19:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8c9d0e1f2a3'
down_revision = 'a7b8c9d0e1f2'
branch_labels = None
depends_on = None


def _pending() -> str:
    return "rolled_up = 0" if op.get_bind().dialect.name == "sqlite" else "NOT rolled_up"


def upgrade():
    op.execute(f"DELETE FROM event_selection WHERE event_id IN (SELECT id FROM card_event WHERE {_pending()})")


def downgrade():
    """The older roll-up reads the rows the older callback wrote: write them for pending events."""
    bind = op.get_bind()
    events = sa.table("card_event", sa.column("id"), sa.column("campaign_id"), sa.column("selected", sa.JSON))
    rows = [{"event_id": event_id, "campaign_id": campaign_id, "question_key": key[:1024], "option_id": option[:128]}
            for event_id, campaign_id, selected in bind.execute(
                sa.select(events.c.id, events.c.campaign_id, events.c.selected).where(sa.text(_pending())))
            for key, options in (selected or {}).items() for option in options]
    if rows:
        bind.execute(sa.text("INSERT INTO event_selection (event_id, campaign_id, question_key, option_id)"
                             " VALUES (:event_id, :campaign_id, :question_key, :option_id)"), rows)
