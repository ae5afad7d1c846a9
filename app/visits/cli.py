"""`flask risk recompute`: the risk of visits already stored (after the migration, or after tuning the settings).

    flask --app wsgi risk recompute            every visit ever submitted
    flask --app wsgi risk recompute --photos   first hash the ready photos stored before photos were hashed
"""
import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.extensions import db
from app.models import Photo, Visit
from app.storage import storage
from app.visits import risk
from app.visits.photos import hash_stored_photo

risk_cli = click.Group("risk", help="The risk score of visits.")
BATCH = 200


@risk_cli.command("recompute")
@click.option("--photos", is_flag=True, help="Hash ready photos that have no perceptual hash yet first.")
@with_appcontext
def recompute(photos: bool) -> None:
    """Recompute and store the risk of every submitted visit, committing every 200 visits."""
    settings = risk.RiskSettings.current()
    if photos:
        hashed = missing = 0
        ids = list(db.session.scalars(select(Photo.id).where(Photo.status == "ready", Photo.phash.is_(None))))
        for start in range(0, len(ids), BATCH):
            for photo in db.session.scalars(select(Photo).where(Photo.id.in_(ids[start:start + BATCH]))):
                if hash_stored_photo(photo, storage()):
                    hashed += 1
                else:
                    missing += 1
            db.session.commit()
        click.echo(f"photos hashed: {hashed}, files missing: {missing}")
    ids = list(db.session.scalars(select(Visit.id).where(Visit.submitted_at.is_not(None)).order_by(Visit.id)))
    levels: dict[str, int] = {}
    for start in range(0, len(ids), BATCH):
        for visit in db.session.scalars(select(Visit).where(Visit.id.in_(ids[start:start + BATCH]))):
            result = risk.refresh(visit, settings, related=False)
            name = risk.level(result.score if result else None, settings) or "none"
            levels[name] = levels.get(name, 0) + 1
        db.session.commit()
    click.echo(f"visits: {len(ids)} (" + ", ".join(f"{k} {levels.get(k, 0)}" for k in ("high", "medium", "low", "none"))
               + ")")
