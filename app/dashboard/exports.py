"""Exports of the league table and the raw answers, streamed as CSV or written as XLSX.

Rows come from the database in batches (yield_per: a server-side cursor on PostgreSQL) and
leave as they arrive: CSV through a generator, XLSX written row by row into
a temporary file (rustpy-xlsxwriter when installed, openpyxl's write-only workbook otherwise).
Memory stays flat whatever the number of rows.
"""
import csv
import io
import itertools
import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from flask import Response, current_app, send_file, stream_with_context
from flask_babel import gettext as _
from sqlalchemy import select

from app.analytics.figures import league_table, question_texts
from app.analytics.filters import Filters
from app.extensions import db
from app.localtime import effective_zone_column, to_local, zone_of
from app.models import Answer, ChecklistVersion, Location, Region, User, Visit

if TYPE_CHECKING:
    from rustpy_xlsxwriter import FastExcel

BATCH = 2000
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
               row.visits, _number(row.score), _number(row.current.low), _number(row.current.high), row.grade,
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


def answer_rows(filters: Filters) -> Iterator[Row]:
    """Yield one row per visit x question of the filter's counted visits, fetched in batches."""
    conditions = filters.conditions()
    versions = list(db.session.scalars(select(ChecklistVersion).where(ChecklistVersion.id.in_(
        select(Visit.checklist_version_id).where(*conditions).distinct()))))
    texts = question_texts(versions)
    # The answer in words comes from the exact version the visit was filled with, as on every page.
    checklists = {(v.checklist_id, v.version): v.checklist for v in versions}
    stmt = (
        select(Visit.id, Visit.visited_at, effective_zone_column(), Visit.status, Location.code, Location.name,
               Region.name,
               ChecklistVersion.checklist_id, ChecklistVersion.version, User.shopper_code, Visit.score,
               Visit.grade, Answer.section_id, Answer.question_id, Answer.status, Answer.value, Answer.comment,
               Answer.fraction, Answer.points, Answer.max_points, Answer.critical_failed)
        .join(Answer, Answer.visit_id == Visit.id)
        .join(Location, Location.id == Visit.location_id).join(Region, Region.id == Location.region_id)
        .join(ChecklistVersion, ChecklistVersion.id == Visit.checklist_version_id)
        .join(User, User.id == Visit.shopper_id)
        .where(*conditions).order_by(Visit.visited_at, Visit.id, Answer.id)
        .execution_options(yield_per=BATCH)
    )
    result = db.session.execute(stmt)
    zones: dict[str, ZoneInfo] = {}
    for (visit_id, visited_at, zone, status, code, name, region, slug, version, shopper, score, grade, section_id,
         question_id, answer_status, value, comment, fraction, points, max_points, critical) in result:
        text = texts.get((slug, question_id), (question_id,))[0]
        checklist = checklists[(slug, version)]
        words = (checklist.question(question_id).answer_text(answer_status, value)
                 if checklist.has_question(question_id) else None)
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        where = zones.get(zone) or zones.setdefault(zone, zone_of(zone))
        local = to_local(visited_at, where).replace(tzinfo=None) if visited_at else None
        yield [visit_id, visited_at.astimezone(UTC).replace(tzinfo=None) if visited_at else None, local, zone,
               status.value, code, name, region,
               slug, version, shopper, score, grade, section_id, question_id, text, answer_status, value, words,
               comment, fraction, points, max_points, bool(critical)]


def csv_response(filename: str, header: list[str], rows: Iterable[Row]) -> Response:
    """Stream rows as a UTF-8 CSV (with BOM so that Excel reads Cyrillic) without holding them."""

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow(header)
        for count, row in enumerate(rows, 1):
            writer.writerow([safe_cell(v) for v in row])
            if count % 500 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return Response(stream_with_context(generate()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def fast_writer() -> "type[FastExcel] | None":
    """Return rustpy_xlsxwriter's FastExcel when installed (Rust, ~10x faster than openpyxl), else None."""
    try:
        from rustpy_xlsxwriter import FastExcel
    except ImportError:
        return None
    return FastExcel


def write_xlsx(path: str, sheet: str, header: list[str], rows: Iterable[Row]) -> None:
    """Write rows to an XLSX file as they come, never holding them all in memory.

    With rustpy-xlsxwriter a quarter of raw answers (600k rows) takes seconds; openpyxl's
    write-only workbook (the fallback) is as frugal with memory but about ten times slower.
    """
    rows = iter(rows)
    first = next(rows, None)
    fast = fast_writer() if first is not None else None  # it takes the header from the first record
    if first is not None:
        rows = itertools.chain([first], rows)
    if fast is not None:
        records = ({title: safe_cell(value) for title, value in zip(header, row, strict=True)} for row in rows)
        fast(path).format(bold_headers=True).freeze(row=1, col=0).sheet(sheet[:31], records).save()
        return
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet[:31])
    worksheet.freeze_panes = "A2"
    bold = Font(bold=True)
    cells = []
    for title in header:
        cell = WriteOnlyCell(worksheet, value=title)
        cell.font = bold
        cells.append(cell)
    worksheet.append(cells)
    for row in rows:
        worksheet.append([safe_cell(v) for v in row])
    workbook.save(path)


def xlsx_response(filename: str, sheet: str, header: list[str], rows: Iterable[Row]) -> Response:
    """Build the workbook in a temporary file, send it, and delete the file afterwards."""
    directory = current_app.config["EXPORT_DIR"]
    os.makedirs(directory, exist_ok=True)
    handle, path = tempfile.mkstemp(suffix=".xlsx", dir=directory)
    os.close(handle)
    try:
        write_xlsx(path, sheet, header, rows)
        stream = open(path, "rb")  # noqa: SIM115  (closed by the response)
    finally:
        # Unlinked at once: the open handle keeps the data until it is sent, and nothing lingers on disk.
        os.unlink(path)
    return send_file(stream, as_attachment=True, download_name=filename,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
