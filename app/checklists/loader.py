"""Load checklist YAML files into typed definitions, or say exactly what is wrong and where."""
import os

from app.checklists.messages import ChecklistWording
from app.checklists.schema import Checklist
from app.yamldoc.loader import DocumentError, DocumentKind, DocumentProblem, LoadedDocument

ChecklistProblem = DocumentProblem


class ChecklistError(DocumentError):
    """A checklist file that was rejected, with every problem found in it."""


class LoadedChecklist(LoadedDocument[Checklist]):
    """A valid checklist file: its definition, its text and the sha256 of its bytes."""

    @property
    def checklist(self) -> Checklist:
        """Return the checklist the file defines."""
        return self.document

    def summary(self) -> str:
        """Return "id vN, S sections, Q questions"."""
        sections = len(self.checklist.sections)
        return (f"{super().summary()}, {sections} section{'s' * (sections != 1)},"
                f" {self.checklist.question_count} questions")


CHECKLISTS = DocumentKind("checklist", Checklist, ChecklistError, LoadedChecklist, ChecklistWording())


def parse_checklist(text: str, path: str = "<string>") -> Checklist:
    """Return the checklist defined by YAML `text`; raise ChecklistError naming file and line."""
    return CHECKLISTS.parse(text, path)


def load_checklist_file(path: str | os.PathLike[str]) -> LoadedChecklist:
    """Return the loaded checklist at `path`; raise ChecklistError when it is unreadable or invalid."""
    return CHECKLISTS.load_file(path)


def load_checklist_dir(directory: str | os.PathLike[str]) -> tuple[list[LoadedChecklist], list[ChecklistError]]:
    """Return the valid checklists in `directory` and the rejected files; a version claimed twice loads from none."""
    return CHECKLISTS.load_dir(directory)
