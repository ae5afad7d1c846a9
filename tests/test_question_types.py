"""The question-type classes against the shared table of cases (the phone runs the same table)."""
import pytest

from app.checklists import parse_checklist
from app.checklists.questions import clock
from app.scoring import visible_questions
from tests.cases.question_types import CASES, CHECKLIST, DURATIONS, VISIBILITY

checklist = parse_checklist(CHECKLIST)
CONDITIONAL = [q.id for q in checklist.questions if q.show_if]


@pytest.mark.parametrize(("question_id", "value", "fraction", "comment_required"), CASES)
def test_fraction_and_comment_rule(question_id, value, fraction, comment_required):
    question = checklist.question(question_id)
    canonical = question.read(value)
    assert canonical == value
    if fraction is None or value == "na":
        assert value == "na" or question.fraction(canonical) is None
    else:
        assert question.fraction(canonical) == pytest.approx(fraction)
    assert question.needs_comment(canonical) is comment_required


@pytest.mark.parametrize(("seconds", "text"), DURATIONS)
def test_durations_read_as_on_the_stopwatch(seconds, text):
    assert clock(seconds) == text
    assert checklist.question("du").answer_text("answered", seconds) == text
    assert checklist.question("du").read(text) == seconds  # what a person types back is the same time


@pytest.mark.parametrize(("answers", "hidden"), VISIBILITY)
def test_show_if(answers, hidden):
    visible = visible_questions(checklist, answers)
    assert sorted(set(CONDITIONAL) - visible) == sorted(hidden)


@pytest.mark.parametrize(("question_id", "status", "value", "words"), [
    ("yn", "answered", "yes", "Yes"),
    ("yn", "answered", "no", "No"),
    ("yn_no", "na", "na", "Not applicable"),
    ("sc", "answered", 5, "5 of 5"),
    ("ch", "answered", "half", "When asked"),
    ("nu", "answered", 2.5, "2.5 people"),
    ("nu_free", "answered", 3, "3"),
    ("du", "answered", 3700, "1:01:40"),
    ("tx", "answered", "Clean", "Clean"),
    ("shown", "hidden", None, "Not asked"),
    ("sc0", "unanswered", None, "Not answered"),
])
def test_words_people_read(question_id, status, value, words):
    assert checklist.question(question_id).answer_text(status, value) == words


def test_scale_labels_join_the_number():
    labelled = parse_checklist(CHECKLIST.replace("{id: sc, text: Tone, type: scale, min: 1, max: 5,",
                                                 "{id: sc, text: Tone, type: scale, min: 1, max: 5,"
                                                 " labels: {5: Warm},"))
    assert labelled.question("sc").answer_text("answered", 5) == "5 of 5 (Warm)"
    assert labelled.question("sc").answer_text("answered", 4) == "4 of 5"


def test_every_type_names_an_existing_form_control(app):
    from app.checklists.questions import QUESTION_CLASSES

    for kind in QUESTION_CLASSES:
        assert app.jinja_env.get_template(f"questions/{kind}.html")
