"""usernames unique case-insensitively: users.username_canonical

Revision ID: 3f1c9a7e5b20
Revises: a3f1c2d4e5b6
Create Date: 2026-11-28 09:00:00

NFKC + case-folded username (app/services/usernames.py), filled in for existing rows. If two
existing names collide ("Alice" and "alice"), the upgrade stops and names them: an operator
renames one, since silently merging or renaming accounts is not a migration's call.
"""
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f1c9a7e5b20'
down_revision = 'a3f1c2d4e5b6'
branch_labels = None
depends_on = None


def canonical(username):
    # Kept here (not imported from the app) so the migration never changes under it.
    name = unicodedata.normalize("NFKC", username).strip()
    return unicodedata.normalize("NFKC", name.casefold())


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username_canonical', sa.String(length=64), nullable=True))

    conn = op.get_bind()
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('username', sa.String),
                     sa.column('username_canonical', sa.String))
    seen = {}
    for user_id, username in conn.execute(sa.select(users.c.id, users.c.username)).all():
        key = canonical(username)
        if key in seen:
            raise RuntimeError(
                f"usernames {seen[key]!r} and {username!r} differ only in case or width; "
                "rename one of them, then upgrade again"
            )
        seen[key] = username
        conn.execute(users.update().where(users.c.id == user_id).values(username_canonical=key))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('username_canonical', existing_type=sa.String(length=64),
                              nullable=False)
        batch_op.create_index(batch_op.f('ix_users_username_canonical'), ['username_canonical'],
                              unique=True)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_username_canonical'))
        batch_op.drop_column('username_canonical')
