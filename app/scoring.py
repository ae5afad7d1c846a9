"""Scoring: a checklist and a visit's answers in, a result out. Pure: no Flask, no database."""
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from app.checklists.questions import (
    NA,
    AnswerError,
    BaseQuestion,
    PhotoQuestion,
)
from app.checklists.schema import Checklist

__all__ = [
    "NA", "Answer", "AnswerProblem", "AnswersInvalid", "QuestionResult", "SectionResult", "VisitResult",
    "normalize_answers", "score_visit", "validate_answers", "visible_questions",
]


@dataclass(slots=True)
class Answer:
    """One question's answer in canonical form: value None means not answered."""

    value: Any
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class AnswerProblem:
    """Why an answer (or the answers as a whole, when question_id is None) is not acceptable."""

    question_id: str | None
    message: str
    #: the %-style English template of `message` and its values, for translation by a UI
    template: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, question_id: str | None, template: str, **params: Any) -> "AnswerProblem":
        """Return the problem whose message is `template` filled with `params`."""
        return cls(question_id, template % params if params else template, template, params)

    @classmethod
    def from_error(cls, question_id: str | None, error: AnswerError) -> "AnswerProblem":
        """Return the problem an AnswerError describes."""
        return cls(question_id, str(error), error.template, error.params)

    def __str__(self) -> str:
        return f'question "{self.question_id}": {self.message}' if self.question_id else self.message


