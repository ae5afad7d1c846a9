"""What the phone sends, as typed models: parsed once at the boundary, refused with the field named.

The models accept exactly what docs/api.md describes. A refusal is a `VisitError` (code
"bad_request") whose `field` names the offending key the way the phone sent it
("position.latitude", "answer_times.greeted"), with a message in the user's language.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator
from pydantic.types import Strict

from app.visits.errors import VisitError

SUBMISSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
Geolocation = Literal["granted", "denied", "unavailable"]


def parse_time(value: Any) -> datetime | None:
    """Return an aware UTC datetime from ISO 8601 text (naive = UTC), or None for nothing; raise ValueError."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    else:
        raise ValueError("not a time")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset lies before any representable time
        raise ValueError("time out of range") from None


Moment = Annotated[datetime | None, BeforeValidator(parse_time)]
Latitude = Annotated[float, Strict(), Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Strict(), Field(ge=-180, le=180, allow_inf_nan=False)]
Accuracy = Annotated[float, Strict(), Field(ge=0, le=10_000_000, allow_inf_nan=False)]


class Payload(BaseModel):
    """Keys the phone may send beyond these are ignored (older or newer app versions)."""

    model_config = ConfigDict(extra="ignore", strict=False)


class Position(Payload):
    """Where the phone was, as its browser reported it."""

    latitude: Latitude
    longitude: Longitude
    accuracy: Accuracy | None = None


class StartPayload(Payload):
    """POST /visits/<id>/start."""

    started_at: Moment = None
    geolocation: Geolocation | None = None
    position: Position | None = None


class AnswersPayload(Payload):
    """The answers so far and when each was first given."""

    answers: dict[str, Any]
    answer_times: dict[str, Moment] | None = None

    @field_validator("answer_times", mode="after")
    @classmethod
    def _drop_empty(cls, times: dict[str, datetime | None] | None) -> dict[str, datetime | None] | None:
        return {qid: moment for qid, moment in times.items() if moment is not None} if times else times


class DraftPayload(AnswersPayload):
    """PUT /visits/<id>/draft."""

    client_saved_at: Moment = None


class SubmitPayload(AnswersPayload):
    """POST /visits/<id>/submit: the finished visit, once, under the phone's own id."""

    client_submission_id: Annotated[str, Strict(), Field(pattern=SUBMISSION_ID.pattern)]
    started_at: Moment = None
    submitted_at: Moment = None
    geolocation: Geolocation | None = None
    position: Position | None = None


P = TypeVar("P", bound=Payload)


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _message(field: str, top: str) -> str:
    """Return the sentence that explains what `field` must be."""
    if top in ("started_at", "submitted_at", "client_saved_at") or field.startswith("answer_times."):
        return str(_l("%(field)s is not a valid ISO 8601 time.", field=field))
    if top == "answer_times":
        return str(_l("answer_times must map question ids to times."))
    if top == "position":
        bounds = {"latitude": (-90, 90), "longitude": (-180, 180), "accuracy": (0, 10_000_000)}
        key = field.partition(".")[2]
        if key not in bounds:
            return str(_l("%(field)s must be an object with latitude and longitude.", field=field))
        low, high = bounds[key]
        return str(_l("%(field)s.%(key)s must be a number from %(low)s to %(high)s.", field="position", key=key,
                      low=low, high=high))
    if top == "geolocation":
        return str(_l("geolocation must be granted, denied or unavailable."))
    if top == "client_submission_id":
        return str(_l("client_submission_id must be 8 to 64 letters, digits, - or _."))
    return str(_l("%(field)s must be an object.", field=field))


#: What no field of the phone's bodies needs, and the database could not store: refused at the door.
MAX_DEPTH = 16
MAX_NUMBER = 1e15


def _unstorable(text: str) -> bool:
    """Return True for text PostgreSQL cannot store: a NUL character or half of a surrogate pair."""
    return "\x00" in text or any("\ud800" <= ch <= "\udfff" for ch in text)


def check_storable(body: object) -> None:
    """Raise VisitError naming the first value the database could not hold (deep nesting, NUL, huge numbers)."""
    stack: list[tuple[object, tuple[str | int, ...]]] = [(body, ())]
    while stack:
        value, path = stack.pop()
        field = ".".join(str(part) for part in path) or "body"
        if len(path) > MAX_DEPTH:
            raise VisitError(_l("%(field)s is nested too deeply.", field=field), field=field)
        if isinstance(value, str) and _unstorable(value):
            raise VisitError(_l("%(field)s contains characters that cannot be stored.", field=field), field=field)
        if isinstance(value, int | float) and not isinstance(value, bool) and not -MAX_NUMBER <= value <= MAX_NUMBER:
            raise VisitError(_l("%(field)s is a number too large to store.", field=field), field=field)
        if isinstance(value, dict):
            for key, item in value.items():
                if _unstorable(str(key)):
                    raise VisitError(_l("%(field)s contains characters that cannot be stored.", field=field),
                                     field=field)
                stack.append((item, (*path, str(key))))
        elif isinstance(value, list):
            stack.extend((item, (*path, index)) for index, item in enumerate(value))


def json_object(body: object) -> dict[str, Any]:
    """Return `body` when it is a JSON object the database can store; raise VisitError otherwise."""
    if not isinstance(body, dict):
        raise VisitError(_l("The request body must be a JSON object."), field="body")
    check_storable(body)
    return body


def parse(model: type[P], body: object) -> P:
    """Return `body` parsed as `model`; raise VisitError naming the first field that is wrong."""
    body = json_object(body)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        error = exc.errors(include_url=False, include_input=False)[0]
        loc = tuple(error["loc"])
        if loc[:1] == ("position",) and len(loc) > 2:
            loc = loc[:2]  # e.g. ("position", "latitude", "float") from a union
        field = _field(loc)
        raise VisitError(_message(field, str(loc[0]) if loc else "body"), field=field) from None
