"""Question types: one pydantic model per `type`, each knowing its answers and their fraction."""
import math
import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_serializer, model_validator
from pydantic.types import Strict


def number_as_text(value: Any) -> Any:
    """Return an unquoted number where text is expected (`id: 42`, `label: 3`) as its text."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


Ident = Annotated[str, BeforeValidator(number_as_text), StringConstraints(pattern=r"^[a-z0-9_]+$")]
Text = Annotated[str, BeforeValidator(number_as_text), StringConstraints(strip_whitespace=True, min_length=1)]
# Strict numbers: YAML `weight: yes` or `target: "60"` is a mistake, not a number.
Int = Annotated[int, Strict()]
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]

NA = "na"
COMMENT_RULES = ("none", "optional", "required", "required_on_fail")
_DURATION = re.compile(r"^(?:(\d+):)?(\d+):([0-5]\d)$")


class Problem(ValueError):
    """A broken rule, with the keys (below the model being validated) that it points at."""

    def __init__(self, message: str, *loc: str | int):
        super().__init__(message)
        self.message = message
        self.loc = loc


class AnswerError(ValueError):
    """An answer value that does not fit its question.

    `template` is a %-style English sentence and `params` its values, so that a UI can show the
    message in the user's language (app/visits/answer_messages.py); str() gives the English text.
    """

    def __init__(self, template: str, **params: Any):
        super().__init__(template % params if params else template)
        self.template = template
        self.params = params


def yes_no_value(value: Any) -> str | None:
    """Return "yes"/"no" for the spellings a person or YAML 1.1 uses, else None."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return {"yes": "yes", "no": "no", "true": "yes", "false": "no"}.get(value.strip().lower())
    return None


def option_value(value: Any) -> str | None:
    """Return an option value as text, the form answers and `show_if` compare in."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def describe(value: Any) -> str:
    """Describe a value for a message: 'abc', 12, a list, nothing."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _number(value: Any) -> float | int:
    """Return a finite number from a number or numeric text; raise AnswerError otherwise."""
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", "."))
        except ValueError:
            raise AnswerError("expected a number, got %(got)s", got=describe(value)) from None
        value = int(value) if value.is_integer() else value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AnswerError("expected a number, got %(got)s", got=describe(value))
    if not math.isfinite(value):
        raise AnswerError("expected a finite number")
    return value


def target_fraction(value: float, target: float, limit: float) -> float:
    """Return 1 at or under target, 0 at or over limit, linear in between."""
    if value <= target:
        return 1.0
    if value >= limit:
        return 0.0
    return (limit - value) / (limit - target)


