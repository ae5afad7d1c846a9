"""app.scoring against a second, plain implementation of the rules (tests/reference_scoring.py).

Over random checklists of every question type (weights, "na", conditions, critical questions, comment
rules, both critical policies, custom grades) and random answers (canonical, other spellings, wrong
ones), the two either give exactly the same result — every score, point, fraction and grade, not
approximately — or both refuse the answers for the same questions.
"""
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from app.checklists.schema import Checklist
from app.scoring import AnswersInvalid, score_visit, validate_answers
from tests.reference_scoring import ReferenceInvalid, reference_score

TYPES = ["yes_no", "scale", "choice", "duration", "number", "number_free", "text", "photo"]
WEIGHTS = st.sampled_from([None, 0, 0.1, 0.5, 1, 2, 3.5, 10])


@st.composite
def question(draw, index: int, earlier: list[dict]) -> dict:
    """Draw one question definition, as the YAML would give it."""
    kind = draw(st.sampled_from(TYPES))
    spec: dict = {"id": f"q{index}", "text": f"Question {index}", "type": "number" if kind == "number_free" else kind}
    scored = kind not in ("number_free", "text", "photo")
    if scored:
        weight = draw(WEIGHTS)
        if weight is not None:
            spec["weight"] = weight
        spec["critical"] = draw(st.booleans())
    rules = ["none", "optional", "required"] + (["required_on_fail"] if scored else [])
    spec["comment"] = draw(st.sampled_from(rules))
    spec["allow_na"] = draw(st.booleans())
    if draw(st.booleans()):
        spec["required"] = draw(st.booleans())
    if kind == "yes_no":
        spec["expected"] = draw(st.sampled_from(["yes", "no", True, False]))
    elif kind == "scale":
        low = draw(st.integers(-2, 3))
        spec.update(min=low, max=low + draw(st.integers(1, 9)))
    elif kind == "choice":
        scores = draw(st.lists(st.sampled_from([0, 0.2, 0.25, 0.5, 1]), min_size=1, max_size=4))
        numbered = draw(st.booleans())  # option values 1, 2, ... also take the answers 1 and 1.0
        spec["options"] = [{"value": i + 1 if numbered else f"o{i}", "label": f"Option {i}", "score": s}
                           for i, s in enumerate(scores)]
    elif kind in ("duration", "number"):
        target = draw(st.integers(0, 100)) if kind == "duration" else draw(st.sampled_from([0, 1.5, 2, 30]))
        spec.update(target=target, limit=target + draw(st.sampled_from([1, 7, 120])))
    elif kind == "text":
        spec["max_length"] = draw(st.sampled_from([None, 20]))
    elif kind == "photo" and spec.get("required") is not False:
        spec["required"] = draw(st.booleans())
        if draw(st.booleans()):
            spec["min_photos"] = draw(st.integers(1 if spec["required"] else 0, 2))
    parents = [q for q in earlier if q["type"] != "photo"]
    if parents and draw(st.integers(0, 3)) == 0:
        parent = draw(st.sampled_from(parents))
        possible = [v for v in valid_values(parent, canonical=True) if v != "na" or parent["allow_na"]]
        shown_by = draw(st.lists(st.sampled_from(possible), min_size=1, max_size=2, unique_by=repr))
        spec["show_if"] = ({"question": parent["id"], "equals": shown_by[0]} if len(shown_by) == 1
                           else {"question": parent["id"], "in": shown_by})
    return {k: v for k, v in spec.items() if v is not None}


@st.composite
def checklists(draw) -> dict:
    """Draw a checklist definition with 1-4 sections of 1-5 questions."""
    sections: list[dict] = []
    asked: list[dict] = []
    for s in range(draw(st.integers(1, 4))):
        questions = []
        for _ in range(draw(st.integers(1, 5))):
            questions.append(draw(question(len(asked), asked)))
            asked.append(questions[-1])
        section = {"id": f"s{s}", "title": f"Section {s}", "questions": questions}
        if draw(st.booleans()):
            section["weight"] = draw(st.sampled_from([0.1, 0.2, 0.5, 1, 2, 7]))
        sections.append(section)
    definition = {"id": "reference", "version": 1, "title": "Reference", "sections": sections,
                  "critical_policy": draw(st.sampled_from(["fail_visit", "flag"]))}
    if draw(st.booleans()):
        definition["grades"] = [{"min": 0, "label": "Bad"}, {"min": 50, "label": "OK"}, {"min": 100, "label": "Top"}]
    return definition


