"""`flask figures ...`: the figures of a location, a region or the network, as the pages show them.

    flask --app wsgi figures location CODE --checklist ID --from DATE --to DATE [--calibrated] --json
    flask --app wsgi figures region CODE ...
    flask --app wsgi figures network ...
    flask --app wsgi figures rebuild-rollups

The JSON is the same as /api/v1/figures/... returns (app.analytics.summaries.*_json).
"""
from __future__ import annotations

import json
from datetime import date
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.analytics import rollups
from app.analytics.filters import FilterError, Filters, filters_for, parse_date
from app.analytics.periods import PeriodError
from app.analytics.summaries import location_json, location_summary, network_json, network_summary
from app.extensions import db
from app.models import Location, Region

figures_cli = click.Group("figures", help="Print the figures managers see, with visits, intervals and ranks.")


def command_filters(start: str | None, end: str | None, programme: str | None, *, region_id: int | None = None,
                    location_id: int | None = None) -> Filters:
    """Return the Filters of a command's --from, --to and --checklist; :raise click.BadParameter: when invalid."""
    try:
        first, last = parse_date(start), parse_date(end)
        return filters_for(first, last, programme=programme, region_id=region_id, location_id=location_id,
                           today=date.today())
    except (FilterError, PeriodError) as exc:
        raise click.BadParameter(str(exc), param_hint="--from/--to") from None


def location_by_code(code: str) -> Location:
    """Return the location with this code; :raise click.BadParameter: when there is none."""
    location = db.session.scalar(select(Location).where(Location.code == code))
    if location is None:
        raise click.BadParameter(f"no location with code {code!r}", param_hint="CODE")
    return location


def region_by_code(code: str) -> Region:
    """Return the region with this code; :raise click.BadParameter: when there is none."""
    region = db.session.scalar(select(Region).where(Region.code == code))
    if region is None:
        raise click.BadParameter(f"no region with code {code!r}", param_hint="CODE")
    return region


def _options(command: Any) -> Any:
    for option in reversed((
        click.option("--from", "start", metavar="DATE", help="First day, e.g. 2024-01-01 (default: 90 days ago)."),
        click.option("--to", "end", metavar="DATE", help="Last day, e.g. 2024-03-31 (default: today)."),
        click.option("--checklist", "programme", metavar="ID",
                     help="Programme (checklist id), or 'all' (default: the one with the most visits)."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text."),
    )):
        command = option(command)
    return command


def _score(figure: dict[str, Any]) -> str:
    if figure["score"] is None:
        return "—"
    interval = f" [{figure['low']:.1f}–{figure['high']:.1f}]" if figure.get("low") is not None else ""
    return f"{figure['score']:.1f}{interval} n={figure['visits']}"


def _print(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    period = data["period"]
    click.echo(f"{period['start']} – {period['end']} · programme: {data['programme'] or 'all'}")
    click.echo(f"average: {_score(data['average'])} · change {data['average']['change']}"
               f"{' (significant)' if data['average']['change_significant'] else ''}")
    for row in data.get("locations", []):
        rank = row["rank"]["text"] or "not ranked"
        click.echo(f"  {rank:>7}  {row['code']:<10} {row['name'][:40]:<40} {_score(row)}")
    calibrated = data.get("calibrated_average")
    if calibrated:
        click.echo(f"calibrated for shoppers: {_score(calibrated)}" if calibrated["score"] is not None
                   else f"calibrated for shoppers: — ({calibrated['reason'].replace('_', ' ')})")
    for key in ("rank_in_region", "rank_in_network"):
        if key in data:
            click.echo(f"{key.replace('_', ' ')}: {data[key]['text'] or 'not ranked'} of {data[key]['of']}")
    for section in data.get("sections", []):
        if "visits" in section:
            click.echo(f"  {section['title'][:40]:<40} {_score(section)}")


@figures_cli.command("location")
@click.argument("code")
@_options
@click.option("--calibrated", is_flag=True, help="Also the average corrected for the shoppers' leniency.")
@with_appcontext
def location_command(code: str, start: str | None, end: str | None, programme: str | None, as_json: bool,
                     calibrated: bool) -> None:
    """Print the figures of location CODE."""
    location = location_by_code(code)
    filters = command_filters(start, end, programme, location_id=location.id).replace(calibrated=calibrated)
    _print(location_json(location_summary(filters, location)), as_json)


@figures_cli.command("region")
@click.argument("code")
@_options
@with_appcontext
def region_command(code: str, start: str | None, end: str | None, programme: str | None, as_json: bool) -> None:
    """Print the league table and averages of region CODE."""
    region = region_by_code(code)
    _print(network_json(network_summary(command_filters(start, end, programme, region_id=region.id))), as_json)


@figures_cli.command("network")
@_options
@with_appcontext
def network_command(start: str | None, end: str | None, programme: str | None, as_json: bool) -> None:
    """Print the league table and averages of the whole network."""
    _print(network_json(network_summary(command_filters(start, end, programme))), as_json)


@figures_cli.command("rebuild-rollups")
@with_appcontext
def rebuild_rollups_command() -> None:
    """Recompute the rollups every figure reads from the stored visits (after a bulk import or a restore)."""
    scores, questions = rollups.rebuild()
    db.session.commit()
    click.echo(f"rollups rebuilt: {scores} score rows, {questions} question rows")
