"""visits index covers the shopper: the shopper calibration reads (location, shopper, score) from it alone

Revision ID: 3f1c2b7a9d10
Revises: c86ac6a7a65d
Create Date: 2026-12-03 06:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3f1c2b7a9d10'
down_revision = 'c86ac6a7a65d'
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
