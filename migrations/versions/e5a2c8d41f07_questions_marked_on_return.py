"""questions the reviewer marked when returning a visit

Revision ID: e5a2c8d41f07
Revises: e5b2c8f41d07
Create Date: 2026-12-04 20:50:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = 'e5a2c8d41f07'
down_revision = 'e5b2c8f41d07'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable and without a default: visits returned before this have no marked questions, only their comment.
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_marks', sa.JSON().with_variant(
            postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))


def downgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_column('review_marks')
