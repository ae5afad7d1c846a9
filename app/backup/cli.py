"""`flask backup create` and `flask backup restore`."""
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.backup import services

backup_cli = AppGroup("backup", help="Back up the database and photos to one file, and restore one.")


def _describe(contents: services.Contents) -> str:
    return (f"{contents.visits:,} visits, {contents.answers:,} answers, {contents.photos:,} photos, "
            f"{contents.users:,} accounts")


@backup_cli.command("create")
@click.argument("archive", required=False, type=click.Path(dir_okay=False, path_type=Path))
def create_command(archive: Path | None) -> None:
    """Write a backup to ARCHIVE (default: instance/backups/fieldaudit-<UTC time>.tar)."""
    if archive is None:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        archive = Path(current_app.instance_path) / "backups" / f"fieldaudit-{stamp}.tar"
    try:
        contents = services.create(archive)
    except services.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backup written to {archive}: {_describe(contents)} ({archive.stat().st_size / 1e6:.1f} MB)")


@backup_cli.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Overwrite a database that already has data.")
def restore_command(archive: Path, replace: bool) -> None:
    """Restore ARCHIVE into this app's database and photo folder, and check that all of it arrived."""
    try:
        expected, restored = services.restore(archive, replace=replace)
    except services.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {_describe(restored)} from {archive}")
    if any(getattr(restored, name) < getattr(expected, name) for name in ("visits", "answers", "photos", "users")):
        raise click.ClickException(f"The backup said it held {_describe(expected)}: some of it is missing")
    click.echo("Then run `flask --app wsgi db upgrade` if this backup is older than the code.")
