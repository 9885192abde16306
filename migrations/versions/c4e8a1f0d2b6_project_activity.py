"""project activity: who did what to which task in a project, and when

One row per event, written in the transaction of the change. Actor and task keep a name
snapshot next to their key (actor SET NULL when the account goes; task_id has no foreign
key, since deleted tasks are purged and their events stay); the project's deletion takes
its events with it.

Revision ID: c4e8a1f0d2b6
Revises: b7c1d2e3f4a5
Create Date: 2026-12-02 01:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8a1f0d2b6'
down_revision = 'b7c1d2e3f4a5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=80), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('task_title', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('other_project_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_activity_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_activity_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['other_project_id'], ['projects.id'], name=op.f('fk_activity_other_project_id_projects'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity'))
    )
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.create_index('ix_activity_project', ['project_id', 'id'], unique=False)
        batch_op.create_index('ix_activity_actor', ['actor_id'], unique=False)
        batch_op.create_index('ix_activity_other_project', ['other_project_id'], unique=False, postgresql_where=sa.text('other_project_id IS NOT NULL'), sqlite_where=sa.text('other_project_id IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_other_project', postgresql_where=sa.text('other_project_id IS NOT NULL'), sqlite_where=sa.text('other_project_id IS NOT NULL'))
        batch_op.drop_index('ix_activity_actor')
        batch_op.drop_index('ix_activity_project')

    op.drop_table('activity')
