"""Scoring (contract sections 3 and 4): exact numbers for every rule, and properties over random checklists."""
import copy
import math
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.checklists.loader import parse_checklist
from app.checklists.schema import Checklist
from app.scoring import (
    Answer,
    AnswersInvalid,
    normalize_answers,
    score_visit,
    validate_answers,
    visible_questions,
)

STORE = textwrap.dedent("""\
    id: store
    version: 1
    title: Store
    sections:
      - id: greeting
        title: Greeting
        weight: 2
        questions:
          - id: greeted
            text: Greeted?
            type: yes_no
            weight: 2
          - id: tone
            text: Tone
            type: scale
            labels: {1: Rude, 5: Warm}
      - id: service
        title: Service
        questions:
          - id: wait
            text: Wait
            type: duration
            target: 60
            limit: 300
          - id: bag
            text: Bag
            type: choice
            options:
              - {value: full, label: Full, score: 1}
              - {value: asked, label: When asked, score: 0.5}
              - {value: none, label: No, score: 0}
""")

FULL = {"greeted": "yes", "tone": 5, "wait": 30, "bag": "full"}


def checklist_with(*questions: str, policy: str = "fail_visit", extra: str = "") -> Checklist:
    """Return a one-section checklist made of the given question YAML blocks."""
    body = "".join(textwrap.indent(textwrap.dedent(q).strip() + "\n", "      ") for q in questions)
    text = f"id: t\nversion: 1\ntitle: T\ncritical_policy: {policy}\n{extra}sections:\n  - id: s\n    title: S\n" \
           f"    questions:\n{body}"
    return parse_checklist(text)


def fraction(question_yaml: str, value) -> float | None:
    """Return the fraction the single question earns for `value`."""
    checklist = checklist_with(question_yaml)
    return score_visit(checklist, {checklist.questions[0].id: value}).questions[checklist.questions[0].id].fraction


# -- fractions per type ----------------------------------------------------------------------------

YES_NO = "- {id: q, text: Q, type: yes_no}"
EXPECT_NO = "- {id: q, text: Q, type: yes_no, expected: 'no'}"
SCALE = "- {id: q, text: Q, type: scale, min: 0, max: 4}"
CHOICE = "- {id: q, text: Q, type: choice, options: [{value: a, label: A, score: 1}, {value: b, label: B, score: 0.3}]}"
DURATION = "- {id: q, text: Q, type: duration, target: 60, limit: 300}"
NUMBER = "- {id: q, text: Q, type: number, target: 2, limit: 6}"


@pytest.mark.parametrize(
    ("question", "value", "expected"),
    [
        (YES_NO, "yes", 1.0), (YES_NO, "no", 0.0), (YES_NO, True, 1.0), (YES_NO, "false", 0.0),
        (EXPECT_NO, "no", 1.0), (EXPECT_NO, "yes", 0.0),
        (SCALE, 0, 0.0), (SCALE, 1, 0.25), (SCALE, 3, 0.75), (SCALE, 4, 1.0), (SCALE, "2", 0.5),
        (CHOICE, "a", 1.0), (CHOICE, "b", 0.3),
        (DURATION, 0, 1.0), (DURATION, 60, 1.0), (DURATION, 120, 0.75), (DURATION, "2:00", 0.75),
        (DURATION, "0:04:00", 0.25), (DURATION, 300, 0.0), (DURATION, 3000, 0.0),
        (NUMBER, 1.5, 1.0), (NUMBER, 2, 1.0), (NUMBER, 3, 0.75), (NUMBER, 5, 0.25), (NUMBER, 6, 0.0), (NUMBER, -1, 1.0),
    ],
)
def test_fraction_of_each_type(question, value, expected):
    assert fraction(question, value) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("question", "value"),
    [
        ("- {id: q, text: Q, type: number, unit: people}", 4),
        ("- {id: q, text: Q, type: text}", "Nice shop"),
        ("- {id: q, text: Q, type: photo}", ["p1", "p2"]),
    ],
)
def test_unscored_types_add_nothing(question, value):
    checklist = checklist_with(question, "- {id: other, text: O, type: yes_no}")
    result = score_visit(checklist, {"q": value, "other": "yes"})
    assert result.questions["q"].fraction is None
    assert (result.questions["q"].points, result.questions["q"].max) == (0.0, 0.0)
    assert result.sections["s"].max == 1.0
    assert result.score == 100.0


