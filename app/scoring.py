"""Scoring: a checklist and a visit's answers in, a result out. Pure: no Flask, no database."""
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.checklists.questions import (
    NA,
    AnswerError,
    BaseQuestion,
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


class _Step:
    """One question in the order it is asked, with what scoring asks of it on every visit.

    Its facts and its class's methods are looked up once per checklist: an attribute of a pydantic
    model goes through BaseModel.__getattr__'s hook and costs about three plain lookups, a hundred
    questions a visit. The rules themselves stay in the question classes.
    """

    __slots__ = ("question", "id", "section", "weight", "critical", "required",
                 "read", "fraction", "needs_comment", "incomplete")

    def __init__(self, question: BaseQuestion, section: int) -> None:
        self.question = question
        self.id = question.id
        #: index of its section in the checklist
        self.section = section
        #: unscored questions have no weight and never reach the points
        self.weight = question.weight or 0.0
        self.critical = question.critical
        self.required = question.required
        self.read = question.read
        self.fraction = question.fraction
        self.needs_comment = question.needs_comment
        self.incomplete = question.incomplete


@dataclass(frozen=True, slots=True)
class _Condition:
    """A question's show_if: the earlier question it waits for and the answers that show it."""

    question_id: str
    parent: str
    shown_by: tuple[Any, ...]


class _Plan:
    """A checklist's questions in scoring order, worked out once per parsed checklist.

    Every visit of a version asks the same questions, so what does not depend on the answers
    (sections, weights, the show_if values) is looked up once, not per answer.
    """

    __slots__ = ("checklist", "steps", "by_id", "conditions", "section_ids", "section_weights", "fail_visit")

    def __init__(self, checklist: Checklist) -> None:
        self.checklist = checklist
        self.steps = [
            _Step(question, index)
            for index, section in enumerate(checklist.sections) for question in section.questions
        ]
        self.by_id = {step.id: step for step in self.steps}
        self.conditions = [
            _Condition(question.id, question.show_if.question, question.show_if.values)
            for question in checklist.questions if question.show_if is not None
        ]
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
    steps = plan.by_id
    for qid, item in raw.items():
        step = steps.get(qid)
        if step is None:
            problems.append(AnswerProblem.of(str(qid), "unknown question id"))
            continue
        if isinstance(item, dict):
            if not item.keys() <= _ANSWER_KEYS:
                extra = ", ".join(sorted(map(str, item.keys() - _ANSWER_KEYS)))
                problems.append(AnswerProblem.of(qid, "unexpected key(s) %(keys)s:"
                                                      ' an answer is a value or {"value": ..., "comment": ...}',
                                                 keys=extra))
                continue
            comment = item.get("comment")
            if comment is not None:
                if not isinstance(comment, str):
                    problems.append(AnswerProblem.of(qid, "the comment must be text"))
                    continue
                comment = comment.strip()
                if comment:
                    if step.question.comment == "none":
                        problems.append(AnswerProblem.of(qid, "this question takes no comment"))
                    comments[qid] = comment
            item = item.get("value")
        if item is None:
            values[qid] = None
            continue
        try:
            values[qid] = step.read(item)
        except AnswerError as exc:
            problems.append(AnswerProblem.from_error(qid, exc))
    return values, comments, problems


def normalize_answers(checklist: Checklist, raw: object) -> dict[str, Answer]:
    """Return the answers in canonical form; raise AnswersInvalid on values of the wrong kind."""
    values, comments, problems = _normalize(_plan(checklist), raw)
    if problems:
        raise AnswersInvalid(problems)
    return {qid: Answer(value, comments.get(qid)) for qid, value in values.items()}


def _hidden(plan: _Plan, values: _Values) -> set[str]:
    """Return the ids of the questions whose show_if question is hidden or lacks a showing answer."""
    hidden: set[str] = set()
    for condition in plan.conditions:  # in question order: a condition's question is settled before it
        if condition.parent in hidden or values.get(condition.parent) not in condition.shown_by:
            hidden.add(condition.question_id)
    return hidden


def _lenient_value(step: _Step, item: Any) -> Any:
    if isinstance(item, Answer):
        return item.value
    if isinstance(item, dict):
        item = item.get("value")
    try:
        return None if item is None else step.read(item)
    except AnswerError:
        return None


def visible_questions(checklist: Checklist, answers: Mapping[str, Any]) -> set[str]:
    """Return the ids of the questions shown for these answers (raw or normalized)."""
    plan = _plan(checklist)
    by_id = plan.by_id
    values = {qid: _lenient_value(by_id[qid], item) for qid, item in (answers or {}).items() if qid in by_id}
    return by_id.keys() - _hidden(plan, values)


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
    hidden = _hidden(plan, values)
    count = len(plan.section_ids)
    points, maxima = [0.0] * count, [0.0] * count
    questions: dict[str, QuestionResult] = {}
    failures: list[str] = []
    for step in plan.steps:
        qid = step.id
        if qid in hidden:
            questions[qid] = QuestionResult(qid, "hidden", None, None, None, 0.0, 0.0, False)
            continue
        value = values.get(qid)
        comment = comments.get(qid)
        if value is None:
            if step.required and qid not in reported:
                problems.append(AnswerProblem.of(qid, "an answer is required"))
            questions[qid] = QuestionResult(qid, "unanswered", None, comment, None, 0.0, 0.0, False)
            continue
        na = value == NA
        if not na:
            missing = step.incomplete(value)
            if missing is not None:
                problems.append(AnswerProblem.from_error(qid, missing))
        if not comment and step.needs_comment(value):
            lost = not na and step.question.comment == "required_on_fail"
            problems.append(AnswerProblem.of(qid, "a comment is required to explain the lost points" if lost
                                             else "a comment is required"))
        fraction = None if na else step.fraction(value)
        if fraction is None:  # "na", or a question that is not scored
            questions[qid] = QuestionResult(qid, "na" if na else "answered", value, comment, None, 0.0, 0.0, False)
            continue
        weight = step.weight
        gained = weight * fraction
        points[step.section] += gained
        maxima[step.section] += weight
        failed = step.critical and fraction < 1
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
