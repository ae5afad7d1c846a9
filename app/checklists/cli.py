"""`flask checklists validate|score|sync`: check, try and load checklist files without a server."""
import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.checklists.loader import (
    ChecklistError,
    LoadedChecklist,
    display_path,
    load_checklist_dir,
    load_checklist_file,
)

checklists_cli = AppGroup("checklists", help="Validate, score and load the checklist YAML files.")


def _summary(item: LoadedChecklist) -> str:
    checklist = item.checklist
    sections = len(checklist.sections)
    return (
        f"{item.path}: ok — {checklist.id} v{checklist.version}, {sections} section{'s' * (sections != 1)},"
        f" {checklist.question_count} questions"
    )


def _report(errors: list[ChecklistError]) -> None:
    for error in errors:
        for problem in error.problems:
            click.echo(str(problem), err=True)


@checklists_cli.command("validate")
@click.argument("paths", nargs=-1, type=click.Path())
def validate_command(paths: tuple[str, ...]) -> None:
    """Check checklist files or folders (default: the checklists folder); exit 1 on any problem."""
    targets = paths or (current_app.config["CHECKLISTS_DIR"],)
    failed = False
    for target in targets:
        if Path(target).is_dir():
            loaded, errors = load_checklist_dir(target)
            if not loaded and not errors:
                click.echo(f"{display_path(target)}: no checklist files (*.yaml, *.yml)", err=True)
                failed = True
        else:
            try:
                loaded, errors = [load_checklist_file(target)], []
            except ChecklistError as exc:
                loaded, errors = [], [exc]
        for item in loaded:
            click.echo(_summary(item))
        _report(errors)
        failed = failed or bool(errors)
    if failed:
        raise SystemExit(1)


@checklists_cli.command("score")
@click.argument("checklist_file", type=click.Path())
@click.argument("answers_file", type=click.Path())
def score_command(checklist_file: str, answers_file: str) -> None:
    """Score ANSWERS_FILE (JSON: question id -> answer) against CHECKLIST_FILE; print the result."""
    from app.scoring import AnswersInvalid, score_visit

    try:
        checklist = load_checklist_file(checklist_file).checklist
    except ChecklistError as exc:
        _report([exc])
        raise SystemExit(1) from None
    try:
        answers = json.loads(Path(answers_file).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        click.echo(f"{answers_file}: cannot read the file: {exc.strerror or exc}", err=True)
        raise SystemExit(1) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f":{exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        click.echo(f"{answers_file}{where}: not valid JSON: {exc}", err=True)
        raise SystemExit(1) from None
    try:
        result = score_visit(checklist, answers)
    except AnswersInvalid as exc:
        for problem in exc.problems:
            click.echo(f"{answers_file}: {problem}", err=True)
        raise SystemExit(1) from None
    click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))


@checklists_cli.command("sync")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def sync_command(directory: str | None) -> None:
    """Store new checklist versions in the database; exit 1 if a file was rejected or refused."""
    from app.checklists.sync import sync_checklists
    from app.extensions import db

    report = sync_checklists(directory or current_app.config["CHECKLISTS_DIR"])
    db.session.commit()
    for line in report.done_lines():
        click.echo(line)
    for line in report.problem_lines():
        click.echo(line, err=True)
    click.echo(
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged,"
        f" {len(report.refused)} refused, {len(report.errors)} rejected"
    )
    if not report.ok:
        raise SystemExit(1)
