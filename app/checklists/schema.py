"""The checklist definition: the YAML contract as typed pydantic models."""
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Self, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, StringConstraints, model_validator

from app.checklists.bounds import GRADE_LENGTH, ID_LENGTH, MAX_VERSION, TITLE_LENGTH
from app.checklists.questions import (
    NA,
    QUESTION_CLASSES,
    AnswerError,
    BaseQuestion,
    ChoiceQuestion,
    DurationQuestion,
    Ident,
    Int,
    Number,
    NumberQuestion,
    Option,
    PhotoQuestion,
    Problem,
    ScaleQuestion,
    ShowIf,
    Text,
    TextQuestion,
    YesNoQuestion,
    number_as_text,
)
from app.yamldoc.loader import Document
from app.yamldoc.reader import KeyPath

__all__ = [
    "QUESTION_CLASSES", "BaseQuestion", "Checklist", "ChoiceQuestion", "DurationQuestion", "Grade",
    "NumberQuestion", "Option", "PhotoQuestion", "Question", "ScaleQuestion", "Section", "ShowIf",
    "TextQuestion", "YesNoQuestion",
]

Slug = Annotated[str, BeforeValidator(number_as_text),
                 StringConstraints(pattern=r"^[a-z0-9-]+$", max_length=ID_LENGTH)]
Channel = Literal["store", "phone", "email", "web", "chat", "other"]
T = TypeVar("T")

Question = Annotated[
    YesNoQuestion | ScaleQuestion | ChoiceQuestion | NumberQuestion | DurationQuestion | TextQuestion | PhotoQuestion,
    Field(discriminator="type"),
]


class Grade(BaseModel):
    """A grade band: the label of every score from `min` up to the next band."""

    model_config = ConfigDict(extra="forbid")

    min: Number = Field(ge=0, le=100)
    label: Annotated[Text, Field(max_length=GRADE_LENGTH)]


DEFAULT_GRADES = [
    Grade(min=90, label="Excellent"),
    Grade(min=75, label="Good"),
    Grade(min=60, label="Needs improvement"),
    Grade(min=0, label="Poor"),
]
# Float sums such as 100 * 0.1 * 3 / 0.3 can land a hair under a band's min; a person would not.
GRADE_TOLERANCE = 1e-9


class Section(BaseModel):
    """A group of questions with its own score and weight in the visit score."""

    model_config = ConfigDict(extra="forbid")

    id: Ident
    title: Text
    weight: Number = Field(default=1.0, gt=0)
    touchpoint: Text | None = None
    questions: list[Question] = Field(min_length=1)


@dataclass(frozen=True)
class _Index:
    """The lookups of a checklist, built on first use."""

    questions: list[BaseQuestion]
    by_id: dict[str, BaseQuestion]
    section_of: dict[str, Section]
    #: Highest band first.
    grades: list[Grade]


