"""The `validate` command every kind of document gets: check files or folders without a server."""
from collections.abc import Sequence
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.yamldoc.loader import DocumentError, DocumentKind, Error, Loaded, Model, display_path


def echo_problems(errors: Sequence[DocumentError]) -> None:
    """Print every problem of `errors` on stderr, one `file:line: message` per line."""
    for error in errors:
        for problem in error.problems:
            click.echo(str(problem), err=True)


def validate_command(kind: DocumentKind[Model, Loaded, Error], folder_setting: str) -> click.Command:
    """Return `validate [PATH...]` for `kind`; without paths it checks the folder in config `folder_setting`."""

    @click.command("validate", help=f"Check {kind.noun} files or folders (default: {folder_setting});"
                                    " exit 1 on any problem.")
    @click.argument("paths", nargs=-1, type=click.Path())
    @with_appcontext
    def validate(paths: tuple[str, ...]) -> None:
        failed = False
        for target in paths or (current_app.config[folder_setting],):
            if Path(target).is_dir():
                loaded, errors = kind.load_dir(target)
                if not loaded and not errors:
                    click.echo(f"{display_path(target)}: no {kind.noun} files (*.yaml, *.yml)", err=True)
                    failed = True
            else:
                try:
                    loaded, errors = [kind.load_file(target)], []
                except kind.error as exc:
                    loaded, errors = [], [exc]
            for item in loaded:
                click.echo(f"{item.path}: ok — {item.summary()}")
            echo_problems(errors)
            failed = failed or bool(errors)
        if failed:
            raise SystemExit(1)

    return validate
