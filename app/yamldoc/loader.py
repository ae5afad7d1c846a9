"""Load YAML documents into pydantic models, or say exactly what is wrong, in which file and on which line."""
import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel, ValidationError

from app.yamldoc.messages import Wording, required_keys
from app.yamldoc.reader import MAX_BYTES, YamlProblem, read_yaml, too_large

EXTENSIONS = (".yaml", ".yml")


class Document(BaseModel):
    """What every kind of document has: an id and a version, which no two files in a folder may share."""

    id: str
    version: int


Model = TypeVar("Model", bound=Document)


@dataclass(frozen=True)
class DocumentProblem:
    """One problem in a document file, at a line when it is known."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


class DocumentError(Exception):
    """A document file that was rejected, with every problem found in it."""

    def __init__(self, problems: list[DocumentProblem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems

    @classmethod
    def single(cls, path: str, line: int | None, message: str) -> Self:
        """Return an error with one problem."""
        return cls([DocumentProblem(path, line, message)])


@dataclass(frozen=True)
class LoadedDocument(Generic[Model]):
    """A valid document file: its definition, its text and the sha256 of its bytes."""

    path: str
    document: Model
    source_text: str
    source_hash: str

    def summary(self) -> str:
        """Return what `validate` prints after "path: ok — "."""
        return f"{self.document.id} v{self.document.version}"


def display_path(path: str | os.PathLike[str]) -> str:
    """Return the path relative to the working directory when it lies below it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def document_files(directory: str | os.PathLike[str]) -> list[Path]:
    """Return the YAML files directly in `directory`, sorted by name (subfolders and hidden files skipped)."""
    return sorted(
        entry for entry in Path(directory).iterdir()
        if entry.is_file() and entry.suffix.lower() in EXTENSIONS and not entry.name.startswith(".")
    )


def read_document(path: str | os.PathLike[str], error: type[DocumentError]) -> tuple[str, str, bytes]:
    """Return (path as shown, text, raw bytes) of a file; raise `error` when unreadable, too large or not UTF-8."""
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


Loaded = TypeVar("Loaded", bound=LoadedDocument[Any])
Error = TypeVar("Error", bound=DocumentError)


class DocumentKind(Generic[Model, Loaded, Error]):
    """One kind of YAML document (checklist, survey): how it is validated, worded and loaded.

    Every kind's model has `id` and `version`: a folder may not hold two files claiming the same pair.
    `loaded` must be a LoadedDocument of `model`.
    """

    def __init__(self, noun: str, model: type[Model], error: type[Error], loaded: type[Loaded], wording: Wording,
                 *, first_claim_wins: bool = False) -> None:
        self.noun = noun
        self.model = model
        self.error = error
        self.loaded = loaded
        self.wording = wording
        self.first_claim_wins = first_claim_wins

    def parse(self, text: str, path: str = "<string>") -> Model:
        """Return the model validated from YAML `text`; raise the kind's error naming file, line and problem."""
        try:
            data, lines = read_yaml(text)
        except YamlProblem as exc:
            raise self.error([DocumentProblem(path, line, message) for line, message in exc.problems]) from None
        if data is None:
            raise self.error.single(path, 1, "the file is empty")
        if not isinstance(data, dict):
            found = "a list" if isinstance(data, list) else "a single value"
            keys = ", ".join(required_keys(self.model))
            raise self.error.single(path, 1, f"a {self.noun} must be a mapping of keys ({keys}), not {found}")
        try:
            return self.model.model_validate(data)
        except ValidationError as exc:
            problems = self.wording.explain(exc.errors(include_url=False), data, lines)
            raise self.error([DocumentProblem(path, line, message) for line, message in problems]) from None

    def load_file(self, path: str | os.PathLike[str]) -> Loaded:
        """Return the loaded document at `path`; raise the kind's error when it is unreadable or invalid."""
        shown, text, raw = read_document(path, self.error)
        return self.loaded(shown, self.parse(text, shown), text, hashlib.sha256(raw).hexdigest())

    def load_dir(self, directory: str | os.PathLike[str]) -> tuple[list[Loaded], list[Error]]:
        """Return the valid documents in `directory` and one error per rejected file."""
        loaded: list[Loaded] = []
        errors: list[Error] = []
        try:
            files = document_files(directory)
        except OSError as exc:
            return [], [self.error.single(display_path(directory), None, f"cannot read the folder: {exc.strerror}")]
        for path in files:
            try:
                loaded.append(self.load_file(path))
            except self.error as exc:  # load_file raises no other DocumentError
                errors.append(exc)
            except Exception as exc:  # noqa: BLE001 - one broken file must never take the others down
                message = f"could not be loaded ({exc!r}); please report this as a bug"
                errors.append(self.error.single(display_path(path), None, message))
        return self._reject_same_versions(loaded, errors)

    def _reject_same_versions(
        self, loaded: list[Loaded], errors: list[Error]
    ) -> tuple[list[Loaded], list[Error]]:
        """Reject the files of an id and version that more than one file claims (all, or all but the first)."""
        claims: dict[tuple[str, int], list[Loaded]] = defaultdict(list)
        for item in loaded:
            claims[(item.document.id, item.document.version)].append(item)
        kept: list[Loaded] = []
        for item in loaded:
            same = claims[(item.document.id, item.document.version)]
            if len(same) == 1 or (self.first_claim_wins and item is same[0]):
                kept.append(item)
                continue
            others = ", ".join(other.path for other in same if other is not item)
            errors.append(self.error.single(
                item.path, None,
                f"{self.noun} {item.document.id!r} version {item.document.version} is also defined in {others};"
                " give each file its own id or version",
            ))
        return kept, errors
