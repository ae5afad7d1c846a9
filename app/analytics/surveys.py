"""Survey figures per location and for the network, aggregated in SQL.

One GROUP BY query counts, per location, how many customers gave each answer (SUM(CASE ...)
per NPS value 0-10, CSAT 1-5 and CES 1-7); the metrics and their 95% margins of error are then
computed from those counts by the pure functions of app.analytics.survey_metrics, so the arithmetic
lives in one place. Periods are whole days in UTC on SurveyResponse.submitted_at.
Flagged answers (bots, repeats, too fast) are left out unless include_flagged=True.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Label, Row, case, func, select

from app.analytics import survey_metrics as metrics
from app.analytics.periods import Period
from app.extensions import db
from app.models import Location, SurveyResponse

MetricSet = dict[str, "metrics.MetricResult"]


def _count_columns() -> list[Label[int]]:
    """Return the SUM(CASE ...) columns the metrics need, labelled like nps_promoters, ces_4.

    NPS and CSAT only need their groups (promoters/passives/detractors, satisfied/not), so they
    are counted by group; CES needs the spread of its values, so each of 1..7 is counted.
    """
    def count_when(condition: ColumnElement[bool], label: str) -> Label[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).label(label)

    nps, csat, ces = SurveyResponse.nps, SurveyResponse.csat, SurveyResponse.ces
    return [
        func.count(nps).label("nps_n"), count_when(nps >= 9, "nps_promoters"), count_when(nps <= 6, "nps_detractors"),
        func.count(csat).label("csat_n"), count_when(csat >= 4, "csat_satisfied"),
        *(count_when(ces == value, f"ces_{value}") for value in range(1, 8)),
    ]


def _conditions(period: Period, include_flagged: bool) -> list[ColumnElement[bool]]:
    start, end = period.bounds()
    conditions = [SurveyResponse.submitted_at >= start, SurveyResponse.submitted_at < end]
    if not include_flagged:
        conditions.append(SurveyResponse.flagged.is_(False))
    return conditions


def _results(row: Row[*tuple[Any, ...]] | None) -> MetricSet:
    """Return {"nps", "csat", "ces"} MetricResults from a row of counts (None = no answers)."""
    get = (lambda key: int(row._mapping[key] or 0)) if row is not None else (lambda key: 0)
    promoters, detractors = get("nps_promoters"), get("nps_detractors")
    satisfied = get("csat_satisfied")
    # Any value of a group stands for the group: NPS and CSAT depend only on the group counts.
    return {
        "nps": metrics.from_counts("nps", {10: promoters, 7: get("nps_n") - promoters - detractors, 0: detractors}),
        "csat": metrics.from_counts("csat", {5: satisfied, 1: get("csat_n") - satisfied}),
        "ces": metrics.from_counts("ces", {value: get(f"ces_{value}") for value in range(1, 8)}),
    }


def empty_metrics() -> MetricSet:
    """Return the metrics of a location without answers (value None, n 0)."""
    return _results(None)


def survey_metrics(period: Period, *, location_ids: Iterable[int] | None = None,
                   include_flagged: bool = False) -> dict[int, MetricSet]:
    """Return {location_id: {"nps", "csat", "ces": MetricResult}} for the period.

    With `location_ids`, every one of them is in the result (empty metrics when no answers);
    without, only the locations that have answers in the period.
    """
    wanted = None if location_ids is None else sorted(set(location_ids))
    if wanted is None:
        return _per_location(period, include_flagged, [])
    if not wanted:
        return {}
    return _every_one(wanted, _per_location(period, include_flagged, [SurveyResponse.location_id.in_(wanted)]))


def survey_metrics_in(period: Period, location_ids: Iterable[int], scope: Iterable[int] | None, *,
                      include_flagged: bool = False) -> dict[int, MetricSet]:
    """Return what survey_metrics(period, location_ids=location_ids) does, for locations that all lie in
    the regions of `scope` (None = the network), asked by region: the hundreds of ids of a league table
    in an IN list cost more than the query itself."""
    conditions = [] if scope is None else [SurveyResponse.location_id.in_(
        select(Location.id).where(Location.region_id.in_(sorted(scope))))]
    return _every_one(sorted(set(location_ids)), _per_location(period, include_flagged, conditions))


def _per_location(period: Period, include_flagged: bool,
                  conditions: Sequence[ColumnElement[bool]]) -> dict[int, MetricSet]:
    stmt = (select(SurveyResponse.location_id, *_count_columns())
            .where(*_conditions(period, include_flagged), *conditions).group_by(SurveyResponse.location_id))
    return {row.location_id: _results(row) for row in db.session.execute(stmt)}


def _every_one(location_ids: list[int], found: dict[int, MetricSet]) -> dict[int, MetricSet]:
    """Return the metrics of exactly these locations, empty ones for those without answers."""
    empty = empty_metrics()
    return {location_id: found.get(location_id, empty) for location_id in location_ids}


def network_survey_metrics(period: Period, scope: Iterable[int] | None = None, *,
                           include_flagged: bool = False) -> MetricSet:
    """Return the metrics over every answer in the period, limited to the regions in `scope` (None = all)."""
    stmt = select(*_count_columns()).where(*_conditions(period, include_flagged))
    if scope is not None:
        stmt = stmt.where(SurveyResponse.location_id.in_(
            select(Location.id).where(Location.region_id.in_(sorted(scope)))
        ))
    return _results(db.session.execute(stmt).one())


def flagged_counts(period: Period, *, location_ids: Iterable[int]) -> dict[int, int]:
    """Return {location_id: number of flagged answers in the period} for locations that have any."""
    start, end = period.bounds()
    ids = sorted(set(location_ids))
    if not ids:
        return {}
    stmt = (
        select(SurveyResponse.location_id, func.count())
        .where(SurveyResponse.flagged.is_(True), SurveyResponse.submitted_at >= start,
               SurveyResponse.submitted_at < end, SurveyResponse.location_id.in_(ids))
        .group_by(SurveyResponse.location_id)
    )
    return dict(db.session.execute(stmt).all())