def valid_values(spec: dict, canonical: bool = False) -> list:
    """Return answers the question accepts (in other spellings too unless `canonical`)."""
    kind = spec["type"]
    if kind == "yes_no":
        values = ["yes", "no"] + ([] if canonical else [True, False, "TRUE", " no ", "false"])
    elif kind == "scale":
        values = list(range(spec["min"], spec["max"] + 1))
        values += [] if canonical else [str(spec["max"]), float(spec["min"]), f" {spec['min']},0 "]
    elif kind == "choice":
        values = [option["value"] for option in spec["options"]]
        if not canonical:
            values += [f" {values[0]} ", float(values[0]) if isinstance(values[0], int) else values[0]]
    elif kind == "duration" or (kind == "number" and "target" in spec):
        target, limit = spec["target"], spec["limit"]
        values = [0, target, (target + limit) / 2, limit, limit + 1000]
        if kind == "duration":
            values = [round(v) for v in values]
            values += [] if canonical else ["1:05", "0:02:00", f"{limit}", float(target)]
        else:
            values += [] if canonical else ["2,5", f" {target} "]
    elif kind == "number":
        values = [-3, 0, 2.5, 40] + ([] if canonical else ["7", "1,25"])
    elif kind == "text":
        values = ["Seen.", "na"] if canonical else ["Seen.", "na", " Noted ", "   "]
    else:
        values = [["p1"], ["p1", 2], ["p1", "p2", "p3"], []]
    return values + (["na"] if spec.get("allow_na") and kind != "text" else [])


WRONG = ["maybe", 2.5, -5, 99, "1:75", "", True, 123, "x", [True], ["a"] * 6, {"note": 1}, float("nan"), "na",
         "  NA   padded"]


@st.composite
def visits(draw) -> tuple[dict, dict]:
    """Draw a checklist and answers: mostly a finished visit, sometimes with mistakes in it."""
    definition = draw(checklists())
    tidy = draw(st.integers(0, 3)) > 0  # tidy: every answer valid and commented where a rule may ask
    answers: dict = {}
    for section in definition["sections"]:
        for spec in section["questions"]:
            if not tidy and draw(st.integers(0, 5)) == 0:
                value = draw(st.sampled_from([*WRONG, None]))
                if value == {"note": 1}:
                    answers[spec["id"]] = {"value": "yes", "note": 1}
                    continue
            elif tidy and not spec.get("required", spec["type"] not in ("text", "photo")) and draw(st.booleans()):
                continue  # an optional question left out
            else:
                value = draw(st.sampled_from(valid_values(spec)))
            comment = draw(st.sampled_from([None, "Explained.", "  "] + ([] if tidy else [7])))
            if tidy:
                comment = None if spec["comment"] == "none" else "Explained."
            answers[spec["id"]] = value if comment is None and draw(st.booleans()) else {"value": value,
                                                                                         "comment": comment}
    if not tidy and draw(st.integers(0, 9)) == 0:
        answers["not_a_question"] = "yes"
    return definition, answers


def compare(definition: dict, answers: dict) -> list[str]:
    """Assert that the app and the reference agree; return what happened, for the statistics."""
    checklist = Checklist.model_validate(definition)
    try:
        expected = reference_score(checklist, answers)
    except ReferenceInvalid as refused:
        with pytest.raises(AnswersInvalid) as caught:
            score_visit(checklist, answers)
        assert {p.question_id for p in caught.value.problems} == refused.question_ids
        assert {p.question_id for p in validate_answers(checklist, answers)} == refused.question_ids
        return ["refused"]
    result = score_visit(checklist, answers)
    assert validate_answers(checklist, answers) == []
    assert result.to_json() == expected  # exact: == on every float
    return [
        "scored" if expected["score"] is not None else "no score",
        *(["a section without a score"] if None in expected["sections"].values() else []),
        *(["critical failure"] if expected["critical_failures"] else []),
    ]


@settings(max_examples=600, deadline=None)
@given(visits())
def test_app_and_reference_agree(visit):
    for outcome in compare(*visit):
        event(outcome)