# -- points, sections and the visit ----------------------------------------------------------------

def test_full_marks():
    result = score_visit(parse_checklist(STORE), FULL)
    assert (result.score, result.grade, result.critical_failures) == (100.0, "Excellent", [])


def test_exact_section_and_visit_scores():
    # greeting: greeted 2*0 + tone 1*0.75 = 0.75 of 3 -> 25%; service: wait 0.75 + bag 0.5 of 2 -> 62.5%
    # visit: (2*25 + 1*62.5) / 3 = 37.5
    result = score_visit(parse_checklist(STORE), {"greeted": "no", "tone": 4, "wait": 120, "bag": "asked"})
    greeting, service = result.sections["greeting"], result.sections["service"]
    assert (greeting.points, greeting.max, greeting.weight, greeting.score) == (0.75, 3.0, 2.0, 25.0)
    assert (service.points, service.max, service.weight, service.score) == (1.25, 2.0, 1.0, 62.5)
    assert result.score == 37.5
    assert result.grade == "Poor"
    assert result.questions["greeted"].points == 0.0 and result.questions["greeted"].max == 2.0
    assert result.questions["tone"].points == 0.75


def test_scores_are_unrounded():
    result = score_visit(parse_checklist(STORE), {**FULL, "tone": 4, "bag": "asked"})
    assert result.sections["greeting"].score == 100 * 2.75 / 3
    assert result.sections["service"].score == 75.0
    assert result.score == (2 * (100 * 2.75 / 3) + 75.0) / 3


def test_weight_zero_is_asked_but_not_scored():
    checklist = checklist_with("- {id: asked, text: A, type: yes_no, weight: 0}", "- {id: b, text: B, type: yes_no}")
    result = score_visit(checklist, {"asked": "no", "b": "yes"})
    assert result.questions["asked"].fraction == 0.0
    assert (result.questions["asked"].points, result.questions["asked"].max) == (0.0, 0.0)
    assert result.score == 100.0


def test_section_without_scored_answers_has_no_score_and_is_left_out():
    checklist = parse_checklist(textwrap.dedent("""\
        id: t
        version: 1
        title: T
        sections:
          - {id: a, title: A, weight: 2, questions: [{id: q1, text: Q, type: scale}]}
          - id: b
            title: B
            weight: 5
            questions:
              - {id: q2, text: Q, type: yes_no, allow_na: true}
              - {id: q3, text: Q, type: text}
    """))
    result = score_visit(checklist, {"q1": 3, "q2": "na", "q3": "Clean"})
    assert result.sections["b"].score is None
    assert (result.sections["b"].points, result.sections["b"].max) == (0.0, 0.0)
    assert result.sections["a"].score == 50.0
    assert result.score == 50.0


def test_no_scored_answer_at_all_gives_no_score_and_no_grade():
    checklist = checklist_with("- {id: a, text: A, type: yes_no, allow_na: true}", "- {id: t, text: T, type: text}")
    result = score_visit(checklist, {"a": "na"})
    assert (result.score, result.grade, result.sections["s"].score) == (None, None, None)


def test_na_adds_nothing():
    checklist = checklist_with(
        "- {id: a, text: A, type: yes_no, allow_na: true, weight: 5}", "- {id: b, text: B, type: scale}"
    )
    result = score_visit(checklist, {"a": "na", "b": 4})
    assert result.questions["a"].status == "na"
    assert (result.sections["s"].points, result.sections["s"].max, result.score) == (0.75, 1.0, 75.0)


def test_unanswered_optional_adds_nothing():
    checklist = checklist_with("- {id: a, text: A, type: yes_no, required: false}", "- {id: b, text: B, type: yes_no}")
    result = score_visit(checklist, {"b": "yes"})
    assert result.questions["a"].status == "unanswered"
    assert (result.sections["s"].max, result.score) == (1.0, 100.0)


# -- conditional questions (section 3) -------------------------------------------------------------

