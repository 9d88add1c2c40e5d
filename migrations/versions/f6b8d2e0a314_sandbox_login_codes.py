"""sandbox: one-time sign-in codes of the sandbox's WeCom login pages (auth/getuserinfo)

Written by hand: only the sandbox_auth_code table (dashboard/models/sandbox.py).

Revision ID: f6b8d2e0a314
Revises: e5a7c1d9f203
Create Date: 2027-01-12 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import dashboard.models.base


# revision identifiers, used by Alembic.
revision = 'f6b8d2e0a314'
down_revision = 'e5a7c1d9f203'
branch_labels = None
depends_on = None

UTC = dashboard.models.base.UTCDateTime(timezone=True)


def upgrade():
    op.create_table('sandbox_auth_code',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('userid', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('used_at', UTC, nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_sandbox_auth_code'))
    )
    with op.batch_alter_table('sandbox_auth_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sandbox_auth_code_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('sandbox_auth_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sandbox_auth_code_created_at'))
    op.drop_table('sandbox_auth_code')
