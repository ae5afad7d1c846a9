"""A checklist that validates can always be stored and submitted: texts and numbers bounded by the columns."""
import pytest

from app.checklists import bounds
from app.checklists.loader import ChecklistError, load_checklist_file, parse_checklist
from app.models import Answer, ChecklistVersion, CorrectiveAction, Photo, SurveyResponse, Visit, VisitSectionScore
from tests.conftest import SAMPLE_CHECKLIST


@pytest.mark.parametrize(("column", "bound"), [
    (ChecklistVersion.checklist_id, bounds.ID_LENGTH),
    (ChecklistVersion.title, bounds.TITLE_LENGTH),
    (Answer.question_id, bounds.ID_LENGTH),
    (Answer.section_id, bounds.ID_LENGTH),
    (VisitSectionScore.section_id, bounds.ID_LENGTH),
    (Photo.question_id, bounds.ID_LENGTH),
    (CorrectiveAction.question_id, bounds.ID_LENGTH),
    (SurveyResponse.survey_id, bounds.ID_LENGTH),
    (Visit.grade, bounds.GRADE_LENGTH),
])
def test_columns_hold_what_the_schema_allows(column, bound):
    assert column.property.columns[0].type.length == bound


LONG_SECTION, LONG_QUESTION = "g" * 101, "q" * 101


def only_problem(text: str) -> str:
    with pytest.raises(ChecklistError) as caught:
        parse_checklist(text, "long.yaml")
    [problem] = caught.value.problems
    return str(problem)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("id: sample-visit", "id: " + "s" * 101, "long.yaml:1: id is 101 characters long; at most 100 can be stored"),
    ("title: Sample store visit", "title: " + "T" * 301, "long.yaml:3: title is 301 characters long; at most 300"),
    ("version: 1", f"version: {2**31}", "long.yaml:2: version must be at most 2,147,483,647"),
    ("  - id: greeting", f"  - id: {LONG_SECTION}", f'long.yaml:5: section "{LONG_SECTION}": id is 101 characters'),
    ("      - id: greeted", f"      - id: {LONG_QUESTION}", f'long.yaml:9: question "{LONG_QUESTION}": id is 101 char'),
])
def test_values_the_database_cannot_hold_are_refused_at_validate(old, new, expected):
    assert old in SAMPLE_CHECKLIST
    assert expected in only_problem(SAMPLE_CHECKLIST.replace(old, new, 1))


def test_a_long_grade_label_is_refused_at_validate():
    text = SAMPLE_CHECKLIST.replace("sections:", "grades:\n  - {min: 0, label: " + "L" * 61 + "}\nsections:", 1)
    assert "label is 61 characters long; at most 60 can be stored" in only_problem(text)


def test_a_large_honest_checklist_is_not_taken_for_an_alias_bomb(tmp_path):
    """Regression: 940 KB with 20,000 questions was refused as "an alias bomb?"."""
    lines = ["id: big", "version: 1", "title: Big audit", "sections:"]
    for s in range(100):
        lines += [f"  - id: s{s}", f"    title: Section {s}", "    questions:"]
        lines += [f"    - {{id: q{s}_{q}, text: Done {q}?, type: yes_no}}" for q in range(200)]
    path = tmp_path / "big.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert 800_000 < path.stat().st_size < 1024 * 1024
    assert load_checklist_file(path).checklist.question_count == 20_000
