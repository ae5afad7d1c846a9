"""The document layer both checklists and surveys stand on: files, folders, messages, the validate command."""
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from flask import Flask
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.yamldoc.cli import validate_command
from app.yamldoc.loader import DocumentError, DocumentKind, LoadedDocument
from app.yamldoc.messages import Problem, Wording


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    version: int = Field(gt=0)
    body: str
    tags: list[str] = []

    @model_validator(mode="after")
    def _rules(self):
        if self.body == "crash":
            raise RuntimeError("a bug in a validator")
        if "x" in self.tags:
            raise Problem("tag 'x' is reserved", "tags", self.tags.index("x"))
        return self


class NoteError(DocumentError):
    """A rejected note."""


class NoteWording(Wording):
    """Knows the top mapping's keys, so an unknown key gets a suggestion."""

    def model_at(self, path, data):
        return Note if path == () else None

    def subject(self, path, data):
        return f"tag {path[1] + 1}" if path[:1] == ("tags",) and len(path) > 1 else ""


NOTES = DocumentKind("note", Note, NoteError, LoadedDocument, NoteWording())
FIRST_WINS = DocumentKind("note", Note, NoteError, LoadedDocument, NoteWording(), first_claim_wins=True)


def note(note_id: str = "a", version: int = 1, body: str = "hello") -> str:
    return f"id: {note_id}\nversion: {version}\nbody: {body}\ntags:\n  - one\n  - two\n"


def problems(text: str) -> list[str]:
    with pytest.raises(NoteError) as caught:
        NOTES.parse(text, "n.yaml")
    return [str(problem) for problem in caught.value.problems]


@pytest.mark.parametrize("text, expected", [
    ("- a\n", "n.yaml:1: a note must be a mapping of keys (id, version, body), not a list"),
    ("", "n.yaml:1: the file is empty"),
    (note().replace("body:", "bdoy:"), "n.yaml:3: unknown key 'bdoy' (did you mean 'body'?)"),
    (note(version=0), "n.yaml:2: version must be more than 0, not 0"),
    (note().replace("  - two", "  - x"), "n.yaml:6: tag 2: tag 'x' is reserved"),
    (note().replace("  - two", "  - [2]"), "n.yaml:6: tag 2: tags must be text, not a list"),
    ("a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)), "alias bomb"),
])
def test_any_kind_gets_file_line_messages(text, expected):
    assert any(expected in problem for problem in problems(text)), problems(text)


def test_a_folder_rejects_bad_files_whole_and_loads_the_others(tmp_path):
    (tmp_path / "a.yaml").write_text(note("a"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(note("b", body="crash"), encoding="utf-8")
    (tmp_path / "c.yml").write_text(note("c").replace("body:", "bdoy:"), encoding="utf-8")
    (tmp_path / ".hidden.yaml").write_text("- not read", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.yaml").write_text("- not read", encoding="utf-8")
    loaded, errors = NOTES.load_dir(tmp_path)
    assert [item.document.id for item in loaded] == ["a"]
    assert all(isinstance(error, NoteError) for error in errors)
    messages = [str(error) for error in errors]
    assert "b.yaml: could not be loaded (RuntimeError('a bug in a validator'));" in messages[0]
    assert messages[0].endswith("please report this as a bug")
    assert "c.yml:3: unknown key 'bdoy'" in messages[1]
    assert loaded[0].source_text == note("a") and len(loaded[0].source_hash) == 64


def test_a_missing_folder_is_one_error(tmp_path):
    loaded, errors = NOTES.load_dir(tmp_path / "nope")
    assert loaded == [] and "nope: cannot read the folder" in str(errors[0])


@pytest.mark.parametrize("kind, kept", [(NOTES, []), (FIRST_WINS, ["a.yaml"])])
def test_a_version_claimed_twice(tmp_path, kind, kept):
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(note("same", 2), encoding="utf-8")
    loaded, errors = kind.load_dir(tmp_path)
    assert [Path(item.path).name for item in loaded] == kept
    assert len(errors) == 2 - len(kept)
    assert "note 'same' version 2 is also defined in" in str(errors[-1])


def test_validate_command_prints_ok_lines_and_problems(tmp_path):
    app = Flask(__name__)
    app.config["NOTES_DIR"] = str(tmp_path)
    group = click.Group("notes")
    group.add_command(validate_command(NOTES, "NOTES_DIR"))
    (tmp_path / "good.yaml").write_text(note("good", 3), encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(note("bad", 0), encoding="utf-8")
    with app.app_context():
        result = CliRunner().invoke(group, ["validate"])
        empty = tmp_path / "empty"
        empty.mkdir()
        nothing = CliRunner().invoke(group, ["validate", str(empty), str(tmp_path / "good.yaml")])
    assert result.exit_code == 1
    assert "good.yaml: ok — good v3" in result.stdout
    assert "bad.yaml:2: version must be more than 0, not 0" in result.stderr
    assert nothing.exit_code == 1
    assert "empty: no note files (*.yaml, *.yml)" in nothing.stderr
    assert "good.yaml: ok" in nothing.stdout
