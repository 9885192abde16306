"""tasks: due_time, the wall-clock time of the due day

NULL: "some time that day", as every existing task is.

Revision ID: f3b8d1a6c2e4
Revises: f3b9d2c7a1e4
Create Date: 2026-12-04 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3b8d1a6c2e4'
down_revision = 'f3b9d2c7a1e4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_time', sa.Time(), nullable=True))


def downgrade():
    # A plain DROP COLUMN (SQLite has it since 3.35): batch mode would rebuild the table and
    # cannot reflect its expression indexes.
    op.drop_column('tasks', 'due_time')
