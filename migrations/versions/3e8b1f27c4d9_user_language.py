"""i18n: the language a user chose (zh, en), kept on the user; NULL follows the browser

Written by hand: one nullable column on user (dashboard/models/user.py).

Revision ID: 3e8b1f27c4d9
Revises: c9d0e1f2a3b4
Create Date: 2026-12-06 05:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3e8b1f27c4d9'
down_revision = 'c9d0e1f2a3b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('language')
