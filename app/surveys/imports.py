"""CSV import of survey answers collected elsewhere (tablets, call centre, a partner's tool).

One row is one answer: date, location code, metric, value, comment. Good rows are stored, bad
rows are reported with the reason and line; the same file (by its bytes) is never imported twice.
"""
import hashlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from flask_babel import gettext as _
from sqlalchemy import func, select

from app import csvfiles
from app.extensions import db
from app.models import Location, SurveyResponse
from app.surveydefs.schema import METRIC_RANGES

MAX_ROWS = 50_000
#: Header spellings accepted for each column (compared lower-case, spaces and dashes as "_").
COLUMNS = {
    "date": ("date", "дата"),
    "location": ("location", "location_code", "code", "код", "локация"),
    "metric": ("metric", "метрика"),
    "value": ("value", "score", "значение", "оценка"),
    "comment": ("comment", "комментарий"),
}
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M",
                "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M")


@dataclass
class RowResult:
    """What happened to one line of the file."""

    line: int
    accepted: bool
    message: str
    location_code: str = ""
    metric: str = ""
    value: str = ""


@dataclass
class ImportReport:
    """The row-by-row outcome of an import (or of a check without importing)."""

    filename: str
    rows: list[RowResult] = field(default_factory=list)
    problem: str | None = None  # a problem with the whole file: nothing was imported
    dry_run: bool = False

    @property
    def accepted(self) -> int:
        return sum(1 for row in self.rows if row.accepted)

    @property
    def refused(self) -> int:
        return sum(1 for row in self.rows if not row.accepted)


def _header_map(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Return {column: index} and the names of the required columns that are missing."""
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        key = name.strip().lower().replace(" ", "_").replace("-", "_")
        for column, spellings in COLUMNS.items():
            if key in spellings and column not in found:
                found[column] = index
    missing = [column for column in ("date", "location", "metric", "value") if column not in found]
    return found, missing


def parse_date(text: str, today: date) -> datetime | None:
    """Return the answer's time (UTC; noon when only a day is given), or None when bad or in the future."""
    text = text.strip()
    for fmt in DATE_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt)  # noqa: DTZ007 - the file's times are taken as UTC
        except ValueError:
            continue
        if "%H" not in fmt:
            parsed = datetime.combine(parsed.date(), time(12))
        parsed = parsed.replace(tzinfo=UTC)
        return None if parsed.date() > today else parsed
    return None


def import_answers(raw: bytes, filename: str, *, scope: Collection[int] | None, survey_id: str,
                   dry_run: bool = False, today: date | None = None) -> ImportReport:
    """Check every row of a CSV file and store the good ones (not committed); return the report."""
    report = ImportReport(filename=filename, dry_run=dry_run)
    today = today or datetime.now(UTC).date()
    file_hash = hashlib.sha256(raw).hexdigest()
    if db.session.scalar(select(SurveyResponse.id).where(SurveyResponse.fingerprint == file_hash).limit(1)):
        report.problem = _("This file was already imported; importing it again would count every answer twice.")
        return report
    rows = csvfiles.read_rows(csvfiles.decode(raw))
    if not rows:
        report.problem = _("The file is empty.")
        return report
    columns, missing = _header_map(rows[0][1])
    if missing:
        report.problem = _("The first line must name the columns date, location, metric, value (and optionally "
                           "comment); missing: %(missing)s.", missing=", ".join(missing))
        return report
    if len(rows) - 1 > MAX_ROWS:
        report.problem = _("The file has more than %(n)d rows; split it into smaller files.", n=MAX_ROWS)
        return report
    codes = sorted({r[columns["location"]].strip().upper() for _, r in rows[1:] if len(r) > columns["location"]} - {""})
    # One query for every code in the file; codes match regardless of case.
    found: Iterable[Location] = (
        db.session.scalars(select(Location).where(func.upper(Location.code).in_(codes))) if codes else []
    )
    locations = {loc.code.upper(): loc for loc in found}
    for line, row in rows[1:]:
        result = _import_row(row, line, columns, locations, scope, survey_id, file_hash, today, dry_run)
        report.rows.append(result)
    return report


def _cell(row: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    return row[index].strip() if index is not None and index < len(row) else ""


def _import_row(row: list[str], line: int, columns: dict[str, int], locations: dict[str, Location],
                scope: Collection[int] | None, survey_id: str, file_hash: str, today: date, dry_run: bool) -> RowResult:
    """Check one row; add a SurveyResponse for it unless this is a dry run."""
    code, metric = _cell(row, columns, "location"), _cell(row, columns, "metric").lower()
    value_text, comment = _cell(row, columns, "value"), _cell(row, columns, "comment")
    result = RowResult(line, False, "", code, metric, value_text)
    when = parse_date(_cell(row, columns, "date"), today)
    location = locations.get(code.upper())
    if when is None:
        result.message = _('bad date "%(value)s": use YYYY-MM-DD or DD.MM.YYYY, not in the future',
                           value=_cell(row, columns, "date"))
    elif location is None:
        result.message = _('unknown location code "%(code)s"', code=code)
    elif scope is not None and location.region_id not in scope:
        result.message = _("location %(code)s is outside your regions", code=location.code)
    elif metric not in METRIC_RANGES:
        result.message = _('unknown metric "%(metric)s": use nps, csat or ces', metric=metric)
    else:
        low, high = METRIC_RANGES[metric]
        value = value_text.lstrip("+")
        if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
            result.message = _('%(metric)s value "%(value)s" is out of range: a whole number from %(low)d to %(high)d',
                               metric=metric.upper(), value=value_text, low=low, high=high)
        elif len(comment) > 5000:
            result.message = _("the comment is longer than 5000 characters")
        else:
            result.accepted = True
            result.message = _("imported") if not dry_run else _("would be imported")
            if not dry_run:
                db.session.add(SurveyResponse(
                    location_id=location.id, survey_id=survey_id, submitted_at=when, source="import",
                    comment=comment or None, extra={}, fingerprint=file_hash, **{metric: int(value)},
                ))
    return result
