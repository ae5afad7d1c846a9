"""`flask reports ...`: build PDF reports and batch ZIPs from the command line."""
import sys
import time
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import force_locale

from app.analytics.cli import command_filters, location_by_code, region_by_code
from app.extensions import db
from app.models import Region, Visit
from app.pdf import RenderError
from app.reports import documents, jobs

reports_cli = click.Group("reports", help="Build PDF audit reports.")

period_from = click.option("--from", "start", metavar="DATE", help="First day, e.g. 2024-01-01 (default: 90 days ago).")
period_to = click.option("--to", "end", metavar="DATE", help="Last day, e.g. 2024-03-31 (default: today).")
output = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
                      help="File to write (default: a name made from the report).")
language = click.option("--lang", default=None,
                        help="Report language, e.g. ru (default: BABEL_DEFAULT_LOCALE); checklist texts as written.")
programme = click.option("--checklist", "programme", metavar="ID",
                         help="Programme (checklist id), or 'all' (default: the one with the most visits).")


def _write(built: tuple[str, str], output: Path | None) -> None:
    started = time.perf_counter()
    try:
        document = documents.to_pdf(built)
    except RenderError as exc:
        raise click.ClickException(f"could not render the report: {exc}") from None
    target = output or Path(document.filename)
    target.write_bytes(document.pdf)
    click.echo(f"{target}: {len(document.pdf) / 1024:.0f} KiB in {time.perf_counter() - started:.2f} s")


def _region(code: str | None) -> Region | None:
    return region_by_code(code) if code is not None else None


@reports_cli.command("location")
@click.argument("code")
@period_from
@period_to
@programme
@output
@language
@with_appcontext
def location_command(code: str, start: str | None, end: str | None, programme: str | None, output: Path | None,
                     lang: str | None) -> None:
    """Write the report of location CODE for a period."""
    location = location_by_code(code)
    _write(documents.location_html(command_filters(start, end, programme, location_id=location.id), location,
                                   lang=lang), output)


@reports_cli.command("visit")
@click.argument("visit_id", type=int)
@output
@language
@click.option("--shopper-name", is_flag=True, help="Print the shopper's name beside the code.")
@with_appcontext
def visit_command(visit_id: int, output: Path | None, lang: str | None, shopper_name: bool) -> None:
    """Write the report of visit VISIT_ID."""
    visit = db.session.get(Visit, visit_id)
    if visit is None or not visit.answers:
        raise click.BadParameter(f"no submitted visit with id {visit_id}", param_hint="VISIT_ID")
    _write(documents.visit_html(visit, include_shopper_name=shopper_name, lang=lang), output)


@reports_cli.command("region")
@click.argument("code")
@period_from
@period_to
@programme
@output
@language
@with_appcontext
def region_command(code: str, start: str | None, end: str | None, programme: str | None, output: Path | None,
                   lang: str | None) -> None:
    """Write the summary (league table, heatmap) of region CODE."""
    region = region_by_code(code)
    _write(documents.summary_html(command_filters(start, end, programme, region_id=region.id), region=region,
                                  lang=lang), output)


@reports_cli.command("network")
@period_from
@period_to
@programme
@output
@language
@with_appcontext
def network_command(start: str | None, end: str | None, programme: str | None, output: Path | None,
                    lang: str | None) -> None:
    """Write the summary of the whole network."""
    _write(documents.summary_html(command_filters(start, end, programme), lang=lang), output)


@reports_cli.command("batch")
@period_from
@period_to
@programme
@click.option("--region", "region_code", metavar="CODE", help="Only this region's locations.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="ZIP file to write.")
@click.option("--workers", type=int, default=None, help="Render processes (default: REPORT_BATCH_WORKERS, 2).")
@language
@with_appcontext
def batch_command(start: str | None, end: str | None, programme: str | None, region_code: str | None, output: Path,
                  workers: int | None, lang: str | None) -> None:
    """Write the reports of every location with a scored visit in the period into one ZIP."""
    region = _region(region_code)
    filters = command_filters(start, end, programme, region_id=region.id if region else None)
    locations = jobs.batch_locations(filters)
    if not locations:
        raise click.ClickException("no location has a scored visit in this period")
    started = time.perf_counter()
    with click.progressbar(length=len(locations), label="Building reports", file=sys.stderr) as bar:
        last = [0]

        def progress(done: int, name: str) -> None:
            bar.update(done - last[0])
            last[0] = done

        # Every report of the batch in the language of whoever it is made for (--lang), as a batch asked for
        # from the dashboard comes out in the language of that page.
        with force_locale(documents.report_locale(lang)):
            result = jobs.build_zip(locations, filters, output, progress=progress, workers=workers)
    click.echo(f"{output}: {result.written} reports in {time.perf_counter() - started:.1f} s")
    for name, message in result.failures:
        click.echo(f"failed: {name}: {message}", err=True)
    if result.failures:
        sys.exit(1)
