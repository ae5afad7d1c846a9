"""The data version of figures: every region's `figures_version`, changed in the same transaction as
anything its figures are made of (app.analytics.cache keys on it).

The rollups bump the regions whose rows they rewrite, on the region rows they lock for that anyway
(app.analytics.rollups), so no new lock and no single hot row that every submission would update.
Listeners here add what figures show besides sums: a location's name, state or region, a region's
name, and the checklist versions (titles, sections, grades; a change there bumps every region).

A bump sets the version to the larger of version + 1 and the clock in microseconds, so a database
restored from a backup, or another database sharing the same Redis, does not reach a version (and
a cache key) that already meant other data.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import case, event, select, update
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import ChecklistVersion, Location, Region
from app.models.locations import new_figures_version

#: Regions whose figures changed in this transaction for another reason than their rollups.
_CHANGED_REGIONS = "figures_changed_regions"
#: Every region's figures changed (a checklist version was added, edited or removed).
_ALL_REGIONS = "figures_changed_all"


def bump(session: Session, region_ids: Iterable[int]) -> None:
    """Give these regions a new data version (in the current transaction; the caller holds their row locks)."""
    ids = sorted(set(region_ids))
    if not ids:
        return
    now = new_figures_version()
    version = Region.figures_version
    session.execute(update(Region).where(Region.id.in_(ids))
                    .values(figures_version=case((version >= now, version + 1), else_=now))
                    .execution_options(synchronize_session=False))


def bump_all(session: Session) -> None:
    """Give every region a new data version, locking their rows in id order as the rollups do."""
    ids = list(session.scalars(select(Region.id).order_by(Region.id).with_for_update()))
    bump(session, ids)


def _after_flush(session: Session, context: Any) -> None:
    # After the flush the foreign keys are filled in; new, dirty and deleted still list what it wrote.
    changed: set[int] = session.info.setdefault(_CHANGED_REGIONS, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if obj in session.dirty and not session.is_modified(obj, include_collections=False):
            continue  # only a collection of it changed (a new visit of a location): nothing it shows
        if isinstance(obj, ChecklistVersion):
            session.info[_ALL_REGIONS] = True
        elif isinstance(obj, Location):
            # Its old region, when it moved, is recomputed whole by the rollups, which bumps it.
            if obj.region_id is not None:
                changed.add(obj.region_id)
        elif isinstance(obj, Region) and obj not in session.new and obj.id is not None:
            changed.add(obj.id)


def bump_changed(session: Session) -> None:
    """Bump the regions whose figures this transaction changed other than through their rollups
    (called by the rollups' before-commit hook, after their own locks, so locks keep one order)."""
    regions = session.info.pop(_CHANGED_REGIONS, None)
    if session.info.pop(_ALL_REGIONS, False):
        bump_all(session)
    elif regions:
        ids = sorted(regions)
        session.execute(select(Region.id).where(Region.id.in_(ids)).order_by(Region.id).with_for_update())
        bump(session, ids)


def install() -> None:
    """Listen to every session of the app (called once, by app.analytics.rollups.install)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


def data_version() -> list[list[int]]:
    """Return [region id, figures version] of every region: one small query."""
    return [[rid, version] for rid, version in db.session.execute(
        select(Region.id, Region.figures_version).order_by(Region.id))]
