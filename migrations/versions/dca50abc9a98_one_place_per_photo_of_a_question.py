"""one place per photo of a question

Revision ID: dca50abc9a98
Revises: cf7b1fd93c3a
Create Date: 2026-12-02 15:05:22.700046

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'dca50abc9a98'
down_revision = 'cf7b1fd93c3a'
branch_labels = None
depends_on = None


def upgrade():
    # Existing photos take their places in upload order, so no two of a question share one.
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slot', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE photos SET slot = (SELECT count(*) FROM photos AS earlier WHERE earlier.visit_id = photos.visit_id"
        " AND earlier.question_id = photos.question_id AND earlier.id < photos.id)"
    )
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.alter_column('slot', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint('uq_photos_visit_question_slot', ['visit_id', 'question_id', 'slot'])
        batch_op.create_check_constraint('slot_not_negative', 'slot >= 0')


def downgrade():
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_photos_slot_not_negative'), type_='check')
        batch_op.drop_constraint('uq_photos_visit_question_slot', type_='unique')
        batch_op.drop_column('slot')
