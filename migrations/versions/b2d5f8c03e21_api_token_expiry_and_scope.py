"""api tokens: an optional expiry and a scope (full, or read: GET requests only)

Written by hand: two columns on api_token (dashboard/models/user.py, ApiToken); the tokens made
before keep working as they did (no expiry, full scope).

Revision ID: b2d5f8c03e21
Revises: a1c4e7b92d10
Create Date: 2026-12-20 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import dashboard.models.base


# revision identifiers, used by Alembic.
revision = 'b2d5f8c03e21'
down_revision = 'a1c4e7b92d10'
branch_labels = None
depends_on = None

UTC = dashboard.models.base.UTCDateTime(timezone=True)


def upgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', UTC, nullable=True))
        batch_op.add_column(sa.Column('scope', sa.String(length=8), server_default='full', nullable=False))


def downgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('scope')
        batch_op.drop_column('expires_at')
