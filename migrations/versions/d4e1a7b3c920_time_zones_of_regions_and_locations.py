"""time zones of regions and locations: IANA names; a location without one keeps its region's

Revision ID: d4e1a7b3c920
Revises: 3f1c2b7a9d10
Create Date: 2026-12-03 06:20:00.000000

"""
from alembic import op
import sqlalchemy as sa
from flask import current_app


# revision identifiers, used by Alembic.
revision = 'd4e1a7b3c920'
down_revision = '3f1c2b7a9d10'
branch_labels = None
depends_on = None


def upgrade():
    # Existing regions get the configured DEFAULT_TIMEZONE ("Europe/Moscow" unless set otherwise).
    zone = current_app.config.get("DEFAULT_TIMEZONE", "Europe/Moscow")
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))
    op.execute(sa.text("UPDATE regions SET timezone = :zone").bindparams(zone=zone))
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.alter_column('timezone', existing_type=sa.String(length=64), nullable=False)
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.drop_column('timezone')
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.drop_column('timezone')
