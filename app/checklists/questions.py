"""Question types: one class per `type` that parses, scores, says and draws its answers (see BaseQuestion)."""
import math
import random
import re
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Protocol, Self

from flask_babel import gettext as _
from flask_babel import ngettext
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_serializer,
    model_validator,
)
from pydantic.types import Strict

from app.checklists.bounds import ID_LENGTH
from app.yamldoc.messages import Problem, describe


def number_as_text(value: Any) -> Any:
    """Return an unquoted number where text is expected (`id: 42`, `label: 3`) as its text."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


Ident = Annotated[str, BeforeValidator(number_as_text),
                  StringConstraints(pattern=r"^[a-z0-9_]+$", max_length=ID_LENGTH)]
Text = Annotated[str, BeforeValidator(number_as_text), StringConstraints(strip_whitespace=True, min_length=1)]
# Strict numbers: YAML `weight: yes` or `target: "60"` is a mistake, not a number.
Int = Annotated[int, Strict()]
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]

NA = "na"
CommentRule = Literal["none", "optional", "required", "required_on_fail"]
_DURATION = re.compile(r"^(?:(\d+):)?(\d+):([0-5]\d)$")


class AnswerError(ValueError):
    """An answer value that does not fit its question.

    `template` is a %-style English sentence and `params` its values, so that a UI can show the
    message in the user's language (app/visits/answer_messages.py); str() gives the English text.
    """

    def __init__(self, template: str, **params: Any) -> None:
        super().__init__(template % params if params else template)
        self.template = template
        self.params = params


_YES_NO = {"yes": "yes", "no": "no", "true": "yes", "false": "no"}


def yes_no_value(value: Any) -> str | None:
    """Return "yes"/"no" for the spellings a person or YAML 1.1 uses, else None."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return _YES_NO.get(value.strip().lower())
    return None


