"""What a page, a PDF, a spreadsheet and the API show of a location or a set of locations: one object each.

`location_summary` and `network_summary` gather the figures of app.analytics.figures for one
Filters; the dashboard, the location and region pages, the PDF reports, the exports, the CLI and
/api/v1/figures all present these objects and nothing else, so they cannot disagree. `*_json`
gives the figures with n, interval and rank range as plain data (the CLI's --json and the API).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.analytics import calibration as c
from app.analytics import figures as f
from app.analytics import stats
from app.analytics.cache import cached
from app.analytics.filters import Filters, Programme, programmes
from app.analytics.periods import Period, monthly_periods
from app.analytics.surveys import MetricSet, network_survey_metrics, survey_metrics, survey_metrics_in
from app.models import Location

MONTHS_OF_TREND = 12


@dataclass(frozen=True)
class SectionComparison:
    """A section's average at a location beside its region's and the network's (same programme)."""

    section_id: str
    title: str
    location: f.SectionFigure
    region: f.SectionFigure | None
    network: f.SectionFigure | None


@dataclass
class LocationSummary:
    """Everything the location page and the location report show for a filter."""

    location: Location
    filters: Filters
    programmes: list[Programme]
    average: f.Comparison
    region_average: f.Figure
    network_average: f.Figure
    ranks: f.Ranks
    sections: list[SectionComparison]
    trend: list[f.TrendPoint]
    region_trend: list[f.TrendPoint]
    visits: list[f.VisitScore]
    recurring: list[f.QuestionFailure]
    surveys: MetricSet
    #: With `calibrated=1`: the programme's calibration (None: not asked, or all programmes).
    calibration: c.Calibration | None = None

    @property
    def programme_title(self) -> str | None:
        """Return the title of the filter's programme (None for all programmes)."""
        return next((p.title for p in self.programmes if p.checklist_id == self.filters.programme), None)

    @property
    def calibrated(self) -> c.LocationLevel | None:
        """Return the location's raw and calibrated average (None: not asked, all programmes, or no visits)."""
        return self.calibration.location(self.location.id) if self.calibration else None


@dataclass(frozen=True)
class _LocationFigures:
    """The part of a LocationSummary made of rollups and checklists: what the figures cache keeps."""

    average: f.Comparison
    region_average: f.Figure
    network_average: f.Figure
    ranks: f.Ranks
    sections: list[SectionComparison]
    trend: list[f.TrendPoint]
    region_trend: list[f.TrendPoint]
    recurring: list[f.QuestionFailure]


def _location_figures(mine: Filters, location: Location) -> _LocationFigures:
    benchmark = mine.network().replace(location_id=None)
    in_region = benchmark.replace(region_id=location.region_id)
    own = f.section_averages(mine)
    regional, network = f.section_benchmarks(benchmark, location.region_id)
    months = monthly_periods(mine.period.end, MONTHS_OF_TREND)
    return _LocationFigures(
        average=f.average_with_change(mine), region_average=f.average(in_region),
        network_average=f.average(benchmark), ranks=f.location_ranks(mine, location),
        sections=[SectionComparison(sid, s.title, s, regional.get(sid), network.get(sid)) for sid, s in own.items()],
        trend=f.trend(mine, months), region_trend=f.trend(in_region, months), recurring=f.recurring_failures(mine),
    )


def location_summary(filters: Filters, location: Location) -> LocationSummary:
    """Return the location's figures under `filters` (its own visits; region and network as benchmarks).

    The audit figures come from the figures cache (computed once per data version; the location's
    region is part of that version); its list of visits, its survey metrics and its calibration are
    read every time (shoppers' codes and customers' answers change without touching a rollup).
    """
    mine = filters.replace(location_id=location.id, region_id=None)
    figures = cached("location", mine, lambda: _location_figures(mine, location))
    return LocationSummary(
        location=location, filters=mine, programmes=programmes(mine), average=figures.average,
        region_average=figures.region_average, network_average=figures.network_average, ranks=figures.ranks,
        sections=figures.sections, trend=figures.trend, region_trend=figures.region_trend,
        visits=f.visit_scores(mine), recurring=figures.recurring,
        surveys=survey_metrics(filters.period, location_ids=[location.id])[location.id],
        calibration=c.calibration(mine) if mine.calibrated else None,
    )


