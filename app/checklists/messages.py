"""How validation messages name the parts of a checklist: sections, questions, options, grade bands."""
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from app.checklists.questions import QUESTION_CLASSES, Option, ShowIf
from app.checklists.schema import Checklist, Grade, Section
from app.yamldoc.messages import Wording, describe, keys_of, suggest
from app.yamldoc.reader import KeyPath

_TYPES = ", ".join(QUESTION_CLASSES)


def _is_question_path(path: KeyPath) -> bool:
    return len(path) == 4 and path[0] == "sections" and path[2] == "questions"


def _get(data: Any, path: KeyPath) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


class ChecklistWording(Wording):
    """Checklist messages: question "tone", section "greeting", option 2, grade band 1."""

    singular = {"sections": "section", "questions": "question", "options": "option", "grades": "grade band",
                "in": "value"}

    def clean(self, loc: KeyPath, data: Any) -> KeyPath:
        """Drop pydantic's question-type union tags too, so the path follows the YAML keys."""
        path: list[str | int] = []
        for part in super().clean(loc, data):
            if isinstance(part, str) and part in QUESTION_CLASSES and _is_question_path(tuple(path)):
                question = _get(data, tuple(path))
                if isinstance(question, dict) and question.get("type") == part:
                    continue
            path.append(part)
        return tuple(path)

    def subject(self, path: KeyPath, data: Any) -> str:
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
                named = isinstance(qid, str)
                parts.append(f'question "{qid}"' if named else f"question {path[3] + 1} of {section_name}")
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

    def name(self, path: KeyPath) -> str:
        """Return the key below the subject, dotted when nested (show_if.question)."""
        keys = [part for part in path if isinstance(part, str)]
        if keys[:1] == ["sections"] and "questions" in keys:
            keys = keys[keys.index("questions") + 1:] if len(keys) > 2 else keys[1:]
        elif keys[:1] in (["sections"], ["grades"]) and len(keys) > 1:
            keys = keys[1:]
        if keys[:1] == ["options"] and len(keys) > 1:
            keys = keys[1:]
        return ".".join(keys) or "this"

    def model_at(self, path: KeyPath, data: Any) -> type[BaseModel] | None:
        """Return the model class that validates the mapping at `path` (a question's by its type)."""
        if path == ():
            return Checklist
        if len(path) == 2 and path[0] == "grades":
            return Grade
        if len(path) == 2 and path[0] == "sections":
            return Section
        if len(path) >= 4 and _is_question_path(path[:4]):
            question = _get(data, path[:4])
            kind = question.get("type") if isinstance(question, dict) else None
            model = QUESTION_CLASSES.get(kind) if isinstance(kind, str) else None
            if len(path) == 4:
                return model
            if path[4:5] == ("show_if",) and len(path) == 5:
                return ShowIf
            if path[4:5] == ("options",) and len(path) == 6:
                return Option
        return None

    def required_at(self, path: KeyPath, data: Any) -> list[str]:
        """A question that is no mapping has no type yet, so name the keys every question needs."""
        if self.model_at(path, data) is None and _is_question_path(path):
            return ["id", "text", "type"]
        return super().required_at(path, data)

    def message(self, error: ErrorDetails, path: KeyPath, data: Any) -> str:
        """Word question types, scale labels, scores and grade bands; the rest as for any document."""
        kind, value = error["type"], error.get("input")
        if kind == "extra_forbidden":
            return self._key_of_another_type(path, data) or super().message(error, path, data)
        if kind == "union_tag_invalid":
            tag = (error.get("ctx") or {}).get("tag")
            return f"unknown question type {tag!r}{suggest(tag, list(QUESTION_CLASSES))}; use one of: {_TYPES}"
        if kind == "union_tag_not_found":
            if not isinstance(value, dict):
                return f"each question must be a mapping with id, text and type, not {describe(value)}"
            return f"missing required key 'type' (one of: {_TYPES})"
        if kind in ("int_type", "int_parsing", "int_from_float") and path[-1:] != ("labels",) and "labels" in path:
            return f"label key {describe(value)} must be a whole number on the scale"
        if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
            if path[-1] == "score":
                return f"score must be between 0 and 1, not {describe(value)}"
            if len(path) == 3 and path[0] == "grades":
                return f"min must be between 0 and 100, not {describe(value)}"
        return super().message(error, path, data)

    def _key_of_another_type(self, path: KeyPath, data: Any) -> str | None:
        """Return "key 'max' does not apply to a yes_no question (only to scale)", or None."""
        key, parent = path[-1], path[:-1]
        if self.model_at(parent, data) not in QUESTION_CLASSES.values():
            return None
        owners = [t for t, cls in QUESTION_CLASSES.items() if key in keys_of(cls)]
        if not owners:
            return None
        return f"key '{key}' does not apply to a {_get(data, parent)['type']} question (only to {', '.join(owners)})"
