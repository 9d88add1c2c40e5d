"""WeCom sign-in: role grants to WeCom departments and tags, the grant a user came in by, and
whether a user may sign in with a password

Written by hand: the role_grant table (RoleGrant) and user.granted_by_id, user.password_login
(dashboard/models/user.py). Existing users keep password sign-in (server default true) and came
in by no grant.

Revision ID: e5a7c1d9f203
Revises: c3e9a4f7b015
Create Date: 2027-01-11 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import dashboard.models.base


# revision identifiers, used by Alembic.
revision = 'e5a7c1d9f203'
down_revision = 'c3e9a4f7b015'
branch_labels = None
depends_on = None

UTC = dashboard.models.base.UTCDateTime(timezone=True)


def upgrade():
    op.create_table(
        'role_grant',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('wecom_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_role_grant_created_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_role_grant')),
        sa.UniqueConstraint('kind', 'wecom_id', name=op.f('uq_role_grant_kind')),
    )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_login', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('granted_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_user_granted_by_id'), ['granted_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_granted_by_id'))
        batch_op.drop_column('granted_by_id')
        batch_op.drop_column('password_login')
    op.drop_table('role_grant')
