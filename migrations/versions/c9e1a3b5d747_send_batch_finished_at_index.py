"""an index on send_batch.finished_at: which campaigns sent in the last hour, for the claims

Revision ID: c9e1a3b5d747
Revises: b8d0f2a4c636
Create Date: 2026-12-06 23:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c9e1a3b5d747'
down_revision = 'b8d0f2a4c636'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('send_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_send_batch_finished_at'), ['finished_at'], unique=False)


def downgrade():
    with op.batch_alter_table('send_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_send_batch_finished_at'))
