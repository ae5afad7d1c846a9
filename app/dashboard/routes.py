"""Manager pages: comparison dashboard, location and region pages, the visits behind a figure.

Every figure comes from app.analytics for one Filters read from the query string; the pages only
present it, and every link (PDF, export, drill-down) carries the same filter.
"""
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import Select, exists, func, select

from app.access import get_location_or_404, get_region_or_404, roles_required
from app.analytics import figures
from app.analytics.figures import LeagueRow, SectionFigure, TrendPoint
from app.analytics.filters import Filters
from app.analytics.periods import monthly_periods
from app.analytics.summaries import location_summary, network_summary
from app.analytics.surveys import MetricSet
from app.dashboard.services import actions_query, overdue_counts
from app.extensions import db
from app.labels import score_class
from app.models import Answer, ChecklistVersion, Role, Visit, VisitSectionScore
from app.web import int_arg, page_of, request_filters

MANAGERS = (Role.manager, Role.admin)
#: A sort key of the league table; its first item is False for rows without a value (listed last).
SortKey = Callable[[LeagueRow], tuple[object, ...]]
SORT_KEYS: dict[str, SortKey] = {
    "name": lambda r: (r.name.lower(),),
    "region": lambda r: (r.region_name.lower(), r.name.lower()),
    "visits": lambda r: (r.visits,),
    "score": lambda r: (r.score is not None, r.score or 0),
    "change": lambda r: (r.change.difference is not None, r.change.difference or 0),
}
SURVEY_KEYS = ("nps", "csat", "ces")
PAGE_SIZE = 50
LEAGUE_PAGE_SIZE = 50


def sort_rows(rows: list[LeagueRow], key: str, descending: bool, surveys: Mapping[int, MetricSet]) -> list[LeagueRow]:
    """Return the league table sorted by a column; rows without a value always go last."""
    value: SortKey
    if key in SURVEY_KEYS:
        def survey_value(row: LeagueRow) -> tuple[object, ...]:
            metric = surveys.get(row.location_id, {}).get(key)
            return (metric is not None and metric.value is not None, metric.value if metric else 0)
        value = survey_value
    else:
        value = SORT_KEYS.get(key, SORT_KEYS["score"])
    present = [r for r in rows if value(r)[0] is not False]
    missing = [r for r in rows if value(r)[0] is False]
    return sorted(present, key=value, reverse=descending) + missing


def heat_cells(cells: Mapping[str, SectionFigure], sections: Iterable[str], visits_url: str,
               location_id: int) -> Markup:
    """Return one heatmap row's cells as HTML: a page has thousands, too slow as Jinja macro calls."""
    prefix = f"{escape(visits_url)}location={location_id}&amp;section="
    parts = []
    for sid in sections:
        cell = cells.get(sid)
        if cell is None or cell.score is None:
            parts.append('<td class="heat heat-empty">—</td>')
        else:
            parts.append(f'<td class="heat heat-{score_class(cell.score)}"><a href="{prefix}{escape(sid)}" '
                         f'title="{escape(cell.title)} · {cell.visits}">{cell.score:.0f}</a></td>')
    return Markup("".join(parts))  # noqa: S704  (numbers and escaped text)


@roles_required(*MANAGERS)
def index() -> ResponseReturnValue:
    """Show the league table, heatmap, averages and most-failed questions for the filter."""
    filters, form = request_filters()
    summary = network_summary(filters)
    sort = request.args.get("sort", "score")
    descending = request.args.get("dir", "desc" if sort not in ("name", "region") else "asc") == "desc"
    rows = summary.table.rows if sort == "score" and descending else sort_rows(
        summary.table.rows, sort, descending, summary.surveys)
    # Ranks and intervals are of the whole table; a page shows 50 of its rows, so 500 locations stay quick to read.
    page = page_of(len(rows), LEAGUE_PAGE_SIZE)
    return render_template("dashboard/index.html", form=form, filters=filters, period=filters.period, s=summary,
                           rows=rows[page.start:page.end], page=page, sort=sort, descending=descending,
                           overdue=overdue_counts(current_user))


