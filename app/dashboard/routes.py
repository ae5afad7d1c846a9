"""Manager pages: comparison dashboard, location and region pages, the visits behind a figure."""
from datetime import date

from flask import render_template, request
from flask_babel import format_date
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import exists, func, select

from app.access import get_location_or_404, get_region_or_404, region_scope, roles_required
from app.dashboard import queries as q
from app.dashboard.forms import FilterForm, period_args
from app.dashboard.services import actions_query, overdue_counts
from app.extensions import db
from app.labels import score_class
from app.models import Answer, ChecklistVersion, Role, Visit, VisitSectionScore
from app.surveys.queries import survey_metrics

MANAGERS = (Role.manager, Role.admin)
SORT_KEYS = {
    "name": lambda r: (r.name.lower(),),
    "region": lambda r: (r.region_name.lower(), r.name.lower()),
    "visits": lambda r: (r.visits,),
    "score": lambda r: (r.score is not None, r.score or 0),
    "change": lambda r: (r.change is not None, r.change or 0),
}
SURVEY_KEYS = ("nps", "csat", "ces")
PAGE_SIZE = 50


def read_filters(scope):
    """Return (form, period, filters) from the query string; invalid filters fall back to defaults."""
    form = FilterForm(request.args, scope=scope)
    if request.args.get("region", "").isdigit():
        # A region outside the user's scope is "not found", never an empty page of its figures.
        get_region_or_404(int(request.args["region"]), current_user)
    form.validate()
    return form, form.get_period(), form.filters()


def survey_figures(period, location_ids) -> dict:
    """Return survey metrics per location ({} when there are no locations)."""
    if not location_ids:
        return {}
    return survey_metrics(period, location_ids=sorted(location_ids))


def sort_rows(rows, key: str, descending: bool, surveys: dict) -> list:
    """Return the league table sorted by a column; rows without a value always go last."""
    if key in SURVEY_KEYS:
        def value(row):
            metric = surveys.get(row.location_id, {}).get(key)
            return (metric is not None and metric.value is not None, metric.value if metric else 0)
    else:
        value = SORT_KEYS.get(key, SORT_KEYS["score"])
    present = [r for r in rows if value(r)[0] is not False]
    missing = [r for r in rows if value(r)[0] is False]
    return sorted(present, key=value, reverse=descending) + missing


def heat_cells(cells: dict, sections, visits_url: str, location_id: int) -> Markup:
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
def index():
    """Show the league table, heatmap, averages and most-failed questions for the filters."""
    scope = region_scope(current_user)
    form, period, filters = read_filters(scope)
    rows = q.location_table(period, scope=scope, **filters)
    surveys = survey_figures(period, {r.location_id for r in rows})
    sort = request.args.get("sort", "score")
    descending = request.args.get("dir", "desc" if sort not in ("name", "region") else "asc") == "desc"
    rows = sort_rows(rows, sort, descending, surveys)
    averaged = {k: filters[k] for k in ("checklist_id", "channel")}
    return render_template(
        "dashboard/index.html", form=form, period=period, rows=rows, sort=sort, descending=descending,
        heat=q.section_matrix(period, scope=scope, **filters),
        network=q.network_average(period, **averaged),
        network_previous=q.network_average(period.previous(), **averaged),
        regions=q.region_averages(period, scope=scope, **averaged),
        failing=q.failing_questions(period, scope=scope, **filters),
        overdue=overdue_counts(current_user), surveys=surveys, period_args=period_args(period),
    )


