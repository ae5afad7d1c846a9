"""photo provenance: where the time came from, the camera's offset, camera or gallery

Revision ID: 7c2d9e4a1b55
Revises: 4b1f0c7e2a90
Create Date: 2026-12-02 19:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c2d9e4a1b55'
down_revision = '4b1f0c7e2a90'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_source', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('taken_offset', sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column('source', sa.String(length=10), server_default='unknown', nullable=False))


def downgrade():
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_column('source')
        batch_op.drop_column('taken_offset')
        batch_op.drop_column('time_source')
