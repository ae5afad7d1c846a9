"""Exports of the league table and the raw answers as CSV or XLSX, written by a background job.

The dashboard's buttons create an ExportJob (app.jobs: RQ, or a thread without Redis; never the web request) that
writes the file into the export directory and records rows written / total; its owner downloads it from the job's
page. Rows come from the database in batches (yield_per: a server-side cursor on PostgreSQL) inside one snapshot, so
the count and the rows agree and memory stays flat whatever the number of rows. XLSX goes through rustpy-xlsxwriter
when installed (openpyxl's write-only workbook otherwise) and continues on a new sheet ("Answers 2", ...) with the
header repeated before Excel's row limit; CSV has no limit.
"""
import csv
import itertools
import math
from collections.abc import Iterable, Iterator
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from app import jobs
from app.analytics.figures import league_table, question_texts
from app.analytics.filters import Filters
from app.extensions import db
from app.labels import grade_text
from app.localtime import effective_zone_column, to_local, zone_of
from app.models import Answer, ChecklistVersion, ExportJob, Location, Region, User, Visit

if TYPE_CHECKING:
    from rustpy_xlsxwriter import FastExcel

KIND = "spreadsheet"
#: What can be exported: the league table or the raw answers.
WHATS = ("table", "answers")
#: Formats, with their MIME types.
FORMATS = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
#: Data rows on one sheet: Excel's 1,048,576 rows, less the header.
SHEET_ROWS = 1_048_575
BATCH = 2000
#: Answers in words remembered while exporting (the rows of a quarter repeat a few hundred of them).
WORDS_KEPT = 20_000
#: Characters that make a spreadsheet read a cell as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: A row of an export: text, numbers, dates, booleans, None, and answer values as stored (JSON).
Row = list[object]


def safe_cell(value: object) -> object:
    """Return the value, with text that a spreadsheet would run as a formula made inert."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _number(value: float | None, digits: int = 2) -> float | None:
    return round(value, digits) if value is not None else None


def table_header() -> list[str]:
    """Return the league table's column names."""
    return [_("Rank"), _("Code"), _("Location"), _("Region"), _("Programme"), _("Visits"), _("Score"),
            _("Interval low (95%)"), _("Interval high (95%)"), _("Grade"), _("Previous visits"), _("Previous score"),
            _("Change"), _("Significant change")]


def table_rows(filters: Filters) -> Iterator[Row]:
    """Yield the league table of the filter, as the dashboard shows it (one aggregate query)."""
    table = league_table(filters, trend_points=2)
    for row in table.rows:
        yield [row.rank_text, row.code, row.name, row.region_name, filters.programme or _("All programmes"),
               row.visits, _number(row.score), _number(row.current.low), _number(row.current.high),
               grade_text(row.grade) if row.grade else None,
               row.previous.visits, _number(row.previous.score), _number(row.change.difference),
               _("yes") if row.change.significant else _("no")]


def answers_header() -> list[str]:
    """Return the raw answers' column names.

    The visit's time comes twice: in UTC, and as the location's wall-clock time with its IANA zone
    beside it (a spreadsheet reads both as dates; the zone says where the local one was read).
    """
    return ["visit_id", "visited_at_utc", "visited_at_local", "timezone", "status", "location_code", "location",
            "region", "checklist_id",
            "checklist_version", "shopper_code", "visit_score", "visit_grade", "section_id", "question_id",
            "question", "answer_status", "value", "answer", "comment", "fraction", "points", "max_points",
            "critical_failed"]


def _answers_statement(filters: Filters) -> Select[*tuple[Any, ...]]:
    """Return the query of the raw answers of the filter's counted visits, in the order they are exported."""
    return (
        select(Visit.id, Visit.visited_at, effective_zone_column(), Visit.status, Location.code, Location.name,
               Region.name,
               ChecklistVersion.checklist_id, ChecklistVersion.version, User.shopper_code, Visit.score,
               Visit.grade, Answer.section_id, Answer.question_id, Answer.status, Answer.value, Answer.comment,
               Answer.fraction, Answer.points, Answer.max_points, Answer.critical_failed)
        .join(Answer, Answer.visit_id == Visit.id)
        .join(Location, Location.id == Visit.location_id).join(Region, Region.id == Location.region_id)
        .join(ChecklistVersion, ChecklistVersion.id == Visit.checklist_version_id)
        .join(User, User.id == Visit.shopper_id)
        .where(*filters.conditions()).order_by(Visit.visited_at, Visit.id, Answer.id)
    )


def answer_count(filters: Filters) -> int:
    """Return how many rows answer_rows yields for the filter (the same joins, counted in SQL)."""
    stmt = _answers_statement(filters).order_by(None).with_only_columns(func.count(Answer.id))
    return db.session.scalar(stmt) or 0


