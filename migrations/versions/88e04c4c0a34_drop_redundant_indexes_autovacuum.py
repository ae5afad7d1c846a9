"""drop indexes that a unique constraint or a wider index already leads with; autovacuum the fact tables sooner

Revision ID: 88e04c4c0a34
Revises: c86ac6a7a65d
Create Date: 2026-12-03 06:20:00

Each dropped index is the first column of another index on the same table, so every lookup it
served is served as well by the other one, and each insert wrote one index less.
The fact tables grow by appends: PostgreSQL's default (vacuum after 20 % new rows) leaves the
visibility map of the newest rows empty for weeks, and exactly those rows, the dashboards'
window, then miss the covering indexes' index-only scans. 2 % new or changed rows is enough.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '88e04c4c0a34'
down_revision = 'c86ac6a7a65d'
branch_labels = None
depends_on = None

#: (index, table, columns): what upgrade drops and downgrade restores.
REDUNDANT = [
    ("ix_answers_visit_id", "answers", ["visit_id"]),              # uq_answers_visit_question
    ("ix_photos_visit_id", "photos", ["visit_id"]),                # uq_photos_visit_client
    ("ix_visit_section_scores_visit_id", "visit_section_scores", ["visit_id"]),  # uq_..._visit_section
    ("ix_checklist_versions_checklist_id", "checklist_versions", ["checklist_id"]),  # uq_..._id_version
    ("ix_visits_location_id", "visits", ["location_id"]),          # ix_visits_location_visited
    ("ix_visits_status", "visits", ["status"]),                    # ix_visits_status_visited
    ("ix_survey_responses_location_id", "survey_responses", ["location_id"]),  # ix_..._location_submitted
]
FACT_TABLES = ["visits", "answers", "visit_section_scores", "score_rollups", "question_rollups",
               "region_question_rollups"]
AUTOVACUUM = ("autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02, "
              "autovacuum_analyze_scale_factor = 0.01")


def upgrade():
    for name, table, _columns in REDUNDANT:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
    if op.get_bind().dialect.name == "postgresql":
        for table in FACT_TABLES:
            op.execute(f"ALTER TABLE {table} SET ({AUTOVACUUM})")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in FACT_TABLES:
            op.execute(f"ALTER TABLE {table} RESET (autovacuum_vacuum_scale_factor, "
                       "autovacuum_vacuum_insert_scale_factor, autovacuum_analyze_scale_factor)")
    for name, table, columns in REDUNDANT:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)