def option_value(value: Any) -> str | None:
    """Return an option value as text, the form answers and `show_if` compare in."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else str(value)
    return None


def _number(value: Any) -> float | int:
    """Return a finite number from a number or numeric text; raise AnswerError otherwise."""
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", "."))
        except ValueError:
            raise AnswerError("expected a number, got %(got)s", got=describe(value)) from None
        value = int(value) if value.is_integer() else value
    if type(value) not in (int, float):  # type(), not isinstance(): True is an int to Python, not to people
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
    def _equals_or_in(self) -> Self:
        if self.equals is None and self.in_ is None:
            raise Problem("show_if needs `equals: VALUE` or `in: [VALUE, ...]`")
        if self.equals is not None and self.in_ is not None:
            raise Problem("show_if takes `equals` or `in`, not both", "in")
        return self

    @property
    def values(self) -> tuple[Any, ...]:
        """Return the answers that show the question."""
        return (self.equals,) if self.in_ is None else tuple(self.in_)

    @model_serializer
    def _dump(self) -> dict[str, Any]:
        if self.in_ is None:
            return {"question": self.question, "equals": self.equals}
        return {"question": self.question, "in": self.in_}


class DemoDraw(Protocol):
    """What the demo data decides for one question; the question type draws a value of its kind from it."""

    rng: random.Random
    #: Chance of an answer that earns full points.
    good: float
    #: Chance of "yes" for an unscored yes/no question that only steers show_if.
    yes_rate: float
    #: Range of an unscored number.
    number_range: tuple[int, int]

    def text(self, question: "BaseQuestion") -> str:
        """Return a believable text answer."""

    def photos(self, question: "PhotoQuestion", count: int) -> list[str]:
        """Return the ids of `count` stored photos."""


def clock(seconds: float) -> str:
    """Return seconds as m:ss (h:mm:ss past an hour), as the stopwatch shows them."""
    seconds = max(0, int(round(float(seconds))))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def number_text(value: float | int) -> str:
    """Return a number as people write it: 3, 2.5 (no trailing zeros, no exponent for everyday sizes)."""
    return f"{value:g}" if isinstance(value, float) else str(value)


class BaseQuestion(BaseModel):
    """Keys shared by every question type, and what every type must say about its answers.

    A question type is one class: it parses answers, gives their fraction of the points, says them
    in words, draws a demo answer, names the phone form's control and the data the phone's script
    reads. Scoring, the review page, PDFs, exports and the demo all ask the class.
    """

    model_config = ConfigDict(extra="forbid")
    scored_type: ClassVar[bool] = True

    id: Ident
    text: Text
    weight: Number | None = Field(default=None, ge=0)
    required: bool | None = None
    allow_na: bool = False
    critical: bool = False
    help: str | None = None
    comment: CommentRule = "optional"
    show_if: ShowIf | None = None
    if TYPE_CHECKING:
        # Each question class declares `type` as its own Literal: the discriminator of a Question.
        type: str

    @property
    def is_scored(self) -> bool:
        """Return True when answers to this question have a fraction of points."""
        return self.scored_type

    @property
    def template(self) -> str:
        """Return the template of the phone form's control for this type."""
        return f"questions/{self.type}.html"

    @model_validator(mode="after")
    def _defaults_and_rules(self) -> Self:
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

    # -- answers ------------------------------------------------------------------------------

    def read(self, raw: Any) -> Any:
        """Return the answer in canonical form, "na", or None when empty; raise AnswerError."""
        if isinstance(raw, str) and raw.strip().lower() == NA:
            if not self.allow_na:
                raise AnswerError('"na" (not applicable) is not allowed for this question')
            return NA
        return self.parse(raw)

    def parse(self, raw: Any) -> Any:
        """Return a (non-"na") answer in canonical form, or None when it is empty; raise AnswerError."""
        raise NotImplementedError

    def fraction(self, value: Any) -> float | None:
        """Return the share of the points that the (non-"na") answer earns; None when unscored."""
        return None

    def needs_comment(self, value: Any) -> bool:
        """Return True when this answer (canonical, "na" included) must carry the shopper's comment."""
        rule = self.comment
        if value is None or rule == "optional" or rule == "none":
            return False
        if rule == "required":
            return True
        fraction = None if value == NA else self.fraction(value)  # required_on_fail
        return fraction is not None and fraction < 1

    def incomplete(self, value: Any) -> "AnswerError | None":
        """Return (not raise) why an answered value is not enough for a finished visit, or None."""
        return None

    # -- words --------------------------------------------------------------------------------

    def answer_text(self, status: str, value: Any) -> str:
        """Return a stored answer as people read it, in the current language, whatever its status."""
        if status == "hidden":
            return _("Not asked")
        if status == "na" or value == NA:
            return _("Not applicable")
        if value is None or status == "unanswered":
            return _("Not answered")
        return self.words(value)

    def words(self, value: Any) -> str:
        """Return an answered value in words ("Yes", "4 of 5 (Friendly)", "2:35", "3 photos")."""
        return str(value)

    # -- the phone form and the demo ----------------------------------------------------------

    def form_data(self) -> dict[str, Any]:
        """Return the data-* attributes the phone's script reads from this question's fieldset."""
        return {}

    def demo_value(self, draw: DemoDraw) -> Any:
        """Return a believable answer for demo data (None = left empty)."""
        raise NotImplementedError


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
        # The canonical answer (what the phone sends) needs no reading; kept because it pays: without
        # the three shortcuts of yes_no, scale and duration, scoring takes 1.3x as long (bench_checklists).
        if raw == "yes" or raw == "no":
            return raw
        value = yes_no_value(raw)
        if value is None:
            raise AnswerError('expected "yes" or "no", got %(got)s', got=describe(raw))
        return value

    def fraction(self, value: Any) -> float:
        return 1.0 if value == self.expected else 0.0

    def words(self, value: Any) -> str:
        return _("Yes") if value == "yes" else _("No")

    def form_data(self) -> dict[str, Any]:
        return {"expected": self.expected}

    def demo_value(self, draw: DemoDraw) -> Any:
        if not self.weight:
            return "yes" if draw.rng.random() < draw.yes_rate else "no"
        other = "no" if self.expected == "yes" else "yes"
        return self.expected if draw.rng.random() < draw.good else other