@roles_required(*MANAGERS)
def location(location_id: int):
    """Show a location: trend, sections against region and network, visits, actions, surveys."""
    loc = get_location_or_404(location_id, current_user)
    form, period, filters = read_filters(region_scope(current_user))
    checklist_id = filters["checklist_id"]
    mine = q.section_averages(period, location_id=loc.id, checklist_id=checklist_id)
    region = q.section_averages(period, region_id=loc.region_id, checklist_id=checklist_id)
    network = q.section_averages(period, checklist_id=checklist_id)
    visits = q.visit_scores(period, loc.id)
    trend = q.score_trend(q.monthly_periods(period.end, 12), location_id=loc.id)
    actions = db.session.scalars(actions_query(current_user, location_id=loc.id).limit(200)).all()
    return render_template(
        "dashboard/location.html", location=loc, form=form, period=period, period_args=period_args(period),
        sections=mine, region_sections=region, network_sections=network, visits=visits,
        average=_average(visits), trend=trend, trend_labels=trend_labels(trend),
        region_trend=q.score_trend(q.monthly_periods(period.end, 12), region_id=loc.region_id),
        rank_region=q.location_rank(period, loc.id, within_region=True, checklist_id=checklist_id),
        rank_network=q.location_rank(period, loc.id, within_region=False, checklist_id=checklist_id),
        recurring=q.recurring_failures(period, loc.id), actions=actions, today=date.today(),
        surveys=survey_figures(period, {loc.id}).get(loc.id),
    )


def trend_labels(trend) -> list[str]:
    """Return short month labels (e.g. 'Dec 25') in the page language for a monthly trend."""
    return [format_date(point.period.start, "LLL yy") for point in trend]


def _average(visits) -> float | None:
    # The visits are already loaded for the list; their mean is the location's average.
    return sum(v.score for v in visits) / len(visits) if visits else None


@roles_required(*MANAGERS)
def region(region_id: int):
    """Show a region: its locations' table, section averages against the network, its trend."""
    reg = get_region_or_404(region_id, current_user)
    scope = region_scope(current_user)
    form, period, filters = read_filters(scope)
    checklist_id, channel = filters["checklist_id"], filters["channel"]
    rows = q.location_table(period, scope=scope, region_id=reg.id, checklist_id=checklist_id, channel=channel)
    trend = q.score_trend(q.monthly_periods(period.end, 12), region_id=reg.id, checklist_id=checklist_id)
    return render_template(
        "dashboard/region.html", region=reg, form=form, period=period, period_args=period_args(period), rows=rows,
        average=q.network_average(period, scope={reg.id}, checklist_id=checklist_id, channel=channel),
        network=q.network_average(period, checklist_id=checklist_id, channel=channel),
        sections=q.section_averages(period, region_id=reg.id, checklist_id=checklist_id, channel=channel),
        network_sections=q.section_averages(period, checklist_id=checklist_id, channel=channel),
        trend=trend, trend_labels=trend_labels(trend),
        failing=q.failing_questions(period, region_id=reg.id, checklist_id=checklist_id, channel=channel),
        overdue=overdue_counts(current_user, region_id=reg.id),
    )


def drilldown_query(period, scope, filters, *, location_id=None, section_id=None, question_id=None,
                    failed=False):
    """Return a select of the counted visits behind a dashboard figure, newest first."""
    conditions = q.visit_conditions(*period.bounds(), scope=scope, location_id=location_id, **filters)
    stmt = select(Visit).where(*conditions)
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
def visits():
    """List the counted visits behind a cell: by location, region, section, question and period."""
    scope = region_scope(current_user)
    form, period, filters = read_filters(scope)
    location = None
    location_id = request.args.get("location", type=int)
    if location_id is not None:
        location = get_location_or_404(location_id, current_user)
    section_id = request.args.get("section") or None
    question_id = request.args.get("question") or None
    failed = request.args.get("failed") == "1"
    stmt = drilldown_query(period, scope, filters, location_id=location_id, section_id=section_id,
                           question_id=question_id, failed=failed)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    page = max(request.args.get("page", 1, type=int), 1)
    rows = db.session.execute(stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    question_text = None
    if question_id:
        versions = db.session.scalars(select(ChecklistVersion).order_by(ChecklistVersion.version.desc())).all()
        question_text = next((t for (c, qid), (t, _s, _c) in q.question_texts(versions).items()
                              if qid == question_id and (not filters["checklist_id"] or c == filters["checklist_id"])),
                             question_id)
    return render_template(
        "dashboard/visits.html", form=form, period=period, rows=rows, total=total, page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), location=location, section_id=section_id,
        question_id=question_id, question_text=question_text, failed=failed,
        drill={k: request.args[k] for k in ("location", "section", "question", "failed") if request.args.get(k)},
    )
