"""retention: how many people a purge pseudonymised, beside the existing campaign.purged_at

Written by hand: one nullable column on campaign (dashboard/models/campaign.py).

Revision ID: d4e5f6a7b8c9
Revises: f6a7b8c9d0e1
Create Date: 2026-11-28 16:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e5f6a7b8c9'
down_revision = 'f6a7b8c9d0e1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_people', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('purged_people')
