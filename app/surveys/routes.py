"""Customer surveys: the public page behind each location's QR code, and the managers' pages."""
import secrets
from typing import Any, TypedDict

from babel import Locale, UnknownLocaleError
from flask import (
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from app.access import get_location_or_404, public, region_scope, roles_required, visible_locations
from app.analytics.figures import league_table
from app.analytics.surveys import MetricSet, flagged_counts, network_survey_metrics, survey_metrics
from app.extensions import db, limiter
from app.models import Location, Role
from app.models.audit import record
from app.surveydefs.active import active_survey
from app.surveydefs.schema import METRIC_RANGES, ExtraQuestion, Survey
from app.surveys import charts, posters, services
from app.surveys.forms import ImportForm, SurveyForm
from app.surveys.imports import import_answers
from app.web import request_filters

DEVICE_COOKIE_AGE = 400 * 24 * 3600  # browsers cap cookie lifetimes at 400 days
PUBLIC_ENDPOINTS = ("surveys.respond", "surveys.thanks")


# -- public pages ----------------------------------------------------------------------------

def _ip_key() -> str:
    return f"survey-ip:{get_remote_address()}:{(request.view_args or {}).get('token', '')}"


def _device_key() -> str:
    device = request.cookies.get(services.DEVICE_COOKIE) or f"ip:{get_remote_address()}"
    return f"survey-device:{device[:64]}:{(request.view_args or {}).get('token', '')}"


def _ip_limit() -> str:
    return current_app.config.get("SURVEY_IP_RATE_LIMIT", "20 per hour")


def _device_limit() -> str:
    return current_app.config.get("SURVEY_DEVICE_RATE_LIMIT", "5 per hour")


def _language_name(code: str) -> str:
    """Return a language's name in itself: English, Русский."""
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(code.replace("-", "_")) or code
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:]


def _public_page(template: str, language: str, status: int = 200, **context: Any) -> Response:
    """Render a public page in the customer's language and give the device its cookie."""
    survey: Survey = context["survey"]

    def question_options(question: ExtraQuestion) -> list[tuple[str, str]]:
        if question.type == "yes_no":
            return [("yes", _("Yes")), ("no", _("No"))]
        return [(option.value, survey.text(option.label, language)) for option in question.options or ()]

    with force_locale(language):
        response = make_response(render_template(
            template, language=language, ranges=METRIC_RANGES, language_name=_language_name,
            question_options=question_options, **context), status)
    if not request.cookies.get(services.DEVICE_COOKIE):
        response.set_cookie(services.DEVICE_COOKIE, secrets.token_urlsafe(18), max_age=DEVICE_COOKIE_AGE,
                            httponly=True, samesite="Lax", secure=request.is_secure)
    response.headers["Cache-Control"] = "no-store"
    return response


def _survey_and_location(token: str) -> tuple[Survey, Location]:
    """Return (survey, location) of a public link; :raise 404: unknown link, 503: no valid survey."""
    location = services.location_for_token(token)
    if location is None:
        abort(404)
    survey = active_survey()
    if survey is None:
        abort(503)
    return survey, location


@public
@limiter.limit(_ip_limit, key_func=_ip_key, methods=["POST"])
@limiter.limit(_device_limit, key_func=_device_key, methods=["POST"])
def respond(token: str) -> ResponseReturnValue:
    """Show the survey of a location; store the answers and thank the customer."""
    survey, location = _survey_and_location(token)
    language = services.pick_language(survey, request.values.get("lang"), request.accept_languages)
    form = SurveyForm()
    problems: dict[str, str] = {}
    if request.method == "POST":
        with force_locale(language):
            answers, problems = services.parse_answers(survey, request.form)
        if not problems:
            services.record_response(survey, location, answers, services.Submission(
                device_id=request.cookies.get(services.DEVICE_COOKIE),
                ip=get_remote_address(),
                started=form.started.data,
                honeypot=form.website.data,
                language=language,
            ))
            db.session.commit()
            return redirect(url_for("surveys.thanks", token=token, lang=language), 303)
    else:
        form.started.data = services.start_stamp(location.id)
    return _public_page("surveys/public.html", language, 400 if problems else 200, survey=survey,
                        location=location, form=form, problems=problems, values=request.form, token=token)


@public
def thanks(token: str) -> ResponseReturnValue:
    """Thank the customer in their language."""
    survey, location = _survey_and_location(token)
    language = services.pick_language(survey, request.args.get("lang"), request.accept_languages)
    return _public_page("surveys/thanks.html", language, survey=survey, location=location)


def _public_error(code: int, message: str) -> tuple[str, int]:
    """Render an error of the public pages in their own light layout, not the staff one."""
    language = request.args.get("lang") if request.args.get("lang") in current_app.config["LANGUAGES"] else (
        request.accept_languages.best_match(current_app.config["LANGUAGES"]) or "en")
    with force_locale(language):
        return render_template("surveys/public_error.html", code=code, message=message, language=language,
                               back=request.path if code in (400, 429) else None), code


