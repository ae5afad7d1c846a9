"""figures version of regions: the data version the figures cache keys on

Revision ID: e5b2c8f41d07
Revises: d4e1a7b3c920
Create Date: 2026-12-04 20:30:00.000000

Existing regions start at the clock (microseconds), not 0: a database restored from an older backup
and migrated again must not reach a version that cached figures of other data were stored under.
"""
import time

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5b2c8f41d07'
down_revision = 'd4e1a7b3c920'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('figures_version', sa.BigInteger(), server_default='0', nullable=False))
    op.execute(sa.text("UPDATE regions SET figures_version = :now").bindparams(now=time.time_ns() // 1000))


def downgrade():
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.drop_column('figures_version')
