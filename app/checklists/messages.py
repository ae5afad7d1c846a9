"""Turn pydantic's validation errors into messages a checklist author understands, with lines."""
import difflib
from typing import Any

from pydantic import BaseModel

from app.checklists.questions import QUESTION_CLASSES, Option, Problem, ShowIf, describe
from app.checklists.schema import Checklist, Grade, Section

_SINGULAR = {"sections": "section", "questions": "question", "options": "option", "grades": "grade band",
             "in": "value"}
_TYPES = ", ".join(QUESTION_CLASSES)


def translate(errors: list[dict], data: Any, lines: dict[tuple, int]) -> list[tuple[int | None, str]]:
    """Return (line, message) pairs, sorted by line, for pydantic's `errors()` of `data`."""
    found: set[tuple[int | None, str]] = set()
    for error in errors:
        path = _clean_loc(error["loc"], data)
        message = _message(error, path, data)
        if isinstance(message, tuple):  # a Problem pointing below the model that raised it
            path, message = message
        subject = _subject(path, data)
        if subject:
            message = f"{subject} {message}" if message.startswith("must ") else f"{subject}: {message}"
        found.add((_line(path, lines), message))
    return sorted(found, key=lambda item: (item[0] or 0, item[1]))


def _clean_loc(loc: tuple, data: Any) -> tuple:
    """Drop pydantic's union tags and '[key]' markers so the loc follows the YAML keys."""
    path: list = []
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, str) and part in QUESTION_CLASSES and _is_question_path(tuple(path)):
            question = _get(data, tuple(path))
            if isinstance(question, dict) and question.get("type") == part:
                continue
        path.append(part)
    return tuple(path)


def _is_question_path(path: tuple) -> bool:
    return len(path) == 4 and path[0] == "sections" and path[2] == "questions"


def _get(data: Any, path: tuple) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _line(path: tuple, lines: dict[tuple, int]) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _subject(path: tuple, data: Any) -> str:
    """Name what the path is about: question "tone", section "greeting", option 2, ..."""
    parts: list[str] = []
    rest = path
    if len(path) >= 2 and path[0] == "sections" and isinstance(path[1], int):
        section = _get(data, path[:2])
        sid = section.get("id") if isinstance(section, dict) else None
        section_name = f'section "{sid}"' if isinstance(sid, str) else f"section {path[1] + 1}"
        if len(path) >= 4 and path[2] == "questions" and isinstance(path[3], int):
            question = _get(data, path[:4])
            qid = question.get("id") if isinstance(question, dict) else None
            parts.append(f'question "{qid}"' if isinstance(qid, str) else f"question {path[3] + 1} of {section_name}")
            rest = path[4:]
        else:
            parts.append(section_name)
            rest = path[2:]
    elif len(path) >= 2 and path[0] == "grades" and isinstance(path[1], int):
        parts.append(f"grade band {path[1] + 1}")
        rest = path[2:]
    if len(rest) >= 2 and rest[0] == "options" and isinstance(rest[1], int):
        parts.append(f"option {rest[1] + 1}")
    return ", ".join(parts)


def _name(path: tuple) -> str:
    """Return the key the message is about, as the author wrote it."""
    keys = [part for part in path if isinstance(part, str)]
    if keys[:1] == ["sections"] and "questions" in keys:
        keys = keys[keys.index("questions") + 1:] if len(keys) > 2 else keys[1:]
    elif keys[:1] in (["sections"], ["grades"]) and len(keys) > 1:
        keys = keys[1:]
    if keys[:1] == ["options"] and len(keys) > 1:
        keys = keys[1:]
    return ".".join(keys) or "this"


def _model_at(path: tuple, data: Any) -> type[BaseModel] | None:
    """Return the model class that validates the mapping at `path`."""
    if path == ():
        return Checklist
    if len(path) == 2 and path[0] == "grades":
        return Grade
    if len(path) == 2 and path[0] == "sections":
        return Section
    if len(path) >= 4 and _is_question_path(path[:4]):
        question = _get(data, path[:4])
        model = QUESTION_CLASSES.get(question.get("type")) if isinstance(question, dict) else None
        if len(path) == 4:
            return model
        if path[4:5] == ("show_if",) and len(path) == 5:
            return ShowIf
        if path[4:5] == ("options",) and len(path) == 6:
            return Option
    return None


