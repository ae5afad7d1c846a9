"""Turn pydantic's validation errors into (line, message) pairs in a document author's words."""
import difflib
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from app.yamldoc.reader import KeyPath, Lines

_MAPPING_ERRORS = ("model_type", "model_attributes_type", "dict_type")
_BOUNDS = {"greater_than": ("more than", "gt"), "greater_than_equal": ("at least", "ge"),
           "less_than": ("less than", "lt"), "less_than_equal": ("at most", "le")}


class Problem(ValueError):
    """A broken rule raised by a model's validator, with the keys (below that model) it points at."""

    def __init__(self, message: str, *loc: str | int) -> None:
        super().__init__(message)
        self.message = message
        self.loc = loc


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


def suggest(word: Any, choices: list[str]) -> str:
    """Return " (did you mean 'x'?)" for the choice closest to `word`, or ""."""
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def line_at(path: KeyPath, lines: Lines) -> int | None:
    """Return the line of `path`, or of the nearest enclosing key that has one."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def keys_of(model: type[BaseModel]) -> list[str]:
    """Return the keys `model` accepts, as written in YAML."""
    return [field.alias or name for name, field in model.model_fields.items()]


def required_keys(model: type[BaseModel]) -> list[str]:
    """Return the keys `model` requires, as written in YAML."""
    return [field.alias or name for name, field in model.model_fields.items() if field.is_required()]


class Wording:
    """How pydantic's errors read for one kind of document; a subclass names that kind's parts."""

    #: The singular of a list key, for "sections needs at least one section".
    singular: dict[str, str] = {}

    def explain(self, errors: Sequence[ErrorDetails], data: Any, lines: Lines) -> list[tuple[int | None, str]]:
        """Return (line, message) pairs, sorted by line, for pydantic's `errors()` of `data`."""
        found: set[tuple[int | None, str]] = set()
        for error in errors:
            path = self.clean(error["loc"], data)
            cause = (error.get("ctx") or {}).get("error")
            if error["type"] == "value_error" and isinstance(cause, Problem):
                path = (*path, *cause.loc)
                message = self.below(path, cause.message)
            else:
                message = self.message(error, path, data)
            subject = self.subject(path, data)
            if subject:
                message = f"{subject} {message}" if message.startswith("must ") else f"{subject}: {message}"
            found.add((line_at(path, lines), message))
        return sorted(found, key=lambda item: (item[0] or 0, item[1]))

    def clean(self, loc: KeyPath, data: Any) -> KeyPath:
        """Return pydantic's loc as the path of YAML keys."""
        return tuple(part for part in loc if part != "[key]")

    def subject(self, path: KeyPath, data: Any) -> str:
        """Name the part of the document that `path` is in (question "tone"), or "" for the top."""
        return ""

    def name(self, path: KeyPath) -> str:
        """Return the key a message is about, as the author wrote it."""
        keys = [part for part in path if isinstance(part, str)]
        return keys[-1] if keys else "this"

    def model_at(self, path: KeyPath, data: Any) -> type[BaseModel] | None:
        """Return the model class that validates the mapping at `path`, when known."""
        return None

    def required_at(self, path: KeyPath, data: Any) -> list[str]:
        """Return the keys the mapping at `path` requires, for "must be a mapping of keys (...)"."""
        model = self.model_at(path, data)
        return required_keys(model) if model else []

    def below(self, path: KeyPath, message: str) -> str:
        """Return a validator's message about the keys at `path` as the author reads it."""
        return message

    def message(self, error: ErrorDetails, path: KeyPath, data: Any) -> str:
        """Return the author's words for one pydantic error at `path` (without the subject)."""
        kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
        name = self.name(path)
        if kind == "value_error":
            return str(ctx.get("error", error["msg"]))
        if kind == "missing":
            return f"missing required key '{path[-1]}'"
        if kind == "extra_forbidden":
            model = self.model_at(path[:-1], data)
            return f"unknown key '{path[-1]}'" + suggest(path[-1], keys_of(model) if model else [])
        if kind in _MAPPING_ERRORS:
            required = self.required_at(path, data)
            keys = f" ({', '.join(required)})" if required else ""
            what = "" if path and isinstance(path[-1], int) else f"{name} "
            return f"{what}must be a mapping of keys{keys}, not {describe(value)}"
        if kind == "list_type":
            return f"{name} must be a list, not {describe(value)}"
        if kind == "too_short":
            return f"{name} needs at least one {self.singular.get(str(path[-1]), 'item')}"
        if kind == "string_type":
            return f"{name} must be text, not {describe(value)}"
        if kind == "string_too_short":
            return f"{name} must not be empty"
        if kind == "string_too_long" or (kind == "too_long" and isinstance(value, str)):
            return (f"{name} is {len(value) if isinstance(value, str) else '?'} characters long;"
                    f" at most {ctx.get('max_length')} can be stored")
        if kind == "string_pattern_mismatch":
            joiner = "-" if path == ("id",) else "_"
            return f"{name} {value!r} may use only lowercase letters a-z, digits and '{joiner}'"
        if kind in ("int_type", "int_parsing", "int_from_float"):
            return f"{name} must be a whole number, not {describe(value)}"
        if kind in ("float_type", "float_parsing", "finite_number"):
            return f"{name} must be a number, not {describe(value)}"
        if kind in ("bool_type", "bool_parsing"):
            return f"{name} must be true or false, not {describe(value)}"
        if kind in _BOUNDS:
            words, bound = _BOUNDS[kind]
            limit = ctx.get(bound)
            shown = f"{limit:,}" if isinstance(limit, int) and abs(limit) >= 10_000 else f"{limit:g}"
            return f"{name} must be {words} {shown}, not {describe(value)}"
        if kind == "literal_error":
            choices = [part.strip(" '") for part in ctx.get("expected", "").replace(" or ", ", ").split(",")]
            return f"{name} must be one of {ctx.get('expected')}, not {describe(value)}{suggest(value, choices)}"
        return f"{name}: {error['msg']}"
