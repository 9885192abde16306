"""daily digest and mail preferences on users

users.digest_hour: the local hour the daily digest is mailed at (NULL: off).
users.digest_sent_on: the local date of the last digest (its once-a-day key).
users.reminder_mail: whether reminders are mailed as well as shown in the app.
users.mail_key: the per-user value signed into unsubscribe links.

Revision ID: b2d6f8a4c1e9
Revises: a9c4e2f7b1d3
Create Date: 2026-12-02 09:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b2d6f8a4c1e9'
down_revision = 'a9c4e2f7b1d3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest_hour', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('digest_sent_on', sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column('reminder_mail', sa.Boolean(), server_default=sa.text('true'), nullable=False)
        )
        batch_op.add_column(sa.Column('mail_key', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('mail_key')
        batch_op.drop_column('reminder_mail')
        batch_op.drop_column('digest_sent_on')
        batch_op.drop_column('digest_hour')
