"""Load survey YAML files, with the checklist engine's safe reader and its style of messages."""
import os
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from app.checklists.loader import (
    ChecklistError,
    checklist_files,
    display_path,
    parse_document,
    read_document,
)
from app.checklists.messages import _line, _message, _suggest
from app.checklists.questions import Problem, describe
from app.surveys.schema import TEXT_KEYS, ExtraQuestion, Metric, Metrics, Option, Survey, Why


class SurveyError(ChecklistError):
    """A survey file that was rejected, with every problem found in it (file:line: message)."""


@dataclass(frozen=True)
class LoadedSurvey:
    """A valid survey file and its definition."""

    path: str
    survey: Survey
    mtime: float


def parse_survey(text: str, path: str = "<string>") -> Survey:
    """Return the survey defined by YAML `text`; raise SurveyError naming file and line."""
    return parse_document(text, path, Survey, SurveyError, "id, version, title, metrics, thank_you", translate)


def load_survey_file(path: str | os.PathLike) -> LoadedSurvey:
    """Return the survey at `path`; raise SurveyError when it is unreadable or invalid."""
    shown, text, _raw = read_document(path, SurveyError)
    try:
        mtime = os.path.getmtime(path)
    except OSError as exc:
        raise SurveyError.single(shown, None, f"cannot read the file: {exc.strerror or exc}") from None
    return LoadedSurvey(shown, parse_survey(text, shown), mtime)


def load_survey_dir(directory: str | os.PathLike) -> tuple[list[LoadedSurvey], list[SurveyError]]:
    """Return the valid surveys in `directory` and one error per rejected file."""
    loaded: list[LoadedSurvey] = []
    errors: list[SurveyError] = []
    try:
        files = checklist_files(directory)
    except OSError as exc:
        return [], [SurveyError.single(display_path(directory), None, f"cannot read the folder: {exc.strerror}")]
    for path in files:
        try:
            loaded.append(load_survey_file(path))
        except SurveyError as exc:
            errors.append(exc)
        except Exception as exc:  # noqa: BLE001 - one broken file must never take the others down
            errors.append(SurveyError.single(display_path(path), None, f"could not be loaded ({exc!r}); please report"))
    seen: dict[tuple[str, int], str] = {}
    kept = []
    for item in loaded:
        key = (item.survey.id, item.survey.version)
        if key in seen:
            errors.append(SurveyError.single(
                item.path, None, f"survey {key[0]!r} version {key[1]} is also defined in {seen[key]};"
                " give each file its own id or version"))
            continue
        seen[key] = item.path
        kept.append(item)
    return kept, errors


# -- messages --------------------------------------------------------------------------------------

def translate(errors: list[dict], data: Any, lines: dict[tuple, int]) -> list[tuple[int | None, str]]:
    """Return sorted (line, message) pairs for pydantic's errors about survey `data`."""
    found: set[tuple[int | None, str]] = set()
    for error in errors:
        path = tuple(part for part in error["loc"] if part != "[key]")
        ctx = error.get("ctx") or {}
        if error["type"] == "value_error" and isinstance(ctx.get("error"), Problem):
            path = (*path, *ctx["error"].loc)
            message = ctx["error"].message
            named = [part for part in path if part in TEXT_KEYS]
            if named and message.startswith(("must ", "has ")):
                message = f"{named[-1]} {message}"
        else:
            message = _survey_message(error, path, data)
        subject = _subject(path, data)
        found.add((_line(path, lines), f"{subject}: {message}" if subject else message))
    return sorted(found, key=lambda item: (item[0] or 0, item[1]))


def _subject(path: tuple, data: Any) -> str:
    """Name what the path is about: metric "nps", question "purpose", option 2, the "why" question."""
    if len(path) >= 3 and path[0] == "metrics":
        return f'metric "{path[1]}"'
    if path[:1] == ("why",):
        return 'the "why" question'
    if len(path) >= 2 and path[0] == "questions" and isinstance(path[1], int):
        question = data["questions"][path[1]] if isinstance(data.get("questions"), list) else None
        qid = question.get("id") if isinstance(question, dict) else None
        name = f'question "{qid}"' if isinstance(qid, str) else f"question {path[1] + 1}"
        if len(path) >= 4 and path[2] == "options" and isinstance(path[3], int):
            name += f", option {path[3] + 1}"
        return name
    return ""


def _model_at(path: tuple) -> type[BaseModel] | None:
    """Return the model class that validates the mapping at `path`."""
    shapes = {(): Survey, ("metrics",): Metrics, ("why",): Why}
    if path in shapes:
        return shapes[path]
    if len(path) == 2 and path[0] == "metrics":
        return Metric
    if len(path) == 2 and path[0] == "questions":
        return ExtraQuestion
    if len(path) == 4 and path[0] == "questions" and path[2] == "options":
        return Option
    return None


def _survey_message(error: dict, path: tuple, data: Any) -> str:
    kind = error["type"]
    model = _model_at(path[:-1]) if path else None
    keys = [field.alias or name for name, field in model.model_fields.items()] if model else []
    if kind == "extra_forbidden":
        return f"unknown key '{path[-1]}'{_suggest(path[-1], keys)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        model = _model_at(path)
        required = [k for k, f in model.model_fields.items() if f.is_required()] if model else []
        what = "this" if path and isinstance(path[-1], int) else str(path[-1]) if path else "the survey"
        listed = f" ({', '.join(required)})" if required else ""
        return f"{what} must be a mapping of keys{listed}, not {describe(error.get('input'))}"
    if kind == "string_pattern_mismatch" and path[:1] == ("languages",):
        return f"{describe(error.get('input'))} is not a language code such as en or ru"
    if kind == "string_pattern_mismatch":
        joiner = "-" if path == ("id",) else "_"
        return f"id {describe(error.get('input'))} may use only lowercase letters a-z, digits and '{joiner}'"
    # The engine's wording for the rest (missing keys, wrong types, bounds, literals), named by
    # the last key only: "max_length must be at most 5000", not "questions.max_length ...".
    short = tuple(part for part in path if isinstance(part, str))[-1:] or path
    return _message(error, short, data)
