"""the manager who has taken a visit for review

Revision ID: f3c1a9d27b40
Revises: fa87d757f571
Create Date: 2026-12-04 21:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3c1a9d27b40'
down_revision = 'fa87d757f571'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: every visit handed in before this is nobody's yet, which the queue shows as "unassigned".
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reviewer_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_visits_reviewer_id'), ['reviewer_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_visits_reviewer_id_users'), 'users', ['reviewer_id'], ['id'])


def downgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_visits_reviewer_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_visits_reviewer_id'))
        batch_op.drop_column('reviewer_id')