def _keys(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _suggest(word: Any, choices: list[str]) -> str:
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _message(error: dict, path: tuple, data: Any) -> str | tuple[tuple, str]:
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    name = _name(path)
    if kind == "value_error" and isinstance(ctx.get("error"), Problem):
        problem = ctx["error"]
        return (*path, *problem.loc), problem.message
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "missing":
        return f"missing required key '{path[-1]}'"
    if kind == "extra_forbidden":
        return _unknown_key(path, data)
    if kind == "union_tag_invalid":
        return f"unknown question type {ctx.get('tag')!r}{_suggest(ctx.get('tag'), list(QUESTION_CLASSES))};" \
               f" use one of: {_TYPES}"
    if kind == "union_tag_not_found":
        if not isinstance(value, dict):
            return f"each question must be a mapping with id, text and type, not {describe(value)}"
        return f"missing required key 'type' (one of: {_TYPES})"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        model = _model_at(path, data)
        required = [k for k, f in model.model_fields.items() if f.is_required()] if model else []
        if model is None and _is_question_path(path):  # the type is unknown when the item is no mapping
            required = ["id", "text", "type"]
        keys = f" ({', '.join(required)})" if required else ""
        what = "" if path and isinstance(path[-1], int) else f"{name} "
        return f"{what}must be a mapping of keys{keys}, not {describe(value)}"
    if kind == "list_type":
        return f"{name} must be a list, not {describe(value)}"
    if kind == "too_short":
        return f"{name} needs at least one {_SINGULAR.get(path[-1], 'item')}"
    if kind == "string_type":
        return f"{name} must be text, not {describe(value)}"
    if kind == "string_too_short":
        return f"{name} must not be empty"
    if kind == "string_pattern_mismatch":
        joiner = "-" if path == ("id",) else "_"
        return f"{name} {value!r} may use only lowercase letters a-z, digits and '{joiner}'"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        if path[-1:] != ("labels",) and "labels" in path:
            return f"label key {describe(value)} must be a whole number on the scale"
        return f"{name} must be a whole number, not {describe(value)}"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return f"{name} must be a number, not {describe(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"{name} must be true or false, not {describe(value)}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return _bound(name, path, kind, value, ctx)
    if kind == "literal_error":
        choices = [part.strip(" '") for part in ctx.get("expected", "").replace(" or ", ", ").split(",")]
        return f"{name} must be one of {ctx.get('expected')}, not {describe(value)}{_suggest(value, choices)}"
    return f"{name}: {error['msg']}"


def _bound(name: str, path: tuple, kind: str, value: Any, ctx: dict) -> str:
    if path[-1] == "score":
        return f"score must be between 0 and 1, not {describe(value)}"
    if len(path) == 3 and path[0] == "grades":
        return f"min must be between 0 and 100, not {describe(value)}"
    words = {"greater_than": ("more than", "gt"), "greater_than_equal": ("at least", "ge"),
             "less_than": ("less than", "lt"), "less_than_equal": ("at most", "le")}[kind]
    return f"{name} must be {words[0]} {ctx.get(words[1]):g}, not {describe(value)}"


def _unknown_key(path: tuple, data: Any) -> str:
    key, parent = path[-1], path[:-1]
    model = _model_at(parent, data)
    allowed = _keys(model) if model else []
    message = f"unknown key '{key}'"
    if model is not None and model in QUESTION_CLASSES.values():
        owners = [t for t, cls in QUESTION_CLASSES.items() if key in _keys(cls)]
        if owners:
            kind = _get(data, parent)["type"]
            return f"key '{key}' does not apply to a {kind} question (only to {', '.join(owners)})"
    return message + _suggest(key, allowed)