SHOP = {
    "id": "shop", "version": 1, "title": "Shop", "grades": [{"min": 0, "label": "Bad"}, {"min": 100, "label": "Top"}],
    "sections": [
        {"id": "door", "title": "Door", "weight": 2, "questions": [
            {"id": "greeted", "text": "Greeted?", "type": "yes_no", "allow_na": True, "critical": True, "weight": 0.1},
            {"id": "tone", "text": "Tone", "type": "scale", "allow_na": True, "weight": 0.2,
             "comment": "required_on_fail"},
        ]},
        {"id": "till", "title": "Till", "questions": [
            {"id": "wait", "text": "Wait", "type": "duration", "target": 60, "limit": 300},
            {"id": "queue", "text": "Queue", "type": "number", "target": 2, "limit": 6, "allow_na": True},
            {"id": "staff", "text": "Staff", "type": "number"},
            {"id": "bag", "text": "Bag", "type": "choice", "show_if": {"question": "wait", "in": [0, 60]},
             "options": [{"value": "full", "label": "Full", "score": 1}, {"value": "half", "label": "Half",
                                                                              "score": 0.5}]},
            {"id": "shelf", "text": "Shelf", "type": "photo", "required": True, "min_photos": 2},
            {"id": "note", "text": "Note", "type": "text", "max_length": 10},
        ]},
    ],
}
TILL = {"wait": 120, "queue": 3, "staff": 4, "shelf": ["a", "b"]}


#: Two sections at 50 % with weights 0.1 and 0.2: (0.1 * 50 + 0.2 * 50) / 0.3 is 49.99999999999999 in floats.
HALVES = {
    "id": "halves", "version": 1, "title": "Halves", "grades": [{"min": 0, "label": "Bad"}, {"min": 50, "label": "OK"}],
    "sections": [
        {"id": f"s{n}", "title": f"S{n}", "weight": weight, "questions": [
            {"id": f"a{n}", "text": "A", "type": "yes_no"}, {"id": f"b{n}", "text": "B", "type": "yes_no"},
        ]} for n, weight in enumerate([0.1, 0.2])
    ],
}


def test_app_and_reference_agree_on_a_grade_a_hair_away():
    answers = {"a0": "yes", "b0": "no", "a1": "yes", "b1": "no"}
    compare(HALVES, answers)
    assert reference_score(Checklist.model_validate(HALVES), answers)["grade"] == "OK"


@pytest.mark.parametrize("answers", [
    {"greeted": "yes", "tone": 5, **TILL, "wait": 30, "queue": 1},  # full marks: Top
    {"greeted": "na", "tone": "na", **TILL},  # a section all "na" has no score and is left out
    {"greeted": "na", "tone": "na", **TILL, "wait": 400, "queue": "na"},  # nothing scored at all: no score
    {"greeted": "no", "tone": {"value": 1, "comment": "Cold"}, **TILL},  # critical failure: the visit is 0
    {"greeted": "yes", "tone": 3, **TILL},  # the lost points need a comment
    {"greeted": "yes", "tone": 5, **TILL, "wait": 60, "bag": "half"},  # shown by the wait
    {"greeted": "yes", "tone": 5, **TILL, "bag": "none"},  # hidden, but still type-checked
    {"greeted": "yes", "tone": 5, **TILL, "shelf": ["a"]},  # too few photos
    {"greeted": "   NA   ", "tone": 5, **TILL},  # "na" padded with spaces is still "na"
])
def test_app_and_reference_agree_on_the_edges(answers):
    compare(SHOP, answers)


def test_the_edges_are_what_they_say():
    shop = Checklist.model_validate(SHOP)
    assert reference_score(shop, {"greeted": "yes", "tone": 5, **TILL, "wait": 30, "queue": 1})["grade"] == "Top"
    all_na = reference_score(shop, {"greeted": "na", "tone": "na", **TILL})  # till: wait 0.75 + queue 0.75 of 2
    assert all_na["sections"]["door"] is None and all_na["score"] == 75.0
    assert reference_score(shop, {"greeted": "no", "tone": {"value": 1, "comment": "Cold"}, **TILL})["score"] == 0.0
    with pytest.raises(ReferenceInvalid) as refused:
        reference_score(shop, {"greeted": "yes", "tone": 5, **TILL, "shelf": ["a"], "bag": "none"})
    assert refused.value.question_ids == {"shelf", "bag"}
