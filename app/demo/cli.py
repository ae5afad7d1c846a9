"""`flask demo`: load believable demo data (idempotent), or wipe everything and reload it."""
import time
from datetime import date, datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from app.demo import content
from app.demo.generator import DemoError, count_visits_by_status, is_loaded, load, logins, wipe
from app.extensions import db
from app.storage import storage
from app.visits import risk


def print_logins() -> None:
    """Print the demo accounts and their shared password."""
    click.echo("")
    click.secho(f"Demo logins (password for every account: {content.PASSWORD})", bold=True)
    for role, email, who in logins():
        click.echo(f"  {role:16} {email:32} {who}")
    click.echo("")


@click.command("demo")
@click.option("--reset", is_flag=True, help="Delete ALL data (every table) and load the demo again.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before --reset deletes everything.")
@click.option("--seed", default=20240601, show_default=True, help="Random seed: the same seed gives the same data.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Pretend today is this day (YYYY-MM-DD); visits cover the six months before it.")
@with_appcontext
def demo_cli(reset: bool, yes: bool, seed: int, today: datetime | None) -> None:
    """Load demo regions, locations, accounts, checklists, six months of visits and surveys."""
    if current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException("refusing to load demo data in production: its accounts share a known password")
    started = time.perf_counter()
    store = storage()
    if reset:
        url = db.engine.url.render_as_string(hide_password=True)
        if not yes:
            click.confirm(f"This deletes ALL data in {url} (every account, visit and survey). Continue?",
                          abort=True)
        wipe(store)
        db.session.commit()
        click.echo("All data deleted.")
    elif is_loaded():
        click.echo("demo data already loaded (use --reset to wipe and reload it).")
        print_logins()
        return
    try:
        summary = load(today=today.date() if today else date.today(), seed=seed,
                       checklists_dir=current_app.config["CHECKLISTS_DIR"], store=store)
    except DemoError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    risk.refresh_related()  # the earlier visits a reused photo or copied comment points to
    for problem in summary.problems:
        click.secho(f"checklist skipped: {problem}", fg="yellow", err=True)
    statuses = count_visits_by_status()
    click.echo(
        f"Loaded {summary.regions} regions, {summary.locations} locations, {summary.users} accounts, "
        f"{summary.checklists} checklists, {summary.visits} filled-in visits "
        f"({', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))}), {summary.actions} corrective actions, "
        f"{summary.surveys} survey answers, {summary.photos} photos in {time.perf_counter() - started:.1f} s."
    )
    print_logins()
