"""The customer-survey definition: survey YAML as typed pydantic models.

A text shown to customers is either one string (the same in every language) or a mapping
`{en: ..., ru: ...}` that must give every language the survey lists in `languages`.
"""
import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    StringConstraints,
    field_validator,
    model_validator,
)

from app.checklists.bounds import ID_LENGTH, MAX_VERSION
from app.checklists.questions import Ident, Int, Problem, describe, option_value
from app.yamldoc.loader import Document
from app.yamldoc.reader import KeyPath

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+$", max_length=ID_LENGTH)]
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
LanguageCode = Annotated[str, StringConstraints(pattern=LANGUAGE_CODE.pattern)]


def _translated(value: Any) -> str | dict[str, str]:
    """Accept one text, or a mapping of language code to text; say plainly what is wrong."""
    if isinstance(value, str):
        if not value.strip():
            raise Problem("must not be empty")
        return value.strip()
    if not isinstance(value, dict):
        raise Problem(f"must be text or a mapping of languages to texts ({{en: ..., ru: ...}}), not {describe(value)}")
    if not value:
        raise Problem("must give at least one language")
    texts = {}
    for code, text in value.items():
        if not isinstance(code, str) or not LANGUAGE_CODE.match(code):
            raise Problem(f"has {describe(code)}, which is not a language code such as en or ru")
        if not isinstance(text, str) or not text.strip():
            raise Problem(f"has an empty or non-text {code} text ({describe(text)})", code)
        texts[code] = text.strip()
    return texts


#: Keys whose value is a Translated text; messages about them start with the key.
TEXT_KEYS = ("title", "intro", "thank_you", "text", "low", "high", "label")
Translated = Annotated[str | dict[str, str], BeforeValidator(_translated)]

#: The three metrics of the contract (section 6) and the answers each takes.
METRIC_RANGES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
METRICS = tuple(METRIC_RANGES)


def pick(text: Translated | None, language: str, default: str) -> str:
    """Return `text` in `language`, falling back to the survey's default language."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    return text.get(language) or text.get(default) or next(iter(text.values()))


class Metric(BaseModel):
    """One of NPS, CSAT, CES: the question and the words at both ends of its scale."""

    model_config = ConfigDict(extra="forbid")

    text: Translated
    low: Translated | None = None
    high: Translated | None = None
    required: bool = False


class Metrics(BaseModel):
    """The metrics a survey asks, in the order the author wrote them."""

    model_config = ConfigDict(extra="forbid")

    nps: Metric | None = None
    csat: Metric | None = None
    ces: Metric | None = None

    _order: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_order(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        result = handler(data)
        written = [key for key in data if key in METRICS] if isinstance(data, dict) else []
        result._order = written or [name for name in METRICS if getattr(result, name) is not None]
        return result

    @model_validator(mode="after")
    def _at_least_one(self) -> Self:
        if not any(getattr(self, name) is not None for name in METRICS):
            raise Problem("metrics needs at least one of nps, csat, ces")
        return self

    def items(self) -> list[tuple[str, Metric]]:
        """Return (name, metric) pairs in the order of the YAML file."""
        return [(name, getattr(self, name)) for name in self._order if getattr(self, name) is not None]


class Why(BaseModel):
    """The optional free-text "why" after the metrics."""

    model_config = ConfigDict(extra="forbid")

    text: Translated
    max_length: Int = Field(default=1000, gt=0, le=5000)


class Option(BaseModel):
    """An answer of an extra choice question."""

    model_config = ConfigDict(extra="forbid")

    value: str
    label: Translated

    @field_validator("value", mode="before")
    @classmethod
    def _value_as_text(cls, value: Any) -> Any:
        return option_value(value) or value


class ExtraQuestion(BaseModel):
    """A question beyond the metrics; its answer is stored with the response, not scored."""

    model_config = ConfigDict(extra="forbid")

    id: Ident
    text: Translated
    type: Literal["choice", "yes_no", "text"]
    options: list[Option] | None = None
    required: bool = False
    max_length: Int | None = Field(default=None, gt=0, le=5000)

    @model_validator(mode="after")
    def _options_fit_type(self) -> Self:
        if self.type == "choice":
            if not self.options:
                raise Problem("a choice question needs `options` (a list of {value, label})", "options")
            seen: set[str] = set()
            for index, option in enumerate(self.options):
                if option.value in seen:
                    raise Problem(f"option value {option.value!r} is used twice", "options", index, "value")
                seen.add(option.value)
        elif self.options is not None:
            raise Problem(f"key 'options' does not apply to a {self.type} question (only to choice)", "options")
        if self.max_length is not None and self.type != "text":
            raise Problem(f"key 'max_length' does not apply to a {self.type} question (only to text)", "max_length")
        return self

    def answer_values(self) -> tuple[str, ...] | None:
        """Return the allowed answers, or None for free text."""
        if self.type == "choice":
            return tuple(option.value for option in self.options or ())  # never None for a choice
        if self.type == "yes_no":
            return ("yes", "no")
        return None


class Survey(Document):
    """One version of a customer survey, as written in its YAML file."""

    model_config = ConfigDict(extra="forbid")

    id: Slug
    version: Int = Field(gt=0, le=MAX_VERSION)
    title: Translated
    languages: list[LanguageCode] = Field(default_factory=lambda: ["en"], min_length=1)
    intro: Translated | None = None
    metrics: Metrics
    why: Why | None = None
    questions: list[ExtraQuestion] = Field(default_factory=list)
    thank_you: Translated

    @model_validator(mode="after")
    def _cross_checks(self) -> Self:
        seen_languages: set[str] = set()
        for index, code in enumerate(self.languages):
            if code in seen_languages:
                raise Problem(f"language {code!r} is listed twice", "languages", index)
            seen_languages.add(code)
        ids: set[str] = set()
        for index, question in enumerate(self.questions):
            if question.id in ids or question.id in METRICS or question.id == "why":
                raise Problem(f"question id {question.id!r} is used twice or names a metric", "questions", index, "id")
            ids.add(question.id)
        for loc, text in self._texts():
            if isinstance(text, dict):
                missing = [code for code in self.languages if code not in text]
                extra = [code for code in text if code not in seen_languages]
                if missing:
                    raise Problem(f"has no translation for {', '.join(missing)} (languages: "
                                  f"{', '.join(self.languages)})", *loc)
                if extra:
                    raise Problem(f"has a {extra[0]!r} text, but {extra[0]!r} is not one of the survey's languages "
                                  f"({', '.join(self.languages)})", *loc, extra[0])
        return self

    def _texts(self) -> Iterator[tuple[KeyPath, Translated]]:
        """Yield (loc, text) for every text shown to customers."""
        yield ("title",), self.title
        if self.intro is not None:
            yield ("intro",), self.intro
        for name, metric in self.metrics.items():
            for key in ("text", "low", "high"):
                if getattr(metric, key) is not None:
                    yield ("metrics", name, key), getattr(metric, key)
        if self.why is not None:
            yield ("why", "text"), self.why.text
        for index, question in enumerate(self.questions):
            yield ("questions", index, "text"), question.text
            for o_index, option in enumerate(question.options or []):
                yield ("questions", index, "options", o_index, "label"), option.label
        yield ("thank_you",), self.thank_you

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def text(self, value: Translated | None, language: str) -> str:
        """Return a text of this survey in `language`."""
        return pick(value, language, self.default_language)

    def question(self, question_id: str) -> ExtraQuestion | None:
        """Return the extra question with this id, or None."""
        return next((q for q in self.questions if q.id == question_id), None)
