"""Load checklist YAML files into typed definitions, or say exactly what is wrong and where."""
import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError

from app.checklists.messages import translate
from app.checklists.schema import Checklist
from app.checklists.yamlsource import MAX_BYTES, YamlProblem, read_yaml, too_large

EXTENSIONS = (".yaml", ".yml")


@dataclass(frozen=True)
class ChecklistProblem:
    """One problem in a checklist file, at a line when it is known."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


class ChecklistError(Exception):
    """A checklist file that was rejected, with every problem found in it."""

    def __init__(self, problems: list[ChecklistProblem]):
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems

    @classmethod
    def single(cls, path: str, line: int | None, message: str) -> "ChecklistError":
        """Return an error with one problem."""
        return cls([ChecklistProblem(path, line, message)])


@dataclass(frozen=True)
class LoadedChecklist:
    """A valid checklist file: its definition, its text and the sha256 of its bytes."""

    path: str
    checklist: Checklist
    source_text: str
    source_hash: str


def display_path(path: str | os.PathLike) -> str:
    """Return the path relative to the working directory when it lies below it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def parse_document(text: str, path: str, model: type[BaseModel], error: type[ChecklistError], keys: str,
                   explain=translate):
    """Return `model` validated from YAML `text`; raise `error` naming the file, line and problem.

    `keys` names the main keys, for the message when the document is not a mapping; `explain`
    turns pydantic's errors into (line, message) pairs in the author's words.
    """
    try:
        data, lines = read_yaml(text)
    except YamlProblem as exc:
        raise error([ChecklistProblem(path, line, message) for line, message in exc.problems]) from None
    if data is None:
        raise error.single(path, 1, "the file is empty")
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        noun = model.__name__.lower()
        raise error.single(path, 1, f"a {noun} must be a mapping of keys ({keys}), not {kind}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        found = explain(exc.errors(include_url=False), data, lines)
        raise error([ChecklistProblem(path, line, message) for line, message in found]) from None


def read_document(path: str | os.PathLike, error: type[ChecklistError]) -> tuple[str, str, bytes]:
    """Return (path as shown, text, raw bytes) of a YAML file; raise `error` when unreadable, too large or not UTF-8."""
    shown = display_path(path)
    try:
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            raise error.single(shown, None, too_large(size))
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise error.single(shown, None, f"cannot read the file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error.single(
            shown, line, f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as UTF-8"
        ) from None
    return shown, text, raw


def parse_checklist(text: str, path: str = "<string>") -> Checklist:
    """Return the checklist defined by YAML `text`; raise ChecklistError naming file and line."""
    return parse_document(text, path, Checklist, ChecklistError, "id, version, title, sections")


def load_checklist_file(path: str | os.PathLike) -> LoadedChecklist:
    """Return the loaded checklist at `path`; raise ChecklistError when it is unreadable or invalid."""
    shown, text, raw = read_document(path, ChecklistError)
    return LoadedChecklist(shown, parse_checklist(text, shown), text, hashlib.sha256(raw).hexdigest())


def checklist_files(directory: str | os.PathLike) -> list[Path]:
    """Return the checklist files directly in `directory`, sorted by name (subfolders such as surveys/ are skipped)."""
    return sorted(
        entry for entry in Path(directory).iterdir()
        if entry.is_file() and entry.suffix.lower() in EXTENSIONS and not entry.name.startswith(".")
    )


def load_checklist_dir(directory: str | os.PathLike) -> tuple[list[LoadedChecklist], list[ChecklistError]]:
    """Return the valid checklists in `directory` and one error per rejected file."""
    loaded: list[LoadedChecklist] = []
    errors: list[ChecklistError] = []
    try:
        files = checklist_files(directory)
    except OSError as exc:
        return [], [ChecklistError.single(display_path(directory), None, f"cannot read the folder: {exc.strerror}")]
    for path in files:
        try:
            loaded.append(load_checklist_file(path))
        except ChecklistError as exc:
            errors.append(exc)
        except Exception as exc:  # noqa: BLE001 - one broken file must never take the others down
            message = f"could not be loaded ({exc!r}); please report this as a bug"
            errors.append(ChecklistError.single(display_path(path), None, message))
    return _reject_same_versions(loaded, errors)


def _reject_same_versions(
    loaded: list[LoadedChecklist], errors: list[ChecklistError]
) -> tuple[list[LoadedChecklist], list[ChecklistError]]:
    """Reject every file of an id and version that more than one file claims: none can win."""
    claims: dict[tuple[str, int], list[LoadedChecklist]] = defaultdict(list)
    for item in loaded:
        claims[(item.checklist.id, item.checklist.version)].append(item)
    kept = []
    for item in loaded:
        same = claims[(item.checklist.id, item.checklist.version)]
        if len(same) == 1:
            kept.append(item)
            continue
        others = ", ".join(other.path for other in same if other is not item)
        errors.append(ChecklistError.single(
            item.path, None,
            f"checklist {item.checklist.id!r} version {item.checklist.version} is also defined in {others};"
            " give each file its own id or version",
        ))
    return kept, errors
