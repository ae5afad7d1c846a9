"""How long a text and how big a number of a checklist or survey may be: what the database stores.

The models size their columns with these, and the schemas refuse longer values at `validate` with
file:line, so a checklist that validates can always be stored and submitted.
tests/test_checklist_bounds.py fails when a column and its bound drift apart.
"""

#: Checklist and survey ids, section and question ids (checklist_versions.checklist_id,
#: answers.question_id, answers.section_id, visit_section_scores.section_id, survey_responses.survey_id).
ID_LENGTH = 100
#: Checklist titles (checklist_versions.title).
TITLE_LENGTH = 300
#: Grade labels (visits.grade).
GRADE_LENGTH = 60
#: Versions (integer columns).
MAX_VERSION = 2**31 - 1