def _app_error(error: HTTPException) -> ResponseReturnValue:
    """Answer an error of the managers' pages with the application's own handler (staff layout)."""
    # Blueprint handlers cannot be limited to some endpoints; Flask looks app-level handlers up
    # with an empty blueprint list.
    handler = current_app._find_error_handler(error, [])
    return current_app.ensure_sync(handler)(error) if handler else error


def too_many(error: HTTPException) -> ResponseReturnValue:
    return _public_error(429, "rate") if request.endpoint in PUBLIC_ENDPOINTS else _app_error(error)


def form_expired(error: HTTPException) -> ResponseReturnValue:
    return _public_error(400, "expired") if request.endpoint in PUBLIC_ENDPOINTS else _app_error(error)


def unknown_link(error: HTTPException) -> ResponseReturnValue:
    return _public_error(404, "unknown") if request.endpoint in PUBLIC_ENDPOINTS else _app_error(error)


def no_survey(error: HTTPException) -> ResponseReturnValue:
    return _public_error(503, "unavailable") if request.endpoint in PUBLIC_ENDPOINTS else _app_error(error)


# -- managers' pages -------------------------------------------------------------------------

def public_url(location: Location) -> str:
    """Return the survey link printed on the poster (PUBLIC_BASE_URL when set, e.g. behind a proxy)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + url_for("surveys.respond", token=location.survey_token)
    return url_for("surveys.respond", token=location.survey_token, _external=True)


SORT_KEYS = ("location", "answers", "nps", "csat", "ces", "audit")


class SurveyRow(TypedDict):
    """A location's line on the surveys page."""

    location: Location
    metrics: MetricSet
    flagged: int
    audit: float | None
    url: str


@roles_required(Role.manager, Role.admin)
def index() -> ResponseReturnValue:
    """List the locations in scope with their survey metrics, links, posters and the score-vs-NPS chart."""
    filters, form = request_filters()
    scope, period, region_id = filters.scope, filters.period, filters.region_id
    include_flagged = request.args.get("flagged") == "1"
    query = select(Location).where(Location.active.is_(True), visible_locations(current_user)).order_by(Location.code)
    if region_id is not None:
        query = query.where(Location.region_id == region_id)
    locations = list(db.session.scalars(query))
    ids = [loc.id for loc in locations]
    metrics = survey_metrics(period, location_ids=ids, include_flagged=include_flagged)
    flagged = flagged_counts(period, location_ids=ids)
    audit = {row.location_id: row.score for row in league_table(filters, trend_points=2).rows}
    rows: list[SurveyRow] = [{"location": loc, "metrics": metrics[loc.id], "flagged": flagged.get(loc.id, 0),
             "audit": audit.get(loc.id), "url": public_url(loc)} for loc in locations]
    sort = request.args.get("sort", "")
    if sort not in SORT_KEYS:
        sort = "location"
    descending = request.args.get("dir") == "desc"
    present = [(value, row) for row in rows if (value := _sort_value(row, sort)) is not None]
    missing = [row for row in rows if _sort_value(row, sort) is None]
    rows = [row for _value, row in sorted(present, key=lambda pair: pair[0], reverse=descending)] + missing
    network_scope = scope if region_id is None else {region_id}
    network = network_survey_metrics(period, network_scope, include_flagged=include_flagged)
    chart = charts.score_vs_nps([(row["location"].code, row["audit"], row["metrics"]["nps"]) for row in rows])
    return render_template("surveys/index.html", form=form, rows=rows, period=period, network=network,
                           chart=chart, sort=sort, descending=descending, include_flagged=include_flagged)


def _sort_value(row: SurveyRow, sort: str) -> str | float | None:
    """Return the value a row sorts by, None when it has none (those go last)."""
    if sort == "location":
        return row["location"].code
    if sort == "audit":
        return row["audit"]
    if sort == "answers":
        return max(result.n for result in row["metrics"].values())
    return row["metrics"][sort].value


@roles_required(Role.manager, Role.admin)
def poster(location_id: int) -> ResponseReturnValue:
    """Return the printable QR poster of a location, A4 or A6 (?size=)."""
    location = get_location_or_404(location_id, current_user)
    size = request.args.get("size", "A4").upper()
    if size not in posters.SIZES:
        abort(400, _("Poster size must be A4 or A6."))
    survey = active_survey()
    if survey is None:
        abort(503, _("No valid survey is installed; check the files in checklists/surveys."))
    pdf = posters.render_poster(location, survey, public_url(location), size)
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="survey-poster-{location.code}-{size}.pdf"'
    return response


@roles_required(Role.manager, Role.admin)
def import_csv() -> ResponseReturnValue:
    """Import survey answers from a CSV file and show what happened to every row."""
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        upload = form.file.data
        survey = active_survey()
        report = import_answers(upload.read(), upload.filename or "answers.csv", scope=region_scope(current_user),
                                survey_id=survey.id if survey else "import", dry_run=form.dry_run.data)
        if not report.dry_run and not report.problem and report.accepted:
            record(current_user, "surveys.import", current_user, filename=report.filename,
                   accepted=report.accepted, refused=report.refused)
            db.session.commit()
        else:
            db.session.rollback()
    return render_template("surveys/import.html", form=form, report=report)
