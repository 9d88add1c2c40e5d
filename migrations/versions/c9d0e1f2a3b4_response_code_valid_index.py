"""response codes: one index finds a campaign's valid codes, however many have expired

Written by hand (dashboard/models/campaign.py). ix_response_code_campaign_valid holds
(campaign_id, used_at, expires_at, batch_id): the campaign page's and close poll's valid codes
per batch and the home page's "codes about to expire" are read from the index alone, instead of
visiting every code the campaign ever had. It replaces ix_response_code_campaign_id (its first
column serves the same lookups), so a code costs no more to write.

Revision ID: c9d0e1f2a3b4
Revises: b8c9d0e1f2a3
Create Date: 2026-11-28 22:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c9d0e1f2a3b4'
down_revision = 'b8c9d0e1f2a3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('response_code', schema=None) as batch_op:
        batch_op.create_index('ix_response_code_campaign_valid',
                              ['campaign_id', 'used_at', 'expires_at', 'batch_id'], unique=False)
        batch_op.drop_index('ix_response_code_campaign_id')


def downgrade():
    with op.batch_alter_table('response_code', schema=None) as batch_op:
        batch_op.create_index('ix_response_code_campaign_id', ['campaign_id'], unique=False)
        batch_op.drop_index('ix_response_code_campaign_valid')
