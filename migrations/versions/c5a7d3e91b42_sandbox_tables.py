"""sandbox: the built-in WeCom's directory, tokens, messages, inboxes, callbacks and faults

Written by hand: only the sandbox_ tables (dashboard/models/sandbox.py).

Revision ID: c5a7d3e91b42
Revises: 7d17bdde29e1
Create Date: 2026-11-28 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa
import dashboard.models.base


# revision identifiers, used by Alembic.
revision = 'c5a7d3e91b42'
down_revision = '7d17bdde29e1'
branch_labels = None
depends_on = None

UTC = dashboard.models.base.UTCDateTime(timezone=True)
JSON = dashboard.models.base.JSONType()


def upgrade():
    op.create_table('sandbox_department',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('name_en', sa.String(length=64), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_department'))
    )
    op.create_table('sandbox_employee',
    sa.Column('userid', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('position', sa.String(length=64), nullable=False),
    sa.Column('departments', JSON, nullable=False),
    sa.Column('licensed', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('userid', name=op.f('pk_sandbox_employee'))
    )
    op.create_table('sandbox_tag',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('userids', JSON, nullable=False),
    sa.Column('department_ids', JSON, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_tag'))
    )
    op.create_table('sandbox_token',
    sa.Column('token', sa.String(length=128), nullable=False),
    sa.Column('expires_at', UTC, nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_sandbox_token'))
    )
    with op.batch_alter_table('sandbox_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sandbox_token_expires_at'), ['expires_at'], unique=False)

    op.create_table('sandbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('msgid', sa.String(length=64), nullable=False),
    sa.Column('task_id', sa.String(length=128), nullable=True),
    sa.Column('card_type', sa.String(length=32), nullable=False),
    sa.Column('card', JSON, nullable=False),
    sa.Column('request', JSON, nullable=False),
    sa.Column('body_hash', sa.String(length=64), nullable=False),
    sa.Column('answer', JSON, nullable=False),
    sa.Column('recipients', JSON, nullable=False),
    sa.Column('dropped', JSON, nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('recalled_at', UTC, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_message')),
    sa.UniqueConstraint('msgid', name=op.f('uq_sandbox_message_msgid')),
    sa.UniqueConstraint('task_id', name=op.f('uq_sandbox_message_task_id'))
    )
    with op.batch_alter_table('sandbox_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sandbox_message_body_hash'), ['body_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_sandbox_message_created_at'), ['created_at'], unique=False)

    op.create_table('sandbox_response_code',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('userid', sa.String(length=64), nullable=True),
    sa.Column('expires_at', UTC, nullable=False),
    sa.Column('used_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['sandbox_message.id'], name=op.f('fk_sandbox_response_code_message_id_sandbox_message')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_sandbox_response_code'))
    )
    with op.batch_alter_table('sandbox_response_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sandbox_response_code_message_id'), ['message_id'], unique=False)

    op.create_table('sandbox_inbox_card',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('userid', sa.String(length=64), nullable=False),
    sa.Column('card', JSON, nullable=True),
    sa.Column('replace_name', sa.String(length=128), nullable=True),
    sa.Column('answer', JSON, nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('delivered_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['sandbox_message.id'], name=op.f('fk_sandbox_inbox_card_message_id_sandbox_message')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_inbox_card')),
    sa.UniqueConstraint('message_id', 'userid', name=op.f('uq_sandbox_inbox_card_message_id'))
    )
    with op.batch_alter_table('sandbox_inbox_card', schema=None) as batch_op:
        batch_op.create_index('ix_sandbox_inbox_card_userid_delivered', ['userid', 'delivered_at'], unique=False)

    op.create_table('sandbox_callback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inbox_card_id', sa.Integer(), nullable=False),
    sa.Column('userid', sa.String(length=64), nullable=False),
    sa.Column('event', sa.String(length=32), nullable=False),
    sa.Column('event_key', sa.String(length=1024), nullable=False),
    sa.Column('selected', JSON, nullable=True),
    sa.Column('xml', sa.Text(), nullable=False),
    sa.Column('query', JSON, nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', JSON, nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('reply_kind', sa.String(length=32), nullable=True),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('finished_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['inbox_card_id'], ['sandbox_inbox_card.id'], name=op.f('fk_sandbox_callback_inbox_card_id_sandbox_inbox_card')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_callback'))
    )
    with op.batch_alter_table('sandbox_callback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sandbox_callback_inbox_card_id'), ['inbox_card_id'], unique=False)
        batch_op.create_index('ix_sandbox_callback_userid_created', ['userid', 'created_at'], unique=False)

    op.create_table('sandbox_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('latency_ms', sa.Integer(), nullable=False),
    sa.Column('fail_next', sa.Integer(), nullable=False),
    sa.Column('limit_next', sa.Integer(), nullable=False),
    sa.Column('token_ttl', sa.Integer(), nullable=False),
    sa.Column('duplicate_callbacks', sa.Boolean(), nullable=False),
    sa.Column('slow_callbacks', sa.Integer(), nullable=False),
    sa.Column('updated_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_settings'))
    )
    op.create_table('sandbox_api_call',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', UTC, nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('path', sa.String(length=64), nullable=False),
    sa.Column('errcode', sa.Integer(), nullable=True),
    sa.Column('millis', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_api_call'))
    )


def downgrade():
    for table in ('sandbox_api_call', 'sandbox_settings', 'sandbox_callback', 'sandbox_inbox_card',
                  'sandbox_response_code', 'sandbox_message', 'sandbox_token', 'sandbox_tag',
                  'sandbox_employee', 'sandbox_department'):
        op.drop_table(table)
