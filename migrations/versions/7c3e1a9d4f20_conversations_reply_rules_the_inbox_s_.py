"""conversations: reply rules, the inbox's messages, the app menu

dashboard/models/conversation.py (ReplyRule, ConversationMessage, ReplyCampaign, AppMenu).

Revision ID: 7c3e1a9d4f20
Revises: 5b2d9e6f8a13
Create Date: 2026-12-06 08:41:02.079283

"""
from alembic import op
import sqlalchemy as sa
import dashboard.models.base


# revision identifiers, used by Alembic.
revision = '7c3e1a9d4f20'
down_revision = '5b2d9e6f8a13'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('app_menu',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('menu', dashboard.models.base.JSONType(), nullable=False),
    sa.Column('updated_at', dashboard.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_at', dashboard.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('publish_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['published_by_id'], ['user.id'], name=op.f('fk_app_menu_published_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_menu'))
    )
    op.create_table('reply_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('reply_mode', sa.String(length=8), nullable=False),
    sa.Column('triggers', dashboard.models.base.JSONType(), nullable=False),
    sa.Column('replies', dashboard.models.base.JSONType(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', dashboard.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', dashboard.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_reply_rule_created_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reply_rule'))
    )
    with op.batch_alter_table('reply_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reply_rule_kind'), ['kind'], unique=False)

    op.create_table('conversation_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('userid', sa.String(length=64), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('msg_type', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('data', dashboard.models.base.JSONType(), nullable=True),
    sa.Column('create_time', sa.BigInteger(), nullable=True),
    sa.Column('created_at', dashboard.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('dedupe_key', sa.String(length=64), nullable=True),
    sa.Column('answered', sa.Boolean(), nullable=False),
    sa.Column('in_reply_to', sa.String(length=64), nullable=True),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('via', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_conversation_message_actor_id_user')),
    sa.ForeignKeyConstraint(['rule_id'], ['reply_rule.id'], name=op.f('fk_conversation_message_rule_id_reply_rule'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_message')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_conversation_message_dedupe_key'))
    )
    with op.batch_alter_table('conversation_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_message_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_conversation_message_reply_to', ['in_reply_to'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_message_rule_id'), ['rule_id'], unique=False)
        batch_op.create_index('ix_conversation_message_user_created', ['userid', 'created_at'], unique=False)

    op.create_table('reply_campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_reply_campaign_campaign_id_campaign')),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_reply_campaign_card_id_card')),
    sa.ForeignKeyConstraint(['rule_id'], ['reply_rule.id'], name=op.f('fk_reply_campaign_rule_id_reply_rule'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reply_campaign')),
    sa.UniqueConstraint('rule_id', 'card_id', name=op.f('uq_reply_campaign_rule_id'))
    )


def downgrade():
    op.drop_table('reply_campaign')
    with op.batch_alter_table('conversation_message', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_message_user_created')
        batch_op.drop_index(batch_op.f('ix_conversation_message_rule_id'))
        batch_op.drop_index('ix_conversation_message_reply_to')
        batch_op.drop_index(batch_op.f('ix_conversation_message_created_at'))

    op.drop_table('conversation_message')
    with op.batch_alter_table('reply_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reply_rule_kind'))

    op.drop_table('reply_rule')
    op.drop_table('app_menu')
