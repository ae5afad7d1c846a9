"""How validation messages name the parts of a survey: metrics, extra questions, options, the "why" question."""
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from app.surveydefs.schema import TEXT_KEYS, ExtraQuestion, Metric, Metrics, Option, Survey, Why
from app.yamldoc.messages import Wording, describe
from app.yamldoc.reader import KeyPath


class SurveyWording(Wording):
    """Survey messages: metric "nps", question "purpose", option 2, the "why" question."""

    def subject(self, path: KeyPath, data: Any) -> str:
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

    def model_at(self, path: KeyPath, data: Any) -> type[BaseModel] | None:
        """Return the model class that validates the mapping at `path`."""
        shapes: dict[KeyPath, type[BaseModel]] = {(): Survey, ("metrics",): Metrics, ("why",): Why}
        if path in shapes:
            return shapes[path]
        if len(path) == 2 and path[0] == "metrics":
            return Metric
        if len(path) == 2 and path[0] == "questions":
            return ExtraQuestion
        if len(path) == 4 and path[0] == "questions" and path[2] == "options":
            return Option
        return None

    def below(self, path: KeyPath, message: str) -> str:
        """A translated text's validator says "must ..." or "has ...": start with the key it checked."""
        named = [part for part in path if part in TEXT_KEYS]
        return f"{named[-1]} {message}" if named and message.startswith(("must ", "has ")) else message

    def message(self, error: ErrorDetails, path: KeyPath, data: Any) -> str:
        """Word language codes; the rest as for any document."""
        if error["type"] == "string_pattern_mismatch" and path[:1] == ("languages",):
            return f"{describe(error.get('input'))} is not a language code such as en or ru"
        return super().message(error, path, data)
