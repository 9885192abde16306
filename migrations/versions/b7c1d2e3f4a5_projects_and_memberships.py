"""projects and memberships: every task belongs to a project, every user has an Inbox

Adds projects, memberships (a user's role in a project; the owner is a member with role 4)
and invitations. Each existing user gets an Inbox project and an owner membership of it, and
each existing task moves into its owner's Inbox. tasks.owner_id becomes tasks.created_by_id
(SET NULL when the account is deleted: a task added to someone else's project stays there),
tasks gain assignee_id, and the list indexes lead with project_id instead of owner_id.

Revision ID: b7c1d2e3f4a5
Revises: 9e8759bcb97d
Create Date: 2026-12-02 01:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7c1d2e3f4a5'
down_revision = '9e8759bcb97d'
branch_labels = None
depends_on = None


LISTED = sa.text('deleted_at IS NULL')
NO_DUE = sa.literal_column('(due_date IS NULL)')
OWNER = sa.text('role = 4')

# name -> the keys after (project_id or owner_id, done); as in revision 9e8759bcb97d
LIST_INDEXES = {
    'ix_tasks_list_created': ['id'],
    'ix_tasks_list_due': [NO_DUE, 'due_date', 'id'],
    'ix_tasks_list_due_desc': [sa.literal_column('(due_date IS NOT NULL)'), 'due_date', 'id'],
    'ix_tasks_list_priority': [sa.literal_column('(-priority)'), NO_DUE, 'due_date', 'id'],
    'ix_tasks_list_priority_asc': ['priority', NO_DUE, 'due_date', 'id'],
    'ix_tasks_list_title': [sa.literal_column('lower(title)'), 'id'],
}


ASSIGNED = sa.text('deleted_at IS NULL AND assignee_id IS NOT NULL')
# PostgreSQL: the column behind an expression key, so the cross-project views' arms are
# index-only scans (app/models.py). Not on the owner_id indexes a downgrade restores.
INCLUDE = {'ix_tasks_list_priority': ['priority'], 'ix_tasks_list_title': ['title']}


def _list_indexes(lead):
    for name, keys in LIST_INDEXES.items():
        include = INCLUDE.get(name, []) if lead == 'project_id' else []
        op.create_index(
            name, 'tasks', [lead, 'done', *keys], unique=False,
            postgresql_where=LISTED, sqlite_where=LISTED, postgresql_include=include,
        )


def _drop_list_indexes():
    for name in reversed(LIST_INDEXES):
        op.drop_index(name, table_name='tasks')


def _assigned_indexes():
    """The same keys on (assignee_id, done): "Assigned to me" across projects."""
    for name, keys in LIST_INDEXES.items():
        op.create_index(
            name.replace('_list_', '_assigned_'), 'tasks', ['assignee_id', 'done', *keys],
            unique=False, postgresql_where=ASSIGNED, sqlite_where=ASSIGNED,
            postgresql_include=INCLUDE.get(name, []),
        )


def _drop_assigned_indexes():
    for name in reversed(LIST_INDEXES):
        op.drop_index(name.replace('_list_', '_assigned_'), table_name='tasks')


def upgrade():
    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('name_key', sa.String(length=80), nullable=False),
    sa.Column('colour', sa.String(length=7), nullable=False),
    sa.Column('inbox_of_id', sa.Integer(), nullable=True),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(name) BETWEEN 1 AND 80', name=op.f('ck_projects_name_length')),
    sa.ForeignKeyConstraint(['inbox_of_id'], ['users.id'], name=op.f('fk_projects_inbox_of_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects')),
    sa.UniqueConstraint('inbox_of_id', name=op.f('uq_projects_inbox_of_id'))
    )
    op.create_table('memberships',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.SmallInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('role BETWEEN 1 AND 4', name=op.f('ck_memberships_role_range')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_memberships_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_memberships_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'user_id', name=op.f('pk_memberships'))
    )
    op.create_index('ix_memberships_user', 'memberships', ['user_id', 'project_id', 'role'], unique=False)
    op.create_index('ix_memberships_one_owner', 'memberships', ['project_id'], unique=True,
                    postgresql_where=OWNER, sqlite_where=OWNER)
    op.create_table('invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('role', sa.SmallInteger(), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('role BETWEEN 1 AND 3', name=op.f('ck_invitations_role_range')),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_invitations_invited_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_invitations_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('project_id', 'email', name=op.f('uq_invitations_project_id_email'))
    )
    op.create_index(op.f('ix_invitations_email'), 'invitations', ['email'], unique=False)

    # Every user's Inbox, and its owner's membership; then every task into its owner's Inbox.
    op.execute(
        "INSERT INTO projects (name, name_key, colour, inbox_of_id, created_at) "
        "SELECT 'Inbox', 'inbox', '#6b7280', id, created_at FROM users"
    )
    op.execute(
        "INSERT INTO memberships (project_id, user_id, role, created_at) "
        "SELECT id, inbox_of_id, 4, created_at FROM projects"
    )
    _drop_list_indexes()
    op.drop_index('ix_tasks_owner_done', table_name='tasks')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('project_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('assignee_id', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE tasks SET created_by_id = owner_id, "
        "project_id = (SELECT projects.id FROM projects WHERE projects.inbox_of_id = tasks.owner_id)"
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.alter_column('project_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint('fk_tasks_owner_id_users', type_='foreignkey')
        batch_op.drop_column('owner_id')
        batch_op.create_foreign_key(batch_op.f('fk_tasks_project_id_projects'), 'projects', ['project_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_tasks_created_by_id_users'), 'users', ['created_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_tasks_assignee_id_users'), 'users', ['assignee_id'], ['id'], ondelete='SET NULL')
    op.create_index('ix_tasks_created_by_done', 'tasks', ['created_by_id', 'done'], unique=False)
    op.create_index('ix_tasks_assignee', 'tasks', ['assignee_id'], unique=False)
    _list_indexes('project_id')
    _assigned_indexes()


def downgrade():
    # Each task goes back to its project's owner (the one who owned it is gone if the project
    # was handed over); projects, memberships and invitations are dropped.
    _drop_assigned_indexes()
    _drop_list_indexes()
    op.drop_index('ix_tasks_assignee', table_name='tasks')
    op.drop_index('ix_tasks_created_by_done', table_name='tasks')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE tasks SET owner_id = (SELECT memberships.user_id FROM memberships "
        "WHERE memberships.project_id = tasks.project_id AND memberships.role = 4)"
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint('fk_tasks_assignee_id_users', type_='foreignkey')
        batch_op.drop_constraint('fk_tasks_created_by_id_users', type_='foreignkey')
        batch_op.drop_constraint('fk_tasks_project_id_projects', type_='foreignkey')
        batch_op.drop_column('assignee_id')
        batch_op.drop_column('created_by_id')
        batch_op.drop_column('project_id')
        batch_op.alter_column('owner_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key('fk_tasks_owner_id_users', 'users', ['owner_id'], ['id'], ondelete='CASCADE')
    op.create_index('ix_tasks_owner_done', 'tasks', ['owner_id', 'done'], unique=False)
    _list_indexes('owner_id')
    op.drop_index(op.f('ix_invitations_email'), table_name='invitations')
    op.drop_table('invitations')
    op.drop_index('ix_memberships_one_owner', table_name='memberships')
    op.drop_index('ix_memberships_user', table_name='memberships')
    op.drop_table('memberships')
    op.drop_table('projects')