CONDITIONAL = (
    "- {id: bought, text: Bought?, type: yes_no, weight: 0}",
    "- {id: receipt, text: Receipt?, type: yes_no, critical: true, show_if: {question: bought, equals: 'yes'}}",
    "- {id: till, text: Till, type: choice, allow_na: true, show_if: {question: receipt, equals: 'yes'},"
    " options: [{value: fast, label: Fast, score: 1}, {value: slow, label: Slow, score: 0}]}",
    "- {id: mood, text: Mood, type: scale, max: 3}",
    "- {id: why, text: Why?, type: yes_no, show_if: {question: mood, in: [1, 2]}}",
)


def test_hidden_question_is_not_required_and_not_scored():
    checklist = checklist_with(*CONDITIONAL)
    result = score_visit(checklist, {"bought": "no", "mood": 3})
    assert [result.questions[q].status for q in ("receipt", "till", "why")] == ["hidden"] * 3
    assert result.sections["s"].max == 1.0 and result.score == 100.0


def test_hidden_question_with_a_stale_answer_is_ignored():
    checklist = checklist_with(*CONDITIONAL)
    result = score_visit(checklist, {"bought": "no", "receipt": "no", "mood": 3})
    assert result.questions["receipt"].status == "hidden"
    assert result.critical_failures == [] and result.score == 100.0


def test_shown_question_counts():
    checklist = checklist_with(*CONDITIONAL)
    result = score_visit(checklist, {"bought": "yes", "receipt": "yes", "till": "slow", "mood": 2, "why": "no"})
    assert [result.questions[q].status for q in ("receipt", "till", "why")] == ["answered"] * 3
    # receipt 1 + till 0 + mood 0.5 + why 0 = 1.5 of 4
    assert result.score == 37.5


def test_chain_hidden_parent_hides_child():
    checklist = checklist_with(*CONDITIONAL)
    assert visible_questions(checklist, {"bought": "no", "receipt": "yes"}) == {"bought", "mood"}
    assert visible_questions(checklist, {"bought": "yes", "receipt": "yes"}) == {"bought", "receipt", "till", "mood"}


def test_in_condition():
    checklist = checklist_with(*CONDITIONAL)
    assert "why" in visible_questions(checklist, {"mood": 1})
    assert "why" in visible_questions(checklist, {"mood": "2"})
    assert "why" not in visible_questions(checklist, {"mood": 3})
    assert "why" not in visible_questions(checklist, {})


def test_visible_questions_accepts_raw_and_normalized_answers():
    checklist = checklist_with(*CONDITIONAL)
    raw = {"bought": {"value": True, "comment": "Bought socks"}}
    assert "receipt" in visible_questions(checklist, raw)
    assert "receipt" in visible_questions(checklist, normalize_answers(checklist, raw))
    assert "receipt" not in visible_questions(checklist, {"bought": "garbage"})


def test_na_parent_hides_child_unless_condition_waits_for_na():
    checklist = checklist_with(
        "- {id: a, text: A, type: yes_no, allow_na: true}",
        "- {id: b, text: B, type: yes_no, show_if: {question: a, equals: 'yes'}}",
        "- {id: c, text: C, type: text, show_if: {question: a, equals: na}}",
    )
    assert visible_questions(checklist, {"a": "na"}) == {"a", "c"}


# -- critical questions ----------------------------------------------------------------------------

def test_critical_failure_under_fail_visit_zeroes_the_visit_only():
    checklist = checklist_with(
        "- {id: c, text: C, type: scale, critical: true}", "- {id: d, text: D, type: yes_no}", policy="fail_visit"
    )
    result = score_visit(checklist, {"c": 4, "d": "yes"})
    assert result.critical_failures == ["c"]
    assert result.questions["c"].critical_failed is True
    assert result.sections["s"].score == 87.5
    assert (result.score, result.grade) == (0.0, "Poor")


def test_critical_failure_under_flag_keeps_the_score():
    checklist = checklist_with(
        "- {id: c, text: C, type: scale, critical: true}", "- {id: d, text: D, type: yes_no}", policy="flag"
    )
    result = score_visit(checklist, {"c": 4, "d": "yes"})
    assert result.critical_failures == ["c"]
    assert (result.score, result.grade) == (87.5, "Good")


