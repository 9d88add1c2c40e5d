"""callback log: the outcome of each recent WeCom callback, for the diagnostics page

Written by hand: only the callback_log table (dashboard/models/callback_log.py).

Revision ID: a3f1c0b8d2e4
Revises: c5a7d3e91b42
Create Date: 2026-11-28 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import dashboard.models.base


# revision identifiers, used by Alembic.
revision = 'a3f1c0b8d2e4'
down_revision = 'c5a7d3e91b42'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('callback_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('received_at', dashboard.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.String(length=255), nullable=True),
    sa.Column('http_status', sa.Integer(), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=True),
    sa.Column('event_kind', sa.String(length=64), nullable=True),
    sa.Column('task_id', sa.String(length=128), nullable=True),
    sa.Column('duration_ms', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_log'))
    )


def downgrade():
    op.drop_table('callback_log')
