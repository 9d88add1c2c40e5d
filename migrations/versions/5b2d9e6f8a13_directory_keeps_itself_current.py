"""directory: its state (reads, progress, errors), change_contact events to apply, stamps; the
campaign's checked expansion

Written by hand: dashboard/models/directory.py (DirectoryState, DirectoryChange, DirectoryStamp)
and two nullable columns on campaign (dashboard/models/campaign.py).

Revision ID: 5b2d9e6f8a13
Revises: 3e8b1f27c4d9
Create Date: 2026-12-06 08:30:00.000000

"""
from alembic import op
import sqlalchemy as sa
import dashboard.models.base


# revision identifiers, used by Alembic.
revision = '5b2d9e6f8a13'
down_revision = '3e8b1f27c4d9'
branch_labels = None
depends_on = None

UTC = dashboard.models.base.UTCDateTime(timezone=True)
JSON = dashboard.models.base.JSONType()


def upgrade():
    op.create_table(
        'directory_state',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('read_at', UTC, nullable=True),
        sa.Column('read_started_at', UTC, nullable=True),
        sa.Column('running_since', UTC, nullable=True),
        sa.Column('progress_done', sa.Integer(), nullable=False),
        sa.Column('progress_total', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('error_at', UTC, nullable=True),
        sa.Column('names_hidden', sa.Boolean(), nullable=False),
        sa.Column('imported_at', UTC, nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_state')),
    )
    op.create_table(
        'directory_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dedupe_key', sa.String(length=64), nullable=False),
        sa.Column('change_type', sa.String(length=32), nullable=False),
        sa.Column('create_time', sa.BigInteger(), nullable=False),
        sa.Column('data', JSON, nullable=False),
        sa.Column('received_at', UTC, nullable=False),
        sa.Column('applied_at', UTC, nullable=True),
        sa.Column('outcome', sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_change')),
        sa.UniqueConstraint('dedupe_key', name=op.f('uq_directory_change_dedupe_key')),
    )
    op.create_index('ix_directory_change_pending', 'directory_change', ['create_time', 'id'],
                    sqlite_where=sa.text('applied_at IS NULL'),
                    postgresql_where=sa.text('applied_at IS NULL'))
    op.create_table(
        'directory_stamp',
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('create_time', sa.BigInteger(), nullable=False),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('kind', 'key', name=op.f('pk_directory_stamp')),
    )
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checked_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('checked_userids', JSON, nullable=True))


def downgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('checked_userids')
        batch_op.drop_column('checked_version')
    op.drop_table('directory_stamp')
    op.drop_index('ix_directory_change_pending', table_name='directory_change')
    op.drop_table('directory_change')
    op.drop_table('directory_state')
