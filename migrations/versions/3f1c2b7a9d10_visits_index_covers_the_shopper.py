"""visits index covers the shopper: the shopper calibration reads (location, shopper, score) from it alone

Revision ID: 3f1c2b7a9d10
Revises: 8b4896ed0634
Create Date: 2026-12-03 06:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3f1c2b7a9d10'
down_revision = '8b4896ed0634'
branch_labels = None
depends_on = None

OLD = ['status', 'visited_at', 'location_id', 'checklist_version_id', 'score']


def upgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('ix_visits_status_visited')
        batch_op.create_index('ix_visits_status_visited', [*OLD, 'shopper_id'], unique=False)


def downgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('ix_visits_status_visited')
        batch_op.create_index('ix_visits_status_visited', OLD, unique=False)
