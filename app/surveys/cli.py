"""`flask surveys validate`: check survey YAML files without a server, like `flask checklists validate`."""
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.checklists.loader import display_path
from app.surveys.loader import SurveyError, load_survey_dir, load_survey_file

surveys_cli = AppGroup("surveys", help="Validate the customer-survey YAML files.")


@surveys_cli.command("validate")
@click.argument("paths", nargs=-1, type=click.Path())
def validate_command(paths: tuple[str, ...]) -> None:
    """Check survey files or folders (default: SURVEYS_DIR); exit 1 on any problem."""
    failed = False
    for target in paths or (current_app.config["SURVEYS_DIR"],):
        if Path(target).is_dir():
            loaded, errors = load_survey_dir(target)
            if not loaded and not errors:
                click.echo(f"{display_path(target)}: no survey files (*.yaml, *.yml)", err=True)
                failed = True
        else:
            try:
                loaded, errors = [load_survey_file(target)], []
            except SurveyError as exc:
                loaded, errors = [], [exc]
        for item in loaded:
            survey = item.survey
            metrics = ", ".join(name.upper() for name, _metric in survey.metrics.items())
            click.echo(f"{item.path}: ok — {survey.id} v{survey.version}, {metrics},"
                       f" {len(survey.questions)} extra question(s), languages {', '.join(survey.languages)}")
        for error in errors:
            for problem in error.problems:
                click.echo(str(problem), err=True)
        failed = failed or bool(errors)
    if failed:
        raise SystemExit(1)