class ShowIf(BaseModel):
    """`show_if`: ask a question only when an earlier one has one of the given answers."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    question: Ident
    equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in", min_length=1)

    @model_validator(mode="after")
    def _equals_or_in(self):
        if self.equals is None and self.in_ is None:
            raise Problem("show_if needs `equals: VALUE` or `in: [VALUE, ...]`")
        if self.equals is not None and self.in_ is not None:
            raise Problem("show_if takes `equals` or `in`, not both", "in")
        return self

    @property
    def values(self) -> tuple:
        """Return the answers that show the question."""
        return (self.equals,) if self.in_ is None else tuple(self.in_)

    @model_serializer
    def _dump(self) -> dict:
        if self.in_ is None:
            return {"question": self.question, "equals": self.equals}
        return {"question": self.question, "in": self.in_}


class BaseQuestion(BaseModel):
    """Keys shared by every question type."""

    model_config = ConfigDict(extra="forbid")
    scored_type: ClassVar[bool] = True

    id: Ident
    text: Text
    weight: Number | None = Field(default=None, ge=0)
    required: bool | None = None
    allow_na: bool = False
    critical: bool = False
    help: str | None = None
    comment: Literal[COMMENT_RULES] = "optional"
    show_if: ShowIf | None = None

    @property
    def is_scored(self) -> bool:
        """Return True when answers to this question have a fraction of points."""
        return self.scored_type

    @model_validator(mode="after")
    def _defaults_and_rules(self):
        if self.is_scored:
            if self.weight is None:
                self.weight = 1.0
        elif self.weight is not None:
            raise Problem(f"a {self._kind()} carries no points, so it cannot have a weight", "weight")
        if self.critical and not self.is_scored:
            raise Problem(f"a {self._kind()} is not scored, so it cannot be critical", "critical")
        if self.comment == "required_on_fail" and not self.is_scored:
            raise Problem(
                f"comment: required_on_fail needs a scored question; a {self._kind()} never fails"
                " (use comment: required)",
                "comment",
            )
        if self.required is None:
            self.required = self.scored_type
        return self

    def _kind(self) -> str:
        return f"{self.type} question"

    def parse(self, raw: Any) -> Any:
        """Return the answer in canonical form, or None when it is empty; raise AnswerError."""
        raise NotImplementedError

    def fraction(self, value: Any) -> float | None:
        """Return the share of the points that the (non-"na") answer earns; None when unscored."""
        return None

    def incomplete(self, value: Any) -> AnswerError | None:
        """Return (not raise) why an answered value is not enough for a finished visit, or None."""
        return None


class YesNoQuestion(BaseQuestion):
    type: Literal["yes_no"]
    expected: Literal["yes", "no"] = "yes"

    @model_validator(mode="before")
    @classmethod
    def _expected_from_bool(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("expected"), bool):
            data = {**data, "expected": yes_no_value(data["expected"])}
        return data

    def parse(self, raw: Any) -> Any:
        value = yes_no_value(raw)
        if value is None:
            raise AnswerError('expected "yes" or "no", got %(got)s', got=describe(raw))
        return value

    def fraction(self, value: Any) -> float:
        return 1.0 if value == self.expected else 0.0


class ScaleQuestion(BaseQuestion):
    type: Literal["scale"]
    min: Int = 1
    max: Int = 5
    labels: dict[int, Text] | None = None

    @model_validator(mode="after")
    def _range(self):
        if self.max <= self.min:
            raise Problem(f"scale max ({self.max}) must be greater than min ({self.min})", "max")
        for key in self.labels or {}:
            if not self.min <= key <= self.max:
                raise Problem(f"label {key} is outside the scale {self.min}..{self.max}", "labels", key)
        return self

    def parse(self, raw: Any) -> Any:
        value = _number(raw) if not isinstance(raw, bool) else raw
        if isinstance(value, bool) or value != int(value):
            raise AnswerError("expected a whole number from %(min)d to %(max)d, got %(got)s",
                              min=self.min, max=self.max, got=describe(raw))
        value = int(value)
        if not self.min <= value <= self.max:
            raise AnswerError("%(value)d is outside the scale %(min)d..%(max)d",
                              value=value, min=self.min, max=self.max)
        return value

    def fraction(self, value: Any) -> float:
        return (value - self.min) / (self.max - self.min)


class Option(BaseModel):
    """One answer of a choice question and the share of points it earns."""

    model_config = ConfigDict(extra="forbid")

    value: str
    label: Text
    score: Number = Field(ge=0, le=1)

    @model_validator(mode="before")
    @classmethod
    def _value_as_text(cls, data: Any) -> Any:
        if isinstance(data, dict) and "value" in data and not isinstance(data["value"], list | dict):
            text = option_value(data["value"])
            if text is not None:
                data = {**data, "value": text}
        return data


class ChoiceQuestion(BaseQuestion):
    type: Literal["choice"]
    options: list[Option] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_values(self):
        seen: set[str] = set()
        for index, option in enumerate(self.options):
            if option.value in seen:
                raise Problem(f"option value {option.value!r} is used twice", "options", index, "value")
            if option.value == NA:
                raise Problem('"na" is reserved for "not applicable" (use allow_na: true)', "options", index, "value")
            seen.add(option.value)
        return self

    def option(self, value: str) -> Option | None:
        """Return the option with this value, or None."""
        return next((o for o in self.options if o.value == value), None)

    def parse(self, raw: Any) -> Any:
        value = option_value(raw) if not isinstance(raw, list | dict) else None
        if value is None or self.option(value) is None:
            allowed = ", ".join(o.value for o in self.options)
            raise AnswerError("%(got)s is not one of the options (%(allowed)s)", got=describe(raw), allowed=allowed)
        return value

    def fraction(self, value: Any) -> float:
        return self.option(value).score


class NumberQuestion(BaseQuestion):
    type: Literal["number"]
    unit: Text | None = None
    target: Number | None = None
    limit: Number | None = None

    @property
    def is_scored(self) -> bool:
        return self.target is not None

    @model_validator(mode="before")
    @classmethod
    def _both_or_neither(cls, data: Any) -> Any:
        if isinstance(data, dict) and ("target" in data) != ("limit" in data):
            given, other = ("target", "limit") if "target" in data else ("limit", "target")
            raise Problem(f"number question has {given} but no {other}: give both to score it, or neither", given)
        return data

    @model_validator(mode="after")
    def _order(self):
        if self.target is not None and self.target >= self.limit:
            raise Problem(f"target ({self.target:g}) must be less than limit ({self.limit:g})", "target")
        return self

    def _kind(self) -> str:
        return "number question without target and limit"

    def parse(self, raw: Any) -> Any:
        return _number(raw)

    def fraction(self, value: Any) -> float | None:
        if self.target is None:
            return None
        return target_fraction(value, self.target, self.limit)


class DurationQuestion(BaseQuestion):
    type: Literal["duration"]
    target: Int = Field(ge=0)
    limit: Int

    @model_validator(mode="after")
    def _order(self):
        if self.target >= self.limit:
            raise Problem(f"target ({self.target} s) must be less than limit ({self.limit} s)", "target")
        return self

    def parse(self, raw: Any) -> Any:
        if isinstance(raw, str) and ":" in raw:
            match = _DURATION.match(raw.strip())
            if not match:
                raise AnswerError('expected seconds or "m:ss", got %(got)s', got=describe(raw))
            hours, minutes, seconds = (int(part or 0) for part in match.groups())
            return hours * 3600 + minutes * 60 + seconds
        try:
            value = _number(raw)
        except AnswerError:
            raise AnswerError('expected seconds or "m:ss", got %(got)s', got=describe(raw)) from None
        if value != int(value) or value < 0:
            raise AnswerError("expected a whole number of seconds (0 or more), got %(got)s", got=describe(raw))
        return int(value)

    def fraction(self, value: Any) -> float:
        return target_fraction(value, self.target, self.limit)


class TextQuestion(BaseQuestion):
    scored_type: ClassVar[bool] = False
    type: Literal["text"]
    max_length: Int | None = Field(default=None, ge=1)

    def parse(self, raw: Any) -> Any:
        if not isinstance(raw, str):
            raise AnswerError("expected text, got %(got)s", got=describe(raw))
        if not raw.strip():
            return None
        if self.max_length is not None and len(raw) > self.max_length:
            raise AnswerError("text is %(length)d characters long; the limit is %(limit)d",
                              length=len(raw), limit=self.max_length)
        return raw


class PhotoQuestion(BaseQuestion):
    scored_type: ClassVar[bool] = False
    type: Literal["photo"]
    min_photos: Int | None = Field(default=None, ge=0)
    max_photos: Int = Field(default=5, ge=1)

    @model_validator(mode="after")
    def _counts(self):
        if self.min_photos is None:
            self.min_photos = 1 if self.required else 0
        elif self.required and self.min_photos == 0:
            raise Problem("a required photo question needs min_photos of at least 1", "min_photos")
        if self.min_photos > self.max_photos:
            raise Problem(
                f"min_photos ({self.min_photos}) must not be more than max_photos ({self.max_photos})", "min_photos"
            )
        return self

    def parse(self, raw: Any) -> Any:
        if not isinstance(raw, list) or not all(
            isinstance(item, str | int) and not isinstance(item, bool) for item in raw
        ):
            raise AnswerError("expected a list of photo ids, got %(got)s", got=describe(raw))
        if len(raw) > self.max_photos:
            raise AnswerError("%(count)d photos; at most %(limit)d are allowed", count=len(raw), limit=self.max_photos)
        return list(raw) or None

    def incomplete(self, value: Any) -> AnswerError | None:
        if len(value) < self.min_photos:
            return AnswerError("photos taken: %(count)d; at least %(needed)d needed",
                               count=len(value), needed=self.min_photos)
        return None


QUESTION_CLASSES: dict[str, type[BaseQuestion]] = {
    "yes_no": YesNoQuestion,
    "scale": ScaleQuestion,
    "choice": ChoiceQuestion,
    "number": NumberQuestion,
    "duration": DurationQuestion,
    "text": TextQuestion,
    "photo": PhotoQuestion,
}
