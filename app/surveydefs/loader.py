"""Load survey YAML files into typed surveys, or say exactly what is wrong and where."""
import os

from app.surveydefs.messages import SurveyWording
from app.surveydefs.schema import Survey
from app.yamldoc.loader import DocumentError, DocumentKind, LoadedDocument


class SurveyError(DocumentError):
    """A survey file that was rejected, with every problem found in it (file:line: message)."""


class LoadedSurvey(LoadedDocument[Survey]):
    """A valid survey file and its definition."""

    @property
    def survey(self) -> Survey:
        """Return the survey the file defines."""
        return self.document

    def summary(self) -> str:
        """Return "id vN, NPS, CSAT, n extra question(s), languages en, ru"."""
        survey = self.survey
        metrics = ", ".join(name.upper() for name, _metric in survey.metrics.items())
        return (f"{super().summary()}, {metrics}, {len(survey.questions)} extra question(s),"
                f" languages {', '.join(survey.languages)}")


# A copied survey file must not take the public page down: the first file of an id and version
# stays live and the copy is rejected.
SURVEYS = DocumentKind("survey", Survey, SurveyError, LoadedSurvey, SurveyWording(), first_claim_wins=True)


def parse_survey(text: str, path: str = "<string>") -> Survey:
    """Return the survey defined by YAML `text`; raise SurveyError naming file and line."""
    return SURVEYS.parse(text, path)


def load_survey_file(path: str | os.PathLike[str]) -> LoadedSurvey:
    """Return the survey at `path`; raise SurveyError when it is unreadable or invalid."""
    return SURVEYS.load_file(path)


def load_survey_dir(directory: str | os.PathLike[str]) -> tuple[list[LoadedSurvey], list[SurveyError]]:
    """Return the valid surveys in `directory` and the rejected files; a version claimed twice loads from the first."""
    return SURVEYS.load_dir(directory)
