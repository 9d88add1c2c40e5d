"""report reads: option_tally (the current answers counted), and a delivery index with the userid

Written by hand (dashboard/models/rollup.py, dashboard/models/campaign.py):
- option_tally holds per campaign, question and option what the report counted from
  current_answer with a GROUP BY over every person; rollup.py keeps it with current_answer.
  It starts from current_answer as it is.
- The (campaign, state) index of delivery also holds the userid, so the report's invalid and
  unlicensed lists are read from the index alone; it replaces ix_delivery_campaign_state, so a
  send writes no more.

Revision ID: a7b8c9d0e1f2
Revises: e5f6a7b8c9d0
Create Date: 2026-11-28 19:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7b8c9d0e1f2'
down_revision = 'e5f6a7b8c9d0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('option_tally',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('question_key', sa.String(length=1024), nullable=False),
    sa.Column('option_id', sa.String(length=128), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_option_tally')),
    sa.UniqueConstraint('campaign_id', 'question_key', 'option_id', name=op.f('uq_option_tally_campaign_id'))
    )
    op.execute(
        "INSERT INTO option_tally (campaign_id, question_key, option_id, n, people)"
        " SELECT campaign_id, question_key, option_id, count(*),"
        " sum(CASE WHEN first_option THEN 1 ELSE 0 END) FROM current_answer"
        " GROUP BY campaign_id, question_key, option_id")
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_index('ix_delivery_campaign_state_user', ['campaign_id', 'state', 'userid'], unique=False)
        batch_op.drop_index('ix_delivery_campaign_state')


def downgrade():
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_index('ix_delivery_campaign_state', ['campaign_id', 'state'], unique=False)
        batch_op.drop_index('ix_delivery_campaign_state_user')
    op.drop_table('option_tally')
