"""verified addresses, and one table for every link mailed about an account

users.email_verified_at: when the user proved the address reaches them. Users who exist
now count as verified from when they were created: they were admitted before verification
existed (by the instance's own registration, or by an admin), and making them all verify
at once would hide their pending invitations and stop their mail until each one did.

password_reset_tokens becomes user_tokens, with a purpose ('reset', 'verify', 'email') and
the address each link was mailed to; waiting reset links are carried over.

Revision ID: f3b9d2c7a1e4
Revises: e1a7c3d9b5f2
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3b9d2c7a1e4'
down_revision = 'e1a7c3d9b5f2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True))
    op.execute('UPDATE users SET email_verified_at = created_at')

    op.create_table('user_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=10), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("purpose IN ('reset', 'verify', 'email')", name=op.f('ck_user_tokens_purpose')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_tokens_token_hash'))
    )
    with op.batch_alter_table('user_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_user_tokens_user', ['user_id', 'purpose'], unique=False)
    op.execute(
        "INSERT INTO user_tokens (user_id, purpose, email, token_hash, created_at, expires_at) "
        "SELECT t.user_id, 'reset', u.email, t.token_hash, t.created_at, t.expires_at "
        "FROM password_reset_tokens t JOIN users u ON u.id = t.user_id"
    )
    with op.batch_alter_table('password_reset_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_reset_tokens_user_id'))
    op.drop_table('password_reset_tokens')


def downgrade():
    op.create_table('password_reset_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_password_reset_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_reset_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_password_reset_tokens_token_hash'))
    )
    with op.batch_alter_table('password_reset_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_reset_tokens_user_id'), ['user_id'], unique=False)
    # Reset links keep working; links to verify or change an address have nowhere to go.
    op.execute(
        "INSERT INTO password_reset_tokens (user_id, token_hash, created_at, expires_at) "
        "SELECT user_id, token_hash, created_at, expires_at FROM user_tokens "
        "WHERE purpose = 'reset'"
    )
    with op.batch_alter_table('user_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_user_tokens_user')
    op.drop_table('user_tokens')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_verified_at')