def test_critical_passed_na_or_hidden_is_no_failure():
    checklist = checklist_with(
        "- {id: gate, text: G, type: yes_no, weight: 0}",
        "- {id: c1, text: C, type: yes_no, critical: true}",
        "- {id: c2, text: C, type: yes_no, critical: true, allow_na: true}",
        "- {id: c3, text: C, type: yes_no, critical: true, show_if: {question: gate, equals: 'yes'}}",
    )
    result = score_visit(checklist, {"gate": "no", "c1": "yes", "c2": "na", "c3": "no"})
    assert result.critical_failures == []
    assert result.score == 100.0


def test_critical_with_weight_zero_still_fails_the_visit():
    checklist = checklist_with(
        "- {id: c, text: C, type: yes_no, critical: true, weight: 0}", "- {id: d, text: D, type: yes_no}"
    )
    result = score_visit(checklist, {"c": "no", "d": "yes"})
    assert (result.critical_failures, result.sections["s"].score, result.score) == (["c"], 100.0, 0.0)


# -- grades ----------------------------------------------------------------------------------------

CUSTOM_GRADES = "grades:\n  - {min: 0, label: Bad}\n  - {min: 50, label: OK}\n  - {min: 100, label: Perfect}\n"


@pytest.mark.parametrize(
    ("answers", "grade"), [(("yes", "yes"), "Perfect"), (("yes", "no"), "OK"), (("no", "no"), "Bad")]
)
def test_custom_grades_in_any_order(answers, grade):
    checklist = checklist_with(
        "- {id: a, text: A, type: yes_no}", "- {id: b, text: B, type: yes_no}", extra=CUSTOM_GRADES
    )
    assert score_visit(checklist, dict(zip("ab", answers, strict=True))).grade == grade


def test_grade_boundary_survives_float_sums():
    # 100 * (0.1 + 0.2) / 0.3 is 99.99999999999999 in floats; the band at 100 still applies.
    checklist = checklist_with(
        "- {id: a, text: A, type: yes_no, weight: 0.1}", "- {id: b, text: B, type: yes_no, weight: 0.2}",
        extra=CUSTOM_GRADES,
    )
    result = score_visit(checklist, {"a": "yes", "b": "yes"})
    assert result.grade == "Perfect"


# -- answers: values, comments, completeness -------------------------------------------------------

def problems(checklist: Checklist, answers: dict, complete: bool = True) -> list[tuple[str | None, str]]:
    """Return (question id, message) pairs for the answers."""
    return [(p.question_id, p.message) for p in validate_answers(checklist, answers, complete=complete)]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({**FULL, "greeted": "maybe"}, ("greeted", "expected \"yes\" or \"no\", got 'maybe'")),
        ({**FULL, "tone": 6}, ("tone", "6 is outside the scale 1..5")),
        ({**FULL, "tone": 2.5}, ("tone", "expected a whole number from 1 to 5, got 2.5")),
        ({**FULL, "tone": True}, ("tone", "expected a whole number from 1 to 5, got true")),
        ({**FULL, "bag": "some"}, ("bag", "'some' is not one of the options (full, asked, none)")),
        ({**FULL, "wait": -5}, ("wait", "expected a whole number of seconds (0 or more), got -5")),
        ({**FULL, "wait": "1:75"}, ("wait", "expected seconds or \"m:ss\", got '1:75'")),
        ({**FULL, "wait": "na"}, ("wait", '"na" (not applicable) is not allowed for this question')),
        ({**FULL, "extra": 1}, ("extra", "unknown question id")),
        ({**FULL, "tone": None}, ("tone", "an answer is required")),
        ({"greeted": "yes", "tone": 5, "wait": 30}, ("bag", "an answer is required")),
        ({**FULL, "bag": {"value": "full", "note": "x"}},
         ("bag", 'unexpected key(s) note: an answer is a value or {"value": ..., "comment": ...}')),
        ({**FULL, "bag": {"value": "full", "comment": 5}}, ("bag", "the comment must be text")),
    ],
)
def test_invalid_answers_name_the_question(answers, expected):
    checklist = parse_checklist(STORE)
    assert problems(checklist, answers) == [expected]
    with pytest.raises(AnswersInvalid) as caught:
        score_visit(checklist, answers)
    assert f'question "{expected[0]}": {expected[1]}' in str(caught.value)