@roles_required(*MANAGERS)
def location(location_id: int) -> ResponseReturnValue:
    """Show a location: average with its interval, ranks, sections against region and network, trend, visits."""
    loc = get_location_or_404(location_id, current_user)
    filters, form = request_filters(location_id=loc.id)
    summary = location_summary(filters, loc)
    actions = db.session.scalars(actions_query(current_user, location_id=loc.id).limit(200)).all()
    return render_template("dashboard/location.html", location=loc, form=form, filters=summary.filters,
                           period=filters.period, s=summary, trend_labels=trend_labels(summary.trend),
                           actions=actions, today=date.today())


def trend_labels(trend: Iterable[TrendPoint]) -> list[str]:
    """Return short month labels (e.g. 'Dec 25') in the page language for a monthly trend."""
    return [format_date(point.period.start, "LLL yy") for point in trend]


@roles_required(*MANAGERS)
def region(region_id: int) -> ResponseReturnValue:
    """Show a region: its locations' table, its sections against the network, its trend."""
    reg = get_region_or_404(region_id, current_user)
    filters, form = request_filters()
    filters = filters.replace(region_id=reg.id)
    summary = network_summary(filters)
    trend = figures.trend(filters, monthly_periods(filters.period.end, 12))
    return render_template(
        "dashboard/region.html", region=reg, form=form, filters=filters, period=filters.period, s=summary,
        sections=figures.section_averages(filters), network_sections=figures.section_averages(filters.network()),
        trend=trend, trend_labels=trend_labels(trend), overdue=overdue_counts(current_user, region_id=reg.id),
    )


def drilldown_query(filters: Filters, *, section_id: str | None = None, question_id: str | None = None,
                    failed: bool = False) -> Select[*tuple[Any, ...]]:
    """Return a select of the counted visits behind a dashboard figure, newest first."""
    stmt = select(Visit).where(*filters.conditions())
    if section_id:
        section_score = (select(VisitSectionScore.score).where(
            VisitSectionScore.visit_id == Visit.id, VisitSectionScore.section_id == section_id)
            .scalar_subquery())
        stmt = stmt.add_columns(section_score.label("section_score")).where(
            exists().where(VisitSectionScore.visit_id == Visit.id, VisitSectionScore.section_id == section_id))
    if question_id:
        answered = [Answer.visit_id == Visit.id, Answer.question_id == question_id, Answer.status == "answered"]
        if failed:
            answered.append(Answer.fraction < 1)
        stmt = stmt.where(exists().where(*answered))
    return stmt.order_by(Visit.visited_at.desc(), Visit.id.desc())


@roles_required(*MANAGERS)
def visits() -> ResponseReturnValue:
    """List the counted visits behind a cell: by location, region, section, question and period."""
    location = None
    location_id = int_arg("location")
    if location_id is not None:
        location = get_location_or_404(location_id, current_user)
    filters, form = request_filters(location_id=location_id)
    section_id = request.args.get("section") or None
    question_id = request.args.get("question") or None
    failed = request.args.get("failed") == "1"
    stmt = drilldown_query(filters, section_id=section_id, question_id=question_id, failed=failed)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = page_of(total, PAGE_SIZE)
    rows = db.session.execute(stmt.limit(page.size).offset(page.start)).all()
    question_text = None
    if question_id:
        versions = db.session.scalars(select(ChecklistVersion).order_by(ChecklistVersion.version.desc())).all()
        question_text = next((t for (c, qid), (t, _s, _c) in figures.question_texts(versions).items()
                              if qid == question_id and (not filters.programme or c == filters.programme)),
                             question_id)
    return render_template(
        "dashboard/visits.html", form=form, filters=filters, period=filters.period, rows=rows, total=total, page=page,
        location=location, section_id=section_id,
        question_id=question_id, question_text=question_text, failed=failed,
        drill={k: request.args[k] for k in ("location", "section", "question", "failed") if request.args.get(k)},
    )
