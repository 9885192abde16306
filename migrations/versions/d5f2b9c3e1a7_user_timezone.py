"""users: timezone, each user's own "today"

An IANA zone name (e.g. "Europe/Paris"); NULL follows the instance's TIMEZONE, so every
existing user keeps the dates they see now.

Revision ID: d5f2b9c3e1a7
Revises: c4e8a1f0d2b6
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5f2b9c3e1a7'
down_revision = 'c4e8a1f0d2b6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('timezone')