def test_answers_must_be_a_mapping():
    assert problems(parse_checklist(STORE), ["yes"]) == [(None, "answers must be a mapping of question ids to answers")]


def test_drafts_check_values_but_not_completeness():
    checklist = checklist_with("- {id: a, text: A, type: yes_no, comment: required}", "- {id: b, text: B, type: scale}")
    assert problems(checklist, {"a": "yes"}, complete=False) == []
    assert problems(checklist, {"b": 9}, complete=False) == [("b", "9 is outside the scale 1..5")]
    assert problems(checklist, {"a": "yes"}) == [("a", "a comment is required"), ("b", "an answer is required")]


def test_comment_rules():
    checklist = checklist_with(
        "- {id: fail, text: F, type: scale, comment: required_on_fail}",
        "- {id: always, text: A, type: yes_no, comment: required, allow_na: true}",
        "- {id: never, text: N, type: yes_no, comment: none}",
    )
    assert problems(checklist, {"fail": 5, "always": {"value": "yes", "comment": "fine"}, "never": "yes"}) == []
    assert problems(checklist, {"fail": 4, "always": "na", "never": {"value": "yes", "comment": "hi"}}) == [
        ("never", "this question takes no comment"),
        ("fail", "a comment is required to explain the lost points"),
        ("always", "a comment is required"),
    ]
    result = score_visit(checklist, {"fail": {"value": 4, "comment": " Too slow "}, "always": {"value": "na",
                                     "comment": "No"}, "never": "no"})
    assert result.questions["fail"].comment == "Too slow"
    assert result.questions["fail"].fraction == 0.75  # comments never change a score


def test_required_on_fail_for_durations_and_expected_no():
    checklist = checklist_with(
        "- {id: wait, text: W, type: duration, target: 60, limit: 300, comment: required_on_fail}",
        "- {id: rude, text: R, type: yes_no, expected: 'no', comment: required_on_fail}",
    )
    assert problems(checklist, {"wait": 60, "rude": "no"}) == []
    assert [q for q, _ in problems(checklist, {"wait": 61, "rude": "yes"})] == ["wait", "rude"]


def test_text_and_photo_answers():
    checklist = checklist_with(
        "- {id: note, text: N, type: text, max_length: 5}",
        "- {id: shot, text: S, type: photo, required: true, min_photos: 2, max_photos: 3}",
        "- {id: extra, text: E, type: photo}",
        "- {id: na_text, text: T, type: text, required: true}",
    )
    assert problems(checklist, {"note": "ok", "shot": ["a", "b"], "na_text": "na"}) == []
    assert problems(checklist, {"note": "too long", "shot": ["a"], "extra": "x", "na_text": " "}) == [
        ("note", "text is 8 characters long; the limit is 5"),
        ("extra", "expected a list of photo ids, got 'x'"),
        ("shot", "photos taken: 1; at least 2 needed"),
        ("na_text", "an answer is required"),
    ]
    too_many = {"shot": ["a", "b", "c", "d"]}
    assert problems(checklist, too_many, complete=False) == [("shot", "4 photos; at most 3 are allowed")]


def test_normalize_answers():
    checklist = parse_checklist(STORE)
    answers = normalize_answers(checklist, {"greeted": "TRUE", "tone": "3", "wait": "1:05", "bag": {"value": "full",
                                            "comment": "Packed"}})
    assert answers == {
        "greeted": Answer("yes"), "tone": Answer(3), "wait": Answer(65), "bag": Answer("full", "Packed"),
    }
    with pytest.raises(AnswersInvalid) as caught:
        normalize_answers(checklist, {"tone": "loud"})
    assert [(p.question_id, p.message) for p in caught.value.problems] == [("tone", "expected a number, got 'loud'")]