@dataclass
class NetworkSummary:
    """Everything the dashboard, the region page and the summary reports show for a filter."""

    filters: Filters
    programmes: list[Programme]
    average: f.Comparison
    #: The whole network's average for the same programme and period: the benchmark a region compares to.
    network_average: f.Figure
    regions: list[f.RegionFigure]
    table: f.LeagueTable
    heatmap: f.Heatmap
    failing: list[f.QuestionFailure]
    surveys: dict[int, MetricSet]
    network_surveys: MetricSet

    @property
    def programme_title(self) -> str | None:
        """Return the title of the filter's programme (None for all programmes)."""
        return next((p.title for p in self.programmes if p.checklist_id == self.filters.programme), None)


@dataclass(frozen=True)
class _NetworkFigures:
    """The part of a NetworkSummary made of rollups and checklists: what the figures cache keeps."""

    average: f.Comparison
    network_average: f.Figure
    regions: list[f.RegionFigure]
    table: f.LeagueTable
    heatmap: f.Heatmap
    failing: list[f.QuestionFailure]


def _network_figures(filters: Filters, trend_points: int, include_empty: bool) -> _NetworkFigures:
    average = f.average_with_change(filters)
    network = filters.network()
    table = f.league_table(filters, trend_points=trend_points, include_empty=include_empty)
    return _NetworkFigures(
        average=average, network_average=average.current if network == filters else f.average(network),
        regions=f.region_averages_of(table), table=table, heatmap=f.heatmap(filters),
        failing=f.failing_questions(filters),
    )


def network_summary(filters: Filters, *, trend_points: int = 6, include_empty: bool = False) -> NetworkSummary:
    """Return the league table, heatmap, averages and failures of the filter's locations.

    The audit figures come from the figures cache (computed once per data version); the survey
    metrics, which customers' answers change at any time, are read every time.
    """
    figures = cached("network", filters, lambda: _network_figures(filters, trend_points, include_empty),
                     extra=[trend_points, include_empty])
    location_ids = [row.location_id for row in figures.table.rows]
    scope = filters.scope if filters.region_id is None else frozenset({filters.region_id})
    return NetworkSummary(
        filters=filters, programmes=programmes(filters), average=figures.average,
        network_average=figures.network_average, regions=figures.regions, table=figures.table,
        heatmap=figures.heatmap, failing=figures.failing,
        surveys=survey_metrics_in(filters.period, location_ids, scope) if location_ids else {},
        network_surveys=network_survey_metrics(filters.period, scope),
    )


@dataclass
class ShopperSummary:
    """What the Shoppers page shows: each shopper's bias against the average shopper, for one programme."""

    filters: Filters
    programmes: list[Programme]
    #: None for all programmes: calibration compares shoppers within one programme.
    calibration: c.Calibration | None
    rows: list[c.ShopperRow]

    @property
    def programme_title(self) -> str | None:
        """Return the title of the filter's programme (None for all programmes)."""
        return next((p.title for p in self.programmes if p.checklist_id == self.filters.programme), None)


def shopper_summary(filters: Filters) -> ShopperSummary:
    """Return the biases of the shoppers who visited the filter's locations (fitted on the whole programme)."""
    return ShopperSummary(filters, programmes(filters), c.calibration(filters), c.shopper_rows(filters))


# -- plain data: the CLI's --json and /api/v1/figures -------------------------------------------------


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def estimate_json(estimate: stats.Estimate) -> dict[str, Any]:
    """Return an average as data: score, visits and the 95 % interval (null below two visits)."""
    return {"score": _round(estimate.mean), "visits": estimate.n, "low": _round(estimate.low),
            "high": _round(estimate.high)}


def figure_json(figure: f.Figure) -> dict[str, Any]:
    """Return a graded average as data."""
    return {**estimate_json(figure.estimate), "grade": figure.grade}


def comparison_json(comparison: f.Comparison) -> dict[str, Any]:
    """Return a figure with the previous period's and the change, marked significant or not."""
    change = comparison.change
    return {**figure_json(comparison.current), "previous": figure_json(comparison.previous),
            "change": _round(change.difference), "change_p_value": None if change.p_value is None
            else round(change.p_value, 4), "change_significant": change.significant}