def answer_rows(filters: Filters) -> Iterator[Row]:
    """Yield one row per visit x question of the filter's counted visits, fetched in batches."""
    conditions = filters.conditions()
    versions = list(db.session.scalars(select(ChecklistVersion).where(ChecklistVersion.id.in_(
        select(Visit.checklist_version_id).where(*conditions).distinct()))))
    texts = question_texts(versions)
    # The answer in words comes from the exact version the visit was filled with, as on every page.
    checklists = {(v.checklist_id, v.version): v.checklist for v in versions}
    # The same answer reads the same in words: most rows are one of a few values per question.
    said: dict[tuple[object, ...], str | None] = {}
    result = db.session.execute(_answers_statement(filters).execution_options(yield_per=BATCH))
    zones: dict[str, ZoneInfo] = {}
    for (visit_id, visited_at, zone, status, code, name, region, slug, version, shopper, score, grade, section_id,
         question_id, answer_status, value, comment, fraction, points, max_points, critical) in result:
        text = texts.get((slug, question_id), (question_id,))[0]
        key = (slug, version, question_id, answer_status, value if not isinstance(value, list | dict) else repr(value))
        if key in said:
            words = said[key]
        else:
            checklist = checklists[(slug, version)]
            words = (checklist.question(question_id).answer_text(answer_status, value)
                     if checklist.has_question(question_id) else None)
            if len(said) >= WORDS_KEPT:  # free-text answers are all different: memory stays flat
                said.clear()
            said[key] = words
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        where = zones.get(zone) or zones.setdefault(zone, zone_of(zone))
        local = to_local(visited_at, where).replace(tzinfo=None) if visited_at else None
        yield [visit_id, visited_at.astimezone(UTC).replace(tzinfo=None) if visited_at else None, local, zone,
               status.value, code, name, region,
               slug, version, shopper, score, grade, section_id, question_id, text, answer_status, value, words,
               comment, fraction, points, max_points, bool(critical)]


# -- writers ------------------------------------------------------------------------------------


def write_csv(path: Path, header: list[str], rows: Iterable[Row]) -> None:
    """Write rows as a UTF-8 CSV (with BOM so that Excel reads Cyrillic) as they come; any number of rows."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows([safe_cell(v) for v in row] for row in rows)


def fast_writer() -> "type[FastExcel] | None":
    """Return rustpy_xlsxwriter's FastExcel when installed (Rust, ~10x faster than openpyxl), else None."""
    try:
        from rustpy_xlsxwriter import FastExcel
    except ImportError:
        return None
    return FastExcel


def sheet_names(sheet: str, total: int) -> list[str]:
    """Return the sheets `total` rows fill: the one name, or "Answers 1", "Answers 2", ... past Excel's limit."""
    count = max(1, math.ceil(total / SHEET_ROWS))
    return [sheet[:31]] if count == 1 else [f"{sheet[:27]} {n}" for n in range(1, count + 1)]


def write_xlsx(path: Path, sheet: str, header: list[str], rows: Iterable[Row], total: int) -> None:
    """Write `total` rows to an XLSX file as they come, SHEET_ROWS to a sheet, each with the header.

    With rustpy-xlsxwriter a quarter of raw answers (600k rows) takes seconds; openpyxl's
    write-only workbook (the fallback) is as frugal with memory but about ten times slower.
    :raise JobFailed: when the rows outnumber `total` (they were counted in another snapshot).
    """
    rows = iter(rows)
    names = sheet_names(sheet, total)
    fast = fast_writer() if total else None  # it takes the header from the first record: none without rows
    if fast is not None:
        book = fast(str(path)).format(bold_headers=True).freeze(row=1, col=0)
        for name in names:
            records = ({title: safe_cell(value) for title, value in zip(header, row, strict=True)}
                       for row in itertools.islice(rows, SHEET_ROWS))
            book = book.sheet(name, records)
        book.save()
    else:
        _write_openpyxl(path, names, header, rows)
    if next(rows, None) is not None:
        raise jobs.JobFailed(_("The data changed while it was exported. Start the export again."))


def _write_openpyxl(path: Path, names: list[str], header: list[str], rows: Iterator[Row]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for name in names:
        worksheet = workbook.create_sheet(name)
        worksheet.freeze_panes = "A2"
        cells = []
        for title in header:
            cell = WriteOnlyCell(worksheet, value=title)
            cell.font = bold
            cells.append(cell)
        worksheet.append(cells)
        for row in itertools.islice(rows, SHEET_ROWS):
            worksheet.append([safe_cell(v) for v in row])
    workbook.save(path)


# -- the job ------------------------------------------------------------------------------------


def filename(params: dict[str, object]) -> str:
    """Return the download name of an export job's file, e.g. answers-sample-visit-2024-04-01-2024-06-30.xlsx."""
    return f"{params['what']}-{params.get('programme') or 'all'}-{params['from']}-{params['to']}.{params['fmt']}"


def create_job(user: User, filters: Filters, what: str, fmt: str) -> ExportJob:
    """Add a queued export of the league table or the raw answers (`what`) as CSV or XLSX (`fmt`); not committed."""
    if what not in WHATS or fmt not in FORMATS:
        raise ValueError(f"no export {what}.{fmt}")
    return jobs.create(user, KIND, {**filters.to_params(), "what": what, "fmt": fmt})


def start(job: ExportJob) -> str:
    """Start a committed export job on RQ when configured, else on a background thread; return which."""
    return jobs.start(job, run_export)


def run_export(job_id: str) -> None:
    """Write the job's file, recording rows written; never raises (a failure is stored on the job)."""
    jobs.run(job_id, _write)


def _counted(rows: Iterable[Row], progress: jobs.Progress) -> Iterator[Row]:
    for done, row in enumerate(rows, 1):
        progress.advance(done)
        yield row


def _write(job: jobs.JobRun, progress: jobs.Progress) -> jobs.Finished:
    params = job.params
    filters = Filters.from_params(params)
    fmt = str(params["fmt"])
    target = jobs.job_file(job.id, f".{fmt}")
    partial = target.with_name(target.name + ".part")
    try:
        with jobs.read_snapshot():
            if params["what"] == "table":
                header, sheet = table_header(), _("Locations")
                table = list(table_rows(filters))
                total, rows = len(table), iter(table)
            else:
                header, sheet = answers_header(), _("Answers")
                total, rows = answer_count(filters), answer_rows(filters)
            progress.set_total(total)
            counted = _counted(rows, progress)
            if fmt == "csv":
                write_csv(partial, header, counted)
            else:
                write_xlsx(partial, sheet, header, counted, total)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return jobs.Finished(target)
