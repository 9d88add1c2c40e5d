"""users: their own WeCom userid (the default recipient of a test send; WeCom sign-in fills it)

Written by hand: one nullable, indexed column on user (dashboard/models/user.py); NULL until
the user gives it on the account page.

Revision ID: c3e9a4f7b015
Revises: b2d5f8c03e21
Create Date: 2027-01-10 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3e9a4f7b015'
down_revision = 'b2d5f8c03e21'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wecom_userid', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_user_wecom_userid'), ['wecom_userid'], unique=False)


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_wecom_userid'))
        batch_op.drop_column('wecom_userid')
