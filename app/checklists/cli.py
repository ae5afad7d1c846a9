"""`flask checklists validate|score|sync`: check, try and load checklist files without a server."""
import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.checklists.loader import CHECKLISTS, ChecklistError, load_checklist_file
from app.checklists.sync import sync_checklists
from app.extensions import db
from app.scoring import AnswersInvalid, score_visit
from app.yamldoc.cli import echo_problems, validate_command

checklists_cli = AppGroup("checklists", help="Validate, score and load the checklist YAML files.")
checklists_cli.add_command(validate_command(CHECKLISTS, "CHECKLISTS_DIR"))


@checklists_cli.command("score")
@click.argument("checklist_file", type=click.Path())
@click.argument("answers_file", type=click.Path())
def score_command(checklist_file: str, answers_file: str) -> None:
    """Score ANSWERS_FILE (JSON: question id -> answer) against CHECKLIST_FILE; print the result."""
    try:
        checklist = load_checklist_file(checklist_file).checklist
    except ChecklistError as exc:
        echo_problems([exc])
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
