"""task list indexes for keyset pagination

One partial index per indexed sort order of the list, on (owner_id, done, sort keys..., id)
WHERE deleted_at IS NULL, so a page is read in order from its cursor. They replace the
(owner_id, due_date), (owner_id, priority) and (owner_id, created_at) indexes, which could
find an owner's rows but not return them in list order. The "no due date last" key is the
expression (due_date IS NULL) and "highest priority first" is (-priority): expressions
indexed the same way on SQLite and PostgreSQL. Descending sorts read an index backwards.

Revision ID: 9e8759bcb97d
Revises: 95c34c4dfedf
Create Date: 2026-11-25 22:50:25.081084

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9e8759bcb97d'
down_revision = '95c34c4dfedf'
branch_labels = None
depends_on = None


LISTED = sa.text('deleted_at IS NULL')
NO_DUE = sa.literal_column('(due_date IS NULL)')

# name -> the keys after (owner_id, done)
LIST_INDEXES = {
    'ix_tasks_list_created': ['id'],
    'ix_tasks_list_due': [NO_DUE, 'due_date', 'id'],
    'ix_tasks_list_due_desc': [sa.literal_column('(due_date IS NOT NULL)'), 'due_date', 'id'],
    'ix_tasks_list_priority': [sa.literal_column('(-priority)'), NO_DUE, 'due_date', 'id'],
    'ix_tasks_list_priority_asc': ['priority', NO_DUE, 'due_date', 'id'],
    'ix_tasks_list_title': [sa.literal_column('lower(title)'), 'id'],
}


def upgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tasks_owner_created'))
        batch_op.drop_index(batch_op.f('ix_tasks_owner_due'))
        batch_op.drop_index(batch_op.f('ix_tasks_owner_priority'))
        for name, keys in LIST_INDEXES.items():
            batch_op.create_index(
                name, ['owner_id', 'done', *keys], unique=False,
                postgresql_where=LISTED, sqlite_where=LISTED,
            )


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        for name in reversed(LIST_INDEXES):
            batch_op.drop_index(name)
        batch_op.create_index(batch_op.f('ix_tasks_owner_priority'), ['owner_id', 'priority'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_owner_due'), ['owner_id', 'due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_owner_created'), ['owner_id', 'created_at'], unique=False)