def test_to_json_has_the_contract_keys():
    data = score_visit(parse_checklist(STORE), {"greeted": "no", "tone": 4, "wait": 120, "bag": "asked"}).to_json()
    assert data["score"] == 37.5 and data["grade"] == "Poor" and data["critical_failures"] == []
    assert data["sections"] == {"greeting": 25.0, "service": 62.5}
    assert data["section_details"]["greeting"] == {"score": 25.0, "points": 0.75, "max": 3.0, "weight": 2.0}
    assert data["questions"]["wait"] == {
        "status": "answered", "value": 120, "comment": None, "fraction": 0.75, "points": 0.75, "max": 1.0,
        "critical_failed": False,
    }


def test_scoring_a_checklist_restored_from_json():
    checklist = parse_checklist(STORE)
    restored = Checklist.model_validate(checklist.model_dump(mode="json"))
    answers = {"greeted": "no", "tone": 4, "wait": 120, "bag": "asked"}
    assert score_visit(restored, answers) == score_visit(checklist, answers)


# -- properties over random checklists ------------------------------------------------------------

WEIGHTS = st.sampled_from([0, 0.5, 1, 1, 2, 3.5, 10])


@st.composite
def questions(draw, index: int) -> dict:
    """Draw one question definition of any scored type (or text)."""
    kind = draw(st.sampled_from(["yes_no", "scale", "choice", "duration", "number", "text"]))
    question = {"id": f"q{index}", "text": f"Q{index}", "type": kind}
    if kind != "text":
        question.update(weight=draw(WEIGHTS), allow_na=draw(st.booleans()), critical=draw(st.booleans()))
    if kind == "yes_no":
        question["expected"] = draw(st.sampled_from(["yes", "no"]))
    elif kind == "scale":
        low = draw(st.integers(0, 3))
        question.update(min=low, max=low + draw(st.integers(1, 9)))
    elif kind == "choice":
        scores = draw(st.lists(st.sampled_from([0, 0.25, 0.5, 1]), min_size=1, max_size=4))
        question["options"] = [{"value": f"o{i}", "label": f"O{i}", "score": s} for i, s in enumerate(scores)]
    elif kind in ("duration", "number"):
        target = draw(st.integers(0, 100))
        question.update(target=target, limit=target + draw(st.integers(1, 200)))
    else:
        question["required"] = False
    return question


@st.composite
def checklists(draw) -> dict:
    """Draw a checklist definition (as the YAML would give it) with 1-4 sections."""
    sections, index = [], 0
    for s in range(draw(st.integers(1, 4))):
        qs = []
        for _ in range(draw(st.integers(1, 5))):
            qs.append(draw(questions(index)))
            index += 1
        weight = draw(st.sampled_from([0.5, 1, 2, 7]))
        sections.append({"id": f"s{s}", "title": f"S{s}", "weight": weight, "questions": qs})
    policy = draw(st.sampled_from(["fail_visit", "flag"]))
    return {"id": "prop", "version": 1, "title": "Property", "critical_policy": policy, "sections": sections}


def values_for(question: dict) -> list:
    """Return every interesting answer value for a question, "na" included when allowed."""
    kind = question["type"]
    values = {
        "yes_no": ["yes", "no"],
        "scale": list(range(question.get("min", 1), question.get("max", 5) + 1)),
        "choice": [option["value"] for option in question.get("options", [])],
        "duration": [0, question.get("target"), (question.get("target", 0) + question.get("limit", 0)) // 2,
                     question.get("limit"), 10_000],
        "number": [-3, question.get("target"), question.get("limit"), 10_000],
        "text": ["Seen."],
    }[kind]
    return values + (["na"] if question.get("allow_na") else [])


@st.composite
def visits(draw) -> tuple[dict, dict]:
    """Draw a checklist definition and a complete set of answers for it."""
    definition = draw(checklists())
    answers = {
        q["id"]: draw(st.sampled_from(values_for(q)))
        for section in definition["sections"] for q in section["questions"]
    }
    return definition, answers


def score_of(definition: dict, answers: dict):
    """Return the VisitResult of answers against a checklist definition."""
    return score_visit(Checklist.model_validate(definition), answers)


PROPERTY = settings(max_examples=150, deadline=None)


@PROPERTY
@given(visits())
def test_score_is_a_percentage_or_none(visit):
    result = score_of(*visit)
    assert result.score is None or 0 <= result.score <= 100
    for section in result.sections.values():
        assert section.score is None or 0 <= section.score <= 100 + 1e-9
    assert (result.grade is None) == (result.score is None)


