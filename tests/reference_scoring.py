"""A second, plain way of scoring a visit, written straight from the rules and nothing else.

The rules: /work/shared/checklist-format.md (the contract: sections 1, 3, 4 and 5) and the decisions
docs/checklists.md records where it is silent (answer spellings, comments, hidden answers, the grade
tolerance). No caching, no fast paths, no question classes: read it next to those two pages.

`reference_score(checklist, answers)` returns what `app.scoring.score_visit(...).to_json()` returns,
or raises `ReferenceInvalid` naming every question whose answer is not a finished visit's answer.
tests/test_scoring_reference.py asserts that the two agree exactly; bench/bench_checklists.py
times them side by side (the app must be at least as fast as this).
"""
import math
import re
from typing import Any

from app.checklists.schema import Checklist

GRADE_TOLERANCE = 1e-9  # docs/checklists.md: band lookup forgives 1e-9 of float rounding
SCORED_TYPES = ("yes_no", "scale", "choice", "duration")


class ReferenceInvalid(Exception):
    """The answers are not a finished visit; `question_ids` holds the questions at fault (None: all of them)."""

    def __init__(self, question_ids: set[str | None]) -> None:
        super().__init__(", ".join(sorted(map(str, question_ids))))
        self.question_ids = question_ids


def number(raw: Any) -> float:
    """A finite number, or numeric text ("2,5" too); anything else is not a number."""
    if isinstance(raw, str):
        raw = float(raw.strip().replace(",", "."))  # ValueError when it is no number
        if raw.is_integer():
            raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise ValueError(raw)
    return raw


def read(question: Any, raw: Any) -> Any:
    """Return the answer in canonical form, "na", or None when it is empty; raise ValueError when it does not fit."""
    kind = question.type
    if isinstance(raw, str) and raw.strip().lower() == "na" and (question.allow_na or kind != "text"):
        if not question.allow_na:
            raise ValueError("na is not allowed")
        return "na"  # a text question without allow_na takes "na" as the text it is
    if kind == "yes_no":
        if isinstance(raw, bool):
            return "yes" if raw else "no"
        spelled = raw.strip().lower() if isinstance(raw, str) else None
        if spelled in ("yes", "true"):
            return "yes"
        if spelled in ("no", "false"):
            return "no"
        raise ValueError(raw)
    if kind == "scale":
        value = number(raw)
        if value != int(value) or not question.min <= value <= question.max:
            raise ValueError(raw)
        return int(value)
    if kind == "choice":
        if isinstance(raw, bool):
            text = "yes" if raw else "no"
        elif isinstance(raw, int):
            text = str(raw)
        elif isinstance(raw, float) and math.isfinite(raw):
            text = str(int(raw)) if raw.is_integer() else str(raw)
        elif isinstance(raw, str):
            text = raw.strip()
        else:
            raise ValueError(raw)
        if text not in [option.value for option in question.options]:
            raise ValueError(raw)
        return text
    if kind == "number":
        return number(raw)
    if kind == "duration":
        if isinstance(raw, str) and ":" in raw:
            match = re.fullmatch(r"(?:(\d+):)?(\d+):([0-5]\d)", raw.strip())
            if not match:
                raise ValueError(raw)
            hours, minutes, seconds = match.groups()
            return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
        value = number(raw)
        if value != int(value) or value < 0:
            raise ValueError(raw)
        return int(value)
    if kind == "text":
        if not isinstance(raw, str):
            raise ValueError(raw)
        if not raw.strip():
            return None
        if question.max_length is not None and len(raw) > question.max_length:
            raise ValueError(raw)
        return raw
    if kind == "photo":
        if not isinstance(raw, list) or len(raw) > question.max_photos:
            raise ValueError(raw)
        for item in raw:
            if isinstance(item, bool) or not isinstance(item, str | int):
                raise ValueError(raw)
        return list(raw) or None
    raise AssertionError(kind)


def is_scored(question: Any) -> bool:
    return question.type in SCORED_TYPES or (question.type == "number" and question.target is not None)