class Checklist(Document):
    """One version of a checklist, as written in its YAML file."""

    model_config = ConfigDict(extra="forbid")

    id: Slug
    version: Int = Field(gt=0, le=MAX_VERSION)
    title: Annotated[Text, Field(max_length=TITLE_LENGTH)]
    description: str | None = None
    channel: Channel | None = None
    critical_policy: Literal["fail_visit", "flag"] = "fail_visit"
    shopper_sees_score: bool = False
    grades: list[Grade] = Field(default_factory=lambda: [g.model_copy() for g in DEFAULT_GRADES], min_length=1)
    sections: list[Section] = Field(min_length=1)

    _index: _Index | None = PrivateAttr(default=None)
    _cache: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _cross_checks(self) -> Self:
        self._check_grades()
        self._check_ids_and_conditions()
        return self

    def _check_grades(self) -> None:
        seen: dict[float, int] = {}
        for index, grade in enumerate(self.grades):
            if grade.min in seen:
                raise Problem(f"two grade bands start at {grade.min:g}", "grades", index, "min")
            seen[grade.min] = index
        if 0 not in seen:
            lowest = min(seen)
            raise Problem(
                f"grade bands must cover 0: the lowest band starts at {lowest:g}, so lower scores would get"
                " no grade (add a band with min: 0)",
                "grades", seen[lowest], "min",
            )

    def _check_ids_and_conditions(self) -> None:
        sections: dict[str, int] = {}
        questions: dict[str, tuple[int, BaseQuestion]] = {}
        for s_index, section in enumerate(self.sections):
            if section.id in sections:
                raise Problem(f"section id {section.id!r} is used twice", "sections", s_index, "id")
            sections[section.id] = s_index
            for q_index, question in enumerate(section.questions):
                loc = ("sections", s_index, "questions", q_index)
                if question.id in questions:
                    first = self.sections[questions[question.id][0]].id
                    raise Problem(
                        f"question id {question.id!r} is used twice (first in section {first!r})", *loc, "id"
                    )
                if question.show_if is not None:
                    self._check_condition(question, question.show_if, questions, loc)
                questions[question.id] = (s_index, question)

    @staticmethod
    def _check_condition(question: BaseQuestion, condition: ShowIf, earlier: dict[str, tuple[int, BaseQuestion]],
                         loc: KeyPath) -> None:
        if condition.question == question.id:
            raise Problem("show_if cannot depend on the question itself", *loc, "show_if", "question")
        if condition.question not in earlier:
            raise Problem(
                f"show_if names {condition.question!r}, which is not an earlier question in this checklist"
                " (a condition can only depend on a question asked before it)",
                *loc, "show_if", "question",
            )
        parent = earlier[condition.question][1]
        if isinstance(parent, PhotoQuestion):
            raise Problem(f"show_if cannot depend on photo question {parent.id!r}", *loc, "show_if", "question")
        key = "equals" if condition.in_ is None else "in"
        values: list[Any] = []
        for index, raw in enumerate(condition.values):
            where: KeyPath = (*loc, "show_if", key) + (() if key == "equals" else (index,))
            if raw == NA:
                if not parent.allow_na:
                    raise Problem(f'{parent.id!r} does not allow "na", so show_if cannot wait for it', *where)
                values.append(NA)
                continue
            try:
                value = parent.parse(raw)
            except AnswerError as exc:
                raise Problem(f"show_if value {raw!r} can never be an answer of {parent.id!r}: {exc}", *where) from None
            if value is None:
                raise Problem(f"show_if value {raw!r} is an empty answer", *where)
            values.append(value)
        if key == "equals":
            condition.equals = values[0]
        else:
            condition.in_ = values

    # -- lookups -------------------------------------------------------------------------------

    def _lookup(self) -> _Index:
        if self._index is None:
            questions: list[BaseQuestion] = []
            by_id: dict[str, BaseQuestion] = {}
            section_of: dict[str, Section] = {}
            for section in self.sections:
                for question in section.questions:
                    questions.append(question)
                    by_id[question.id] = question
                    section_of[question.id] = section
            self._index = _Index(questions, by_id, section_of,
                                 sorted(self.grades, key=lambda grade: grade.min, reverse=True))
        return self._index

    @property
    def questions(self) -> list[BaseQuestion]:
        """Return every question, in the order they are asked."""
        return self._lookup().questions

    def question(self, question_id: str) -> BaseQuestion:
        """Return the question with this id; raise KeyError when there is none."""
        return self._lookup().by_id[question_id]

    def has_question(self, question_id: str) -> bool:
        """Return True when the checklist asks a question with this id."""
        return question_id in self._lookup().by_id

    def section_of(self, question_id: str) -> Section:
        """Return the section holding this question; raise KeyError when there is none."""
        return self._lookup().section_of[question_id]

    def grade_for(self, score: float | None) -> str | None:
        """Return the label of the highest band whose min <= score; None without a score."""
        if score is None:
            return None
        for grade in self._lookup().grades:
            if score + GRADE_TOLERANCE >= grade.min:
                return grade.label
        return None

    def cached(self, key: str, build: Callable[[], T]) -> T:
        """Return a value derived from this checklist, built once (scoring plans, forms)."""
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = build()
            return value

    @property
    def question_count(self) -> int:
        """Return the number of questions."""
        return len(self.questions)