def _without(definition: dict, question_id: str) -> dict:
    trimmed = copy.deepcopy(definition)
    for section in trimmed["sections"]:
        section["questions"] = [q for q in section["questions"] if q["id"] != question_id]
    trimmed["sections"] = [s for s in trimmed["sections"] if s["questions"]]
    return trimmed


def _same(first, second) -> None:
    assert (first.score is None) == (second.score is None)
    if first.score is not None:
        assert math.isclose(first.score, second.score, rel_tol=1e-9, abs_tol=1e-9)
    assert first.grade == second.grade and first.critical_failures == second.critical_failures
    for sid, section in second.sections.items():
        if section.score is None:
            assert first.sections[sid].score is None
        else:
            assert math.isclose(first.sections[sid].score, section.score, rel_tol=1e-9, abs_tol=1e-9)


@PROPERTY
@given(visits(), st.data())
def test_na_is_the_same_as_removing_the_question(visit, data):
    definition, answers = visit
    allowing = [q["id"] for s in definition["sections"] for q in s["questions"] if q.get("allow_na")]
    if not allowing:
        return
    question_id = data.draw(st.sampled_from(allowing))
    with_na = score_of(definition, {**answers, question_id: "na"})
    trimmed = _without(definition, question_id)
    if not trimmed["sections"]:  # it was the only question: nothing is left to score
        assert (with_na.score, with_na.grade, with_na.critical_failures) == (None, None, [])
        return
    _same(with_na, score_of(trimmed, {k: v for k, v in answers.items() if k != question_id}))


@PROPERTY
@given(visits(), st.data())
def test_hidden_is_the_same_as_removing_the_question(visit, data):
    definition, answers = visit
    section = data.draw(st.sampled_from(definition["sections"]))
    gate = {"id": "gate", "text": "Gate", "type": "yes_no", "weight": 0}
    hidden = {"id": "hidden", "text": "Hidden", "type": "yes_no", "weight": 3, "critical": True,
              "show_if": {"question": "gate", "equals": "yes"}}
    with_hidden = copy.deepcopy(definition)
    target = next(s for s in with_hidden["sections"] if s["id"] == section["id"])
    target["questions"] = [gate, *target["questions"], hidden]
    with_gate_only = copy.deepcopy(with_hidden)
    next(s for s in with_gate_only["sections"] if s["id"] == section["id"])["questions"].pop()
    value = data.draw(st.sampled_from(["yes", "no", None]))
    stale = {} if value is None else {"hidden": value}
    hidden_result = score_of(with_hidden, {**answers, "gate": "no", **stale})
    _same(hidden_result, score_of(with_gate_only, {**answers, "gate": "no"}))


@PROPERTY
@given(visits(), st.data())
def test_a_better_answer_never_lowers_the_section_score(visit, data):
    definition, answers = visit
    checklist = Checklist.model_validate(definition)
    scored = [q for q in checklist.questions if q.is_scored and answers[q.id] != "na"]
    if not scored:
        return
    question = data.draw(st.sampled_from(scored))
    spec = next(q for s in definition["sections"] for q in s["questions"] if q["id"] == question.id)
    better = [v for v in values_for(spec) if v != "na" and question.fraction(question.parse(v)) >= question.fraction(
        question.parse(answers[question.id]))]
    new_value = data.draw(st.sampled_from(better))
    section_id = checklist.section_of(question.id).id
    before = score_visit(checklist, answers).sections[section_id].score
    after = score_visit(checklist, {**answers, question.id: new_value}).sections[section_id].score
    if before is None:  # only weight-0 questions answered in that section
        assert after is None
    else:
        assert after >= before - 1e-9


@PROPERTY
@given(visits(), st.sampled_from([0.5, 3, 1000]), st.sampled_from([0.25, 4, 77]))
def test_weights_are_scale_invariant(visit, question_factor, section_factor):
    definition, answers = visit
    scaled = copy.deepcopy(definition)
    for section in scaled["sections"]:
        section["weight"] *= section_factor
        for question in section["questions"]:
            if "weight" in question:
                question["weight"] *= question_factor
    _same(score_of(definition, answers), score_of(scaled, answers))