class ScaleQuestion(BaseQuestion):
    type: Literal["scale"]
    min: Int = 1
    max: Int = 5
    labels: dict[int, Text] | None = None

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.max <= self.min:
            raise Problem(f"scale max ({self.max}) must be greater than min ({self.min})", "max")
        for key in self.labels or {}:
            if not self.min <= key <= self.max:
                raise Problem(f"label {key} is outside the scale {self.min}..{self.max}", "labels", key)
        return self

    @property
    def points(self) -> list[int]:
        """Return every value of the scale, lowest first."""
        return list(range(self.min, self.max + 1))

    def label(self, value: int) -> str | None:
        """Return the label of a scale value, or None."""
        return (self.labels or {}).get(value)

    def parse(self, raw: Any) -> Any:
        if type(raw) is int and self.min <= raw <= self.max:  # canonical (see YesNoQuestion.parse); not bool
            return raw
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

    def words(self, value: Any) -> str:
        text = _("%(value)s of %(max)s", value=value, max=self.max)
        label = self.label(int(value))
        return f"{text} ({label})" if label else text

    def form_data(self) -> dict[str, Any]:
        return {"min": self.min, "max": self.max}

    def demo_value(self, draw: DemoDraw) -> Any:
        share = min(1.0, max(0.0, draw.rng.gauss(draw.good, 0.18)))
        return self.min + round(share * (self.max - self.min))


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
    def _unique_values(self) -> Self:
        seen: set[str] = set()
        for index, option in enumerate(self.options):
            if not option.value.strip():
                # A blank answer is no answer: the phone could never send this option.
                raise Problem("an option needs a value", "options", index, "value")
            if option.value in seen:
                raise Problem(f"option value {option.value!r} is used twice", "options", index, "value")
            if option.value == NA:
                raise Problem('"na" is reserved for "not applicable" (use allow_na: true)', "options", index, "value")
            seen.add(option.value)
        return self

    @cached_property
    def by_value(self) -> dict[str, Option]:
        """Return the options by value."""
        return {option.value: option for option in self.options}

    def option(self, value: str) -> Option | None:
        """Return the option with this value, or None."""
        return self.by_value.get(value)

    def parse(self, raw: Any) -> Any:
        value = option_value(raw)
        if value is None or value not in self.by_value:
            allowed = ", ".join(o.value for o in self.options)
            raise AnswerError("%(got)s is not one of the options (%(allowed)s)", got=describe(raw), allowed=allowed)
        return value

    def fraction(self, value: Any) -> float:
        return self.by_value[value].score

    def words(self, value: Any) -> str:
        option = self.option(str(value))
        return option.label if option else str(value)

    def demo_value(self, draw: DemoDraw) -> Any:
        share = min(1.0, max(0.0, draw.rng.gauss(draw.good, 0.2)))
        return min(self.options, key=lambda o: abs(o.score - share) + draw.rng.random() * 0.05).value