def rank_json(rank: tuple[int, int] | None, of: int) -> dict[str, Any]:
    """Return a rank range as data: best, worst, as written ("3–6"), and among how many ranked locations."""
    if rank is None:
        return {"best": None, "worst": None, "text": None, "of": of}
    return {"best": rank[0], "worst": rank[1], "text": stats.format_rank(*rank), "of": of}


def _period_json(period: Period) -> dict[str, str]:
    return {"start": period.start.isoformat(), "end": period.end.isoformat()}


def _surveys_json(metrics: MetricSet) -> dict[str, Any]:
    return {key: {"value": _round(m.value), "answers": m.n, "margin": _round(m.margin_of_error)}
            for key, m in metrics.items()}


def location_json(summary: LocationSummary) -> dict[str, Any]:
    """Return a location's figures as data."""
    ranks = summary.ranks
    return {
        "location": {"code": summary.location.code, "name": summary.location.name,
                     "region": summary.location.region.name},
        "period": _period_json(summary.filters.period), "programme": summary.filters.programme,
        "programme_title": summary.programme_title,
        "average": comparison_json(summary.average),
        "region_average": figure_json(summary.region_average),
        "network_average": figure_json(summary.network_average),
        "rank_in_region": rank_json(ranks.region, ranks.region_of),
        "rank_in_network": rank_json(ranks.network, ranks.network_of), "min_visits_to_rank": ranks.min_visits,
        "sections": [{"id": s.section_id, "title": s.title, **estimate_json(s.location.estimate),
                      "region": estimate_json(s.region.estimate) if s.region else None,
                      "network": estimate_json(s.network.estimate) if s.network else None}
                     for s in summary.sections],
        "recurring_failures": [{"question_id": q.question_id, "text": q.text, "failed": q.failures,
                                "asked": q.asked} for q in summary.recurring],
        "surveys": _surveys_json(summary.surveys),
        **({"calibrated_average": calibrated_json(summary)} if summary.filters.calibrated else {}),
    }


def calibrated_json(summary: LocationSummary) -> dict[str, Any]:
    """Return a location's calibrated average as data, with `reason` when there is none.

    reason: "all_programmes" (calibration is per programme), "no_visits", "not_enough_overlap". group: the
    group of shoppers linked by shared locations whose average shopper it is against, of `groups`.
    """
    level = summary.calibrated
    reason = None
    if not summary.filters.programme:
        reason = "all_programmes"
    elif level is None:
        reason = "no_visits"
    elif not level.identified:
        reason = "not_enough_overlap"
    return {"score": _round(level.calibrated) if level else None, "low": _round(level.low) if level else None,
            "high": _round(level.high) if level else None, "visits": level.visits if level else 0,
            "raw_score": _round(level.raw) if level else None,
            "correction": _round(level.correction) if level else None, "reason": reason,
            "group": level.group if level else None,
            "groups": summary.calibration.groups if summary.calibration else 0}


def league_row_json(row: f.LeagueRow, ranked: int) -> dict[str, Any]:
    """Return one league-table row as data (`ranked`: how many locations of the table are ranked)."""
    return {"code": row.code, "name": row.name, "region": row.region_name, **figure_json(row.current),
            "rank": rank_json(row.rank, ranked), "previous": figure_json(row.previous),
            "change": _round(row.change.difference), "change_significant": row.change.significant}


def network_json(summary: NetworkSummary) -> dict[str, Any]:
    """Return a region's or the network's figures as data."""
    table = summary.table
    return {
        "period": _period_json(summary.filters.period), "programme": summary.filters.programme,
        "programme_title": summary.programme_title,
        "programmes": [{"id": p.checklist_id, "title": p.title, "visits": p.visits} for p in summary.programmes],
        "average": comparison_json(summary.average), "network_average": figure_json(summary.network_average),
        "regions": [{"name": r.name, **figure_json(r.figure)} for r in summary.regions],
        "min_visits_to_rank": table.min_visits, "ranked_locations": len(table.ranked),
        "locations": [league_row_json(row, len(table.ranked)) for row in table.rows],
        "sections": [{"id": sid, "title": title} for sid, title in summary.heatmap.sections.items()],
        "failing_questions": [{"programme": q.checklist_id, "question_id": q.question_id, "text": q.text,
                               "failed": q.failures, "asked": q.asked} for q in summary.failing],
    }