def fraction(question: Any, value: Any) -> float:
    """The share of the question's points an answer earns (contract table in section 1)."""
    kind = question.type
    if kind == "yes_no":
        return 1.0 if value == question.expected else 0.0
    if kind == "scale":
        return (value - question.min) / (question.max - question.min)
    if kind == "choice":
        return next(option.score for option in question.options if option.value == value)
    # duration, and number with target and limit
    if value <= question.target:
        return 1.0
    if value >= question.limit:
        return 0.0
    return (question.limit - value) / (question.limit - question.target)


def reference_score(checklist: Checklist, answers: Any) -> dict[str, Any]:
    """Score a finished visit's answers against the checklist; raise ReferenceInvalid when they are not one."""
    if not isinstance(answers, dict):
        raise ReferenceInvalid({None})
    questions = {q.id: q for section in checklist.sections for q in section.questions}
    invalid: set[str | None] = set()
    values: dict[str, Any] = {}
    comments: dict[str, str] = {}

    # Every answer sent is checked, even one for a question that turns out to be hidden.
    for qid, answer in answers.items():
        question = questions.get(qid)
        if question is None:
            invalid.add(qid)
            continue
        value = answer
        if isinstance(answer, dict):
            if set(answer) - {"value", "comment"}:
                invalid.add(qid)
                continue
            comment = answer.get("comment")
            if comment is not None and not isinstance(comment, str):
                invalid.add(qid)
                continue
            if comment is not None and comment.strip():
                if question.comment == "none":
                    invalid.add(qid)
                comments[qid] = comment.strip()
            value = answer.get("value")
        if value is not None:
            try:
                values[qid] = read(question, value)
            except ValueError:
                invalid.add(qid)

    results: dict[str, dict[str, Any]] = {}
    sections: dict[str, dict[str, Any]] = {}
    failures: list[str] = []
    for section in checklist.sections:
        points: list[float] = []
        maxima: list[float] = []
        for question in section.questions:
            qid = question.id
            condition = question.show_if
            if condition is not None:
                shown_by = [condition.equals] if condition.in_ is None else condition.in_
                if results[condition.question]["status"] == "hidden" or values.get(condition.question) not in shown_by:
                    results[qid] = result("hidden", None, None)
                    continue
            value = values.get(qid)
            comment = comments.get(qid)
            if value is None:
                if question.required:
                    invalid.add(qid)
                results[qid] = result("unanswered", None, comment)
                continue
            if question.comment == "required" and comment is None:
                invalid.add(qid)
            if value == "na":
                results[qid] = result("na", value, comment)
                continue
            if question.type == "photo" and len(value) < question.min_photos:
                invalid.add(qid)
            if not is_scored(question):
                results[qid] = result("answered", value, comment)
                continue
            f = fraction(question, value)
            if question.comment == "required_on_fail" and f < 1 and comment is None:
                invalid.add(qid)
            failed = question.critical and f < 1
            if failed:
                failures.append(qid)
            points.append(question.weight * f)
            maxima.append(question.weight)
            results[qid] = result("answered", value, comment, f, question.weight * f, question.weight, failed)
        total, most = sum(points, 0.0), sum(maxima, 0.0)
        score = 100.0 * total / most if most > 0 else None
        sections[section.id] = {"score": score, "points": total, "max": most, "weight": section.weight}
    if invalid:
        raise ReferenceInvalid(invalid)

    scored = [s for s in sections.values() if s["score"] is not None]
    visit = (sum(s["weight"] * s["score"] for s in scored) / sum(s["weight"] for s in scored)) if scored else None
    if failures and checklist.critical_policy == "fail_visit":
        visit = 0.0
    grade = None
    if visit is not None:
        grade = max((band for band in checklist.grades if band.min <= visit + GRADE_TOLERANCE),
                    key=lambda band: band.min).label
    return {
        "score": visit,
        "grade": grade,
        "sections": {sid: s["score"] for sid, s in sections.items()},
        "critical_failures": failures,
        "section_details": sections,
        "questions": results,
    }


def result(status: str, value: Any, comment: str | None, f: float | None = None, points: float = 0.0,
           most: float = 0.0, failed: bool = False) -> dict[str, Any]:
    """One question's line of the result."""
    return {"status": status, "value": value, "comment": comment, "fraction": f, "points": points, "max": most,
            "critical_failed": failed}
