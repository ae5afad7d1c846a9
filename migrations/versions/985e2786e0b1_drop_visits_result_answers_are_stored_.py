"""drop visits.result: answers are stored once

Revision ID: 985e2786e0b1
Revises: 99aca4bbbba3
Create Date: 2026-12-02 13:31:59.124945

"""
from alembic import op
import sqlalchemy as sa

from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '985e2786e0b1'
down_revision = '99aca4bbbba3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_column('result')



def downgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'),
                                      nullable=True))

