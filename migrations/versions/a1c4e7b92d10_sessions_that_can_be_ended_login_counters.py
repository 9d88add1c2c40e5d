"""sessions that can be ended (a session token per user, sign-ins), login counters per account,
address and pair

Written by hand: dashboard/models/login.py (UserSession, LoginCounter) and user.session_token
(dashboard/models/user.py). Each existing user gets a random token, so the cookies issued before
(which carry the bare user id) are refused: everyone signs in once more.

Revision ID: a1c4e7b92d10
Revises: 7c3e1a9d4f20
Create Date: 2026-12-20 08:00:00.000000

"""
import secrets

from alembic import op
import sqlalchemy as sa
import dashboard.models.base


# revision identifiers, used by Alembic.
revision = 'a1c4e7b92d10'
down_revision = '7c3e1a9d4f20'
branch_labels = None
depends_on = None

UTC = dashboard.models.base.UTCDateTime(timezone=True)


def upgrade():
    op.create_table(
        'user_session',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('last_seen_at', UTC, nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=False),
        sa.Column('user_agent', sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_user_session_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
    )
    op.create_index(op.f('ix_user_session_user_id'), 'user_session', ['user_id'], unique=False)
    op.create_table(
        'login_counter',
        sa.Column('scope', sa.String(length=8), nullable=False),
        sa.Column('subject', sa.String(length=160), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('window_start', UTC, nullable=False),
        sa.PrimaryKeyConstraint('scope', 'subject', name=op.f('pk_login_counter')),
    )
    op.create_index(op.f('ix_login_counter_window_start'), 'login_counter', ['window_start'], unique=False)
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
    user = sa.table('user', sa.column('id', sa.Integer()), sa.column('session_token', sa.String()))
    connection = op.get_bind()
    for user_id in connection.scalars(sa.select(user.c.id)).all():
        connection.execute(user.update().where(user.c.id == user_id)
                           .values(session_token=secrets.token_urlsafe(32)))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_token')
    op.drop_index(op.f('ix_login_counter_window_start'), table_name='login_counter')
    op.drop_table('login_counter')
    op.drop_index(op.f('ix_user_session_user_id'), table_name='user_session')
    op.drop_table('user_session')
