"""photos processed by a job: status, problem, size unknown while pending

Revision ID: 4b1f0c7e2a90
Revises: dca50abc9a98
Create Date: 2026-12-02 19:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4b1f0c7e2a90'
down_revision = 'dca50abc9a98'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=10), server_default='ready', nullable=False))
        batch_op.add_column(sa.Column('problem', sa.String(length=20), nullable=True))
        batch_op.alter_column('width', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('height', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('byte_size', existing_type=sa.Integer(), nullable=True)


def downgrade():
    op.execute("DELETE FROM photos WHERE status <> 'ready'")
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.alter_column('byte_size', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('height', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('width', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('problem')
        batch_op.drop_column('status')
