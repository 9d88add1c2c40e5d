"""report summaries: respondent, current_answer, event_count, rollup_state, card_event.rolled_up

Written by hand: the tables of dashboard/models/rollup.py and the flag on card_event. Existing
events start pending: the first report (or the worker's sweep) counts them. Indexes that only the
old event-scanning report queries used are dropped (every callback wrote them).

Revision ID: f6a7b8c9d0e1
Revises: a3f1c0b8d2e4
Create Date: 2026-11-28 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f6a7b8c9d0e1'
down_revision = 'a3f1c0b8d2e4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('respondent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('userid', sa.String(length=64), nullable=False),
    sa.Column('first_time', sa.BigInteger(), nullable=False),
    sa.Column('last_time', sa.BigInteger(), nullable=False),
    sa.Column('answers', sa.Integer(), nullable=False),
    sa.Column('sent_time', sa.BigInteger(), nullable=True),
    sa.Column('response_seconds', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_respondent')),
    sa.UniqueConstraint('campaign_id', 'userid', name=op.f('uq_respondent_campaign_id'))
    )
    op.create_index('ix_respondent_first', 'respondent', ['campaign_id', 'first_time'], unique=False)
    op.create_index('ix_respondent_seconds', 'respondent', ['campaign_id', 'response_seconds'], unique=False)
    op.create_index('ix_respondent_answers', 'respondent', ['campaign_id', 'answers'], unique=False)
    op.create_table('current_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('userid', sa.String(length=64), nullable=False),
    sa.Column('question_key', sa.String(length=1024), nullable=False),
    sa.Column('option_id', sa.String(length=128), nullable=False),
    sa.Column('first_option', sa.Boolean(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('create_time', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_current_answer'))
    )
    op.create_index('ix_current_answer_tally', 'current_answer',
                    ['campaign_id', 'question_key', 'option_id', 'first_option', 'userid'], unique=False)
    op.create_index('ix_current_answer_user', 'current_answer', ['campaign_id', 'userid', 'question_key'],
                    unique=False)
    op.create_table('event_count',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('event_key', sa.String(length=1024), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_count')),
    sa.UniqueConstraint('campaign_id', 'event', 'event_key', name=op.f('uq_event_count_campaign_id'))
    )
    op.create_table('rollup_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('runs', sa.BigInteger(), nullable=False),
    sa.Column('events', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollup_state'))
    )
    with op.batch_alter_table('card_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rolled_up', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index('ix_card_event_pending', ['id'], unique=False,
                              sqlite_where=sa.text('rolled_up = 0'), postgresql_where=sa.text('NOT rolled_up'))
        # reports read the summaries now: fewer indexes for every callback to write
        batch_op.drop_index('ix_card_event_campaign_event_key')
        batch_op.drop_index('ix_card_event_task_id')
        batch_op.drop_index('ix_card_event_received_at')
    op.drop_index('ix_event_selection_tally', table_name='event_selection')


def downgrade():
    op.create_index('ix_event_selection_tally', 'event_selection', ['campaign_id', 'question_key', 'option_id'],
                    unique=False)
    with op.batch_alter_table('card_event', schema=None) as batch_op:
        batch_op.create_index('ix_card_event_received_at', ['received_at'], unique=False)
        batch_op.create_index('ix_card_event_task_id', ['task_id'], unique=False)
        batch_op.create_index('ix_card_event_campaign_event_key', ['campaign_id', 'event', 'event_key'], unique=False)
        batch_op.drop_index('ix_card_event_pending', sqlite_where=sa.text('rolled_up = 0'),
                            postgresql_where=sa.text('NOT rolled_up'))
        batch_op.drop_column('rolled_up')
    op.drop_table('rollup_state')
    op.drop_table('event_count')
    op.drop_index('ix_current_answer_user', table_name='current_answer')
    op.drop_index('ix_current_answer_tally', table_name='current_answer')
    op.drop_table('current_answer')
    op.drop_index('ix_respondent_answers', table_name='respondent')
    op.drop_index('ix_respondent_seconds', table_name='respondent')
    op.drop_index('ix_respondent_first', table_name='respondent')
    op.drop_table('respondent')