class AnswersInvalid(Exception):
    """Answers that cannot be accepted; `problems` lists every one."""

    def __init__(self, problems: list[AnswerProblem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass(slots=True)
class QuestionResult:
    """How one question counted: status is answered, na, hidden or unanswered."""

    question_id: str
    status: str
    value: Any
    comment: str | None
    fraction: float | None
    points: float
    max: float
    critical_failed: bool

    def to_json(self) -> dict[str, Any]:
        """Return the result as JSON-ready data."""
        return {
            "status": self.status, "value": self.value, "comment": self.comment, "fraction": self.fraction,
            "points": self.points, "max": self.max, "critical_failed": self.critical_failed,
        }


@dataclass(slots=True)
class SectionResult:
    """A section's percent score (None when nothing in it was scored), points and weight."""

    section_id: str
    score: float | None
    points: float
    max: float
    weight: float


@dataclass
class VisitResult:
    """A visit's score (unrounded percent), grade, section results and failed critical questions."""

    score: float | None
    grade: str | None
    sections: dict[str, SectionResult]
    critical_failures: list[str]
    questions: dict[str, QuestionResult] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the result as JSON-ready data (the `checklists score` output)."""
        return {
            "score": self.score,
            "grade": self.grade,
            "sections": {sid: section.score for sid, section in self.sections.items()},
            "critical_failures": list(self.critical_failures),
            "section_details": {
                sid: {"score": s.score, "points": s.points, "max": s.max, "weight": s.weight}
                for sid, s in self.sections.items()
            },
            "questions": {qid: result.to_json() for qid, result in self.questions.items()},
        }


#: One question in scoring order: id, section index, weight (0 when unscored), critical, required,
#: the comment rule (None when it never asks for one), the fraction of points (None when unscored),
#: the completeness check (photos only), and the show_if question and values.
_Row = tuple[
    str, int, float, bool, bool | None,
    Callable[[Any], bool] | None,
    Callable[[Any], float] | None,
    Callable[[Any], AnswerError | None] | None,
    str | None, tuple[Any, ...],
]


class _Plan:
    """A checklist's questions in scoring order, worked out once per checklist."""

    __slots__ = ("checklist", "rows", "by_id", "section_ids", "section_weights", "fail_visit")

    def __init__(self, checklist: Checklist) -> None:
        self.checklist = checklist
        self.by_id: dict[str, BaseQuestion] = {}
        # Plain tuples unpack faster than attribute lookups in the scoring loop.
        self.rows: list[_Row] = []
        for index, section in enumerate(checklist.sections):
            for question in section.questions:
                self.by_id[question.id] = question
                condition = question.show_if
                # A scored question has a weight and a fraction for every answer (its validators see to it).
                weight = (question.weight or 0.0) if question.is_scored else 0.0
                fraction = cast(Callable[[Any], float], question.fraction) if question.is_scored else None
                self.rows.append((
                    question.id, index, weight, question.critical,
                    question.required, question.needs_comment if question.comment in ("required", "required_on_fail")
                    else None, fraction,
                    question.incomplete if isinstance(question, PhotoQuestion) else None,
                    condition.question if condition else None, condition.values if condition else (),
                ))
        self.section_ids = [section.id for section in checklist.sections]
        self.section_weights = [section.weight for section in checklist.sections]
        self.fail_visit = checklist.critical_policy == "fail_visit"


def _plan(checklist: Checklist) -> _Plan:
    return checklist.cached("scoring-plan", lambda: _Plan(checklist))


_ANSWER_KEYS = frozenset(("value", "comment"))
_Values = dict[str, Any]
_Comments = dict[str, str]


def _normalize(plan: _Plan, raw: object) -> tuple[_Values, _Comments, list[AnswerProblem]]:
    """Return canonical values, comments and problems (None values mean not answered)."""
    if not isinstance(raw, dict):
        return {}, {}, [AnswerProblem.of(None, "answers must be a mapping of question ids to answers")]
    values: _Values = {}
    comments: _Comments = {}
    problems: list[AnswerProblem] = []
    questions = plan.by_id
    for qid, item in raw.items():
        question = questions.get(qid)
        if question is None:
            problems.append(AnswerProblem.of(str(qid), "unknown question id"))
            continue
        if type(item) is dict:
            if not item.keys() <= _ANSWER_KEYS:
                extra = ", ".join(sorted(map(str, item.keys() - _ANSWER_KEYS)))
                problems.append(AnswerProblem.of(qid, "unexpected key(s) %(keys)s:"
                                                      ' an answer is a value or {"value": ..., "comment": ...}',
                                                 keys=extra))
                continue
            comment = item.get("comment")
            if comment is not None:
                if type(comment) is not str:
                    problems.append(AnswerProblem.of(qid, "the comment must be text"))
                    continue
                comment = comment.strip()
                if comment:
                    if question.comment == "none":
                        problems.append(AnswerProblem.of(qid, "this question takes no comment"))
                    comments[qid] = comment
            item = item.get("value")
        if item is None:
            values[qid] = None
            continue
        try:
            values[qid] = question.read(item)
        except AnswerError as exc:
            problems.append(AnswerProblem.from_error(qid, exc))
    return values, comments, problems


def normalize_answers(checklist: Checklist, raw: object) -> dict[str, Answer]:
    """Return the answers in canonical form; raise AnswersInvalid on values of the wrong kind."""
    values, comments, problems = _normalize(_plan(checklist), raw)
    if problems:
        raise AnswersInvalid(problems)
    return {qid: Answer(value, comments.get(qid)) for qid, value in values.items()}


def _visible(plan: _Plan, values: _Values) -> set[str]:
    visible: set[str] = set()
    for row in plan.rows:
        qid, parent, shown_by = row[0], row[8], row[9]
        if parent is None or (parent in visible and values.get(parent) in shown_by):
            visible.add(qid)
    return visible  # _evaluate applies the same rule inline, for speed


def _lenient_value(question: BaseQuestion, item: Any) -> Any:
    if isinstance(item, Answer):
        return item.value
    if isinstance(item, dict):
        item = item.get("value")
    try:
        return None if item is None else question.read(item)
    except AnswerError:
        return None


def visible_questions(checklist: Checklist, answers: Mapping[str, Any]) -> set[str]:
    """Return the ids of the questions shown for these answers (raw or normalized)."""
    plan = _plan(checklist)
    by_id = plan.by_id
    values = {qid: _lenient_value(by_id[qid], item) for qid, item in (answers or {}).items() if qid in by_id}
    return _visible(plan, values)


def validate_answers(checklist: Checklist, raw: object, *, complete: bool = True) -> list[AnswerProblem]:
    """Return every problem with the answers; complete=False (drafts) checks only values."""
    plan = _plan(checklist)
    values, comments, problems = _normalize(plan, raw)
    if complete and isinstance(raw, dict):
        _evaluate(plan, values, comments, problems)
    return problems


def score_visit(checklist: Checklist, raw_answers: object) -> VisitResult:
    """Return the visit's result; raise AnswersInvalid when the answers are not a finished visit."""
    plan = _plan(checklist)
    values, comments, problems = _normalize(plan, raw_answers)
    if not isinstance(raw_answers, dict):
        raise AnswersInvalid(problems)
    result = _evaluate(plan, values, comments, problems)
    if problems:
        raise AnswersInvalid(problems)
    return result


def _evaluate(plan: _Plan, values: _Values, comments: _Comments, problems: list[AnswerProblem]) -> VisitResult:
    """Score the answers, adding to `problems` what a finished visit lacks (answers, photos, comments)."""
    reported = {problem.question_id for problem in problems}  # one message per question is enough
    count = len(plan.section_ids)
    points, maxima = [0.0] * count, [0.0] * count
    questions: dict[str, QuestionResult] = {}
    failures: list[str] = []
    hidden: set[str] = set()
    # One pass in question order: a condition's question always comes earlier, so it is settled.
    for qid, section, weight, critical, required, needs_comment, fraction_of, incomplete, parent, shown_by in plan.rows:
        if parent is not None and (parent in hidden or values.get(parent) not in shown_by):
            hidden.add(qid)
            questions[qid] = QuestionResult(qid, "hidden", None, None, None, 0.0, 0.0, False)
            continue
        value = values.get(qid)
        comment = comments.get(qid)
        if value is None or value == NA:
            if value is None and required and qid not in reported:
                problems.append(AnswerProblem.of(qid, "an answer is required"))
            elif value == NA and needs_comment is not None and not comment and needs_comment(value):
                problems.append(AnswerProblem.of(qid, "a comment is required"))
            status = "unanswered" if value is None else "na"
            questions[qid] = QuestionResult(qid, status, value, comment, None, 0.0, 0.0, False)
            continue
        if incomplete is not None:
            missing = incomplete(value)
            if missing:
                problems.append(AnswerProblem.from_error(qid, missing))
        if needs_comment is not None and not comment and needs_comment(value):
            lost = fraction_of is not None and plan.by_id[qid].comment == "required_on_fail"
            problems.append(AnswerProblem.of(qid, "a comment is required to explain the lost points" if lost
                                             else "a comment is required"))
        if fraction_of is None:
            questions[qid] = QuestionResult(qid, "answered", value, comment, None, 0.0, 0.0, False)
            continue
        fraction = fraction_of(value)
        gained = weight * fraction
        points[section] += gained
        maxima[section] += weight
        failed = critical and fraction < 1
        if failed:
            failures.append(qid)
        questions[qid] = QuestionResult(qid, "answered", value, comment, fraction, gained, weight, failed)

    sections: dict[str, SectionResult] = {}
    weighted = total_weight = 0.0
    for index, sid in enumerate(plan.section_ids):
        weight = plan.section_weights[index]
        score = 100.0 * points[index] / maxima[index] if maxima[index] > 0 else None
        sections[sid] = SectionResult(sid, score, points[index], maxima[index], weight)
        if score is not None:
            weighted += weight * score
            total_weight += weight
    score = weighted / total_weight if total_weight > 0 else None
    if failures and plan.fail_visit:
        score = 0.0
    return VisitResult(score, plan.checklist.grade_for(score), sections, failures, questions)