def _demo_target_value(draw: DemoDraw, target: float, limit: float) -> int:
    """Return a measured value that meets the target with the draw's chance of a good answer."""
    if draw.rng.random() < draw.good:
        value = target * draw.rng.uniform(0.25, 1.0)
    else:
        value = target + (limit - target) * draw.rng.uniform(0.05, 1.15)
    return max(0, round(value))


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
    def _order(self) -> Self:
        # _both_or_neither has made sure that target and limit come together.
        if self.target is not None and self.limit is not None and self.target >= self.limit:
            raise Problem(f"target ({self.target:g}) must be less than limit ({self.limit:g})", "target")
        return self

    def _kind(self) -> str:
        return "number question without target and limit"

    def parse(self, raw: Any) -> Any:
        return _number(raw)

    def fraction(self, value: Any) -> float | None:
        if self.target is None or self.limit is None:
            return None
        return target_fraction(value, self.target, self.limit)

    def words(self, value: Any) -> str:
        if not isinstance(value, int | float):
            return str(value)
        return f"{number_text(value)} {self.unit}" if self.unit else number_text(value)

    def form_data(self) -> dict[str, Any]:
        return {"target": self.target, "limit": self.limit} if self.target is not None else {}

    def demo_value(self, draw: DemoDraw) -> Any:
        if self.target is None or self.limit is None:
            return draw.rng.randint(*draw.number_range)
        return _demo_target_value(draw, self.target, self.limit)


class DurationQuestion(BaseQuestion):
    type: Literal["duration"]
    target: Int = Field(ge=0)
    limit: Int

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.target >= self.limit:
            raise Problem(f"target ({self.target} s) must be less than limit ({self.limit} s)", "target")
        return self

    def parse(self, raw: Any) -> Any:
        if type(raw) is int and raw >= 0:  # canonical (see YesNoQuestion.parse); not bool
            return raw
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

    def words(self, value: Any) -> str:
        return clock(value)

    def form_data(self) -> dict[str, Any]:
        return {"target": self.target, "limit": self.limit}

    def demo_value(self, draw: DemoDraw) -> Any:
        return _demo_target_value(draw, self.target, self.limit)


class TextQuestion(BaseQuestion):
    scored_type: ClassVar[bool] = False
    type: Literal["text"]
    max_length: Int | None = Field(default=None, ge=1)

    def read(self, raw: Any) -> Any:
        # Without allow_na, "na" is just what the shopper wrote.
        return super().read(raw) if self.allow_na else self.parse(raw)

    def parse(self, raw: Any) -> Any:
        if not isinstance(raw, str):
            raise AnswerError("expected text, got %(got)s", got=describe(raw))
        if not raw.strip():
            return None
        if self.max_length is not None and len(raw) > self.max_length:
            raise AnswerError("text is %(length)d characters long; the limit is %(limit)d",
                              length=len(raw), limit=self.max_length)
        return raw

    def demo_value(self, draw: DemoDraw) -> Any:
        if not self.required and draw.rng.random() >= 0.3:
            return None
        text = draw.text(self)
        return text[:self.max_length] if self.max_length else text


class PhotoQuestion(BaseQuestion):
    scored_type: ClassVar[bool] = False
    type: Literal["photo"]
    min_photos: Int | None = Field(default=None, ge=0)
    max_photos: Int = Field(default=5, ge=1)

    @model_validator(mode="after")
    def _counts(self) -> Self:
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
        needed = self.min_photos or 0  # never None once _counts has run
        if len(value) < needed:
            return AnswerError("photos taken: %(count)d; at least %(needed)d needed", count=len(value), needed=needed)
        return None

    def words(self, value: Any) -> str:
        count = len(value) if isinstance(value, list) else 0
        return ngettext("%(num)d photo", "%(num)d photos", count)

    def form_data(self) -> dict[str, Any]:
        return {"min-photos": self.min_photos, "max-photos": self.max_photos}

    def demo_value(self, draw: DemoDraw) -> Any:
        count = max(self.min_photos or 0, 1 if self.required or draw.rng.random() < 0.5 else 0)
        return draw.photos(self, min(count, self.max_photos)) if count else None


QUESTION_CLASSES: dict[str, type[BaseQuestion]] = {
    "yes_no": YesNoQuestion,
    "scale": ScaleQuestion,
    "choice": ChoiceQuestion,
    "number": NumberQuestion,
    "duration": DurationQuestion,
    "text": TextQuestion,
    "photo": PhotoQuestion,
}
