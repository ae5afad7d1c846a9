"""Report documents: collect the data, fill the print templates, render the PDF."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from babel.numbers import get_decimal_symbol, get_minus_sign_symbol
from flask import current_app, render_template
from flask_babel import force_locale, format_date, get_locale
from flask_babel import gettext as _
from werkzeug.utils import secure_filename

from app.analytics.filters import Filters
from app.analytics.stats import Estimate
from app.analytics.summaries import network_summary
from app.labels import rank_text
from app.localtime import Where, format_local, to_local, zone_text
from app.models import Location, Region, Visit, VisitStatus
from app.pdf import render
from app.reports import charts, data


@dataclass(frozen=True)
class Document:
    """A rendered report: its file name and PDF bytes."""

    filename: str
    pdf: bytes


class Formatter:
    """Number and date formatting for the print templates, in the report's language.

    Scores use the same rounding as the web pages ('%.1f', one decimal) with the locale's
    decimal sign, so a PDF and the dashboard always show the same figure.
    """

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self.decimal = get_decimal_symbol(locale)
        self.minus = get_minus_sign_symbol(locale)

    def _fixed(self, value: float, digits: int = 1) -> str:
        text = f"{value:.{digits}f}".replace(".", self.decimal)
        return text.replace("-", self.minus)

    def score(self, value: float | None) -> str:
        """Return a score with one decimal, or an em dash."""
        return "—" if value is None else self._fixed(value)

    def pct(self, value: float | None) -> str:
        """Return a percentage with one decimal."""
        return "—" if value is None else self._fixed(value) + "\u00a0%"

    def signed(self, value: float | None) -> str:
        """Return a value with one decimal and an explicit sign (NPS)."""
        if value is None:
            return "—"
        return ("+" if value > 0 else "") + self._fixed(value)

    def change(self, value: float | None) -> str:
        """Return a change in points: +2.5, −1.0, or an em dash."""
        if value is None:
            return "—"
        return "±" + self._fixed(0.0) if round(value, 1) == 0 else self.signed(value)

    def diff(self, a: float | None, b: float | None) -> float | None:
        """Return a - b, or None when either is missing."""
        return None if a is None or b is None else a - b

    def trend_class(self, value: float | None) -> str:
        """Return "up"/"down" for a change worth showing in colour."""
        if value is None or round(value, 1) == 0:
            return ""
        return "up" if value > 0 else "down"

    def pts(self, value: float | None) -> str:
        """Return points as people write them: 2, 1.5, 0.75."""
        if value is None:
            return "—"
        text = f"{value:.2f}".rstrip("0").rstrip(".")
        return text.replace(".", self.decimal)

    def band(self, value: float | None) -> str:
        """Return the CSS class of the score's colour band."""
        return charts.band_class(value)

    def rank(self, rank: tuple[int, int] | None, total: int) -> str:
        """Return "3 of 12" or "3–6 of 12", or an em dash when not ranked."""
        return "—" if rank is None else _("%(rank)s of %(total)s", rank=rank_text(rank), total=total)

    def interval(self, estimate: Estimate) -> str:
        """Return the 95 % interval of an average ("82,3–91,7" in Russian), or an em dash below two visits."""
        if estimate.low is None or estimate.high is None:
            return "—"
        return f"{self._fixed(estimate.low)}–{self._fixed(estimate.high)}"

    def date(self, value: dt.date | None) -> str:
        """Return a date in the report's language."""
        return "—" if value is None else format_date(value, "medium")

    def datetime(self, value: dt.datetime | None, where: Where, *, zone: bool = True) -> str:
        """Return a timestamp in the report's language as the location's local time, the zone named."""
        return format_local(value, where, zone=zone)

    def zone(self, where: Where, moment: dt.datetime | None = None) -> str:
        """Return the location's zone as people read it ("Moscow, UTC+3")."""
        return zone_text(where, moment)

    def page_counter_css(self) -> str:
        """Return the CSS `content` value of "Page X of Y": one translated sentence around two counters."""
        parts: list[str] = []
        for piece in re.split(r"(%\(pages?\)d)", _("Page %(page)d of %(pages)d")):
            if piece in ("%(page)d", "%(pages)d"):
                parts.append(f"counter({piece[2:-2]})")
            elif piece:
                # A CSS string: escape what could end it and "<" (no closing the <style> element);
                # spaces become no-break spaces so the line never wraps.
                text = re.sub(r"\s", "\u00a0", piece)
                parts.append('"' + text.replace("\\", "\\5c ").replace('"', "\\22 ").replace("<", "\\3c ") + '"')
        return " ".join(parts)

    def status(self, status: VisitStatus) -> str:
        """Return a visit state in words."""
        return {
            VisitStatus.approved: _("approved"), VisitStatus.submitted: _("submitted, not yet reviewed"),
            VisitStatus.returned: _("returned for correction"), VisitStatus.voided: _("voided"),
        }.get(status, status.value)


def report_locale(requested: str | None = None) -> str:
    """Return the report language: the language of the person who asked for it.

    That is the one asked for explicitly (`?lang=`, `--lang`), else the language the request or the background
    job runs in (a job keeps the language of the page it was started from), else the default (the command line).
    Never guessed from the checklist: its texts are printed as written whatever the report's language.
    """
    languages = current_app.config["LANGUAGES"]
    if requested and requested in languages:
        return requested
    current = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    return current if current in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def _page(template: str, locale: str, doc_title: str, **context: Any) -> str:
    """Return the HTML of a print template in `locale`."""
    return render_template(
        template, lang=locale, f=Formatter(locale), charts=charts, doc_title=doc_title,
        company=current_app.config["COMPANY_NAME"], generated_at=data.report_date(),
        today=date.today(), **context,
    )


def _name(*parts: object) -> str:
    return secure_filename("-".join(str(p) for p in parts if p)) + ".pdf"


def visit_html(visit: Visit, *, include_shopper_name: bool = False, lang: str | None = None) -> tuple[str, str]:
    """Return (html, file name) of a visit report."""
    visit = data.load_visit(visit.id) or visit  # the same visit, its answers, scores and photos loaded at once
    locale = report_locale(lang)
    with force_locale(locale):
        detail = data.visit_detail(visit, include_shopper_name=include_shopper_name)
        title = _("Visit report") + f" · {visit.location.name}"
        html = _page("reports/pdf/visit.html", locale, title, d=detail)
    day = to_local(visit.visited_at, visit.location).date().isoformat() if visit.visited_at else ""
    return html, _name("visit", visit.id, visit.location.code, day)


def location_html(filters: Filters, location: Location, *, include_shopper_name: bool = False,
                  lang: str | None = None) -> tuple[str, str]:
    """Return (html, file name) of a location report for exactly the page's filter."""
    locale = report_locale(lang)
    period = filters.period
    with force_locale(locale):
        report = data.location_report(filters, location, include_shopper_name=include_shopper_name)
        figures = report.figures
        f = Formatter(locale)
        start = datetime.combine(period.start, time.min, tzinfo=UTC)
        end = datetime.combine(period.end, time.max, tzinfo=UTC)
        references = [(_("Region average"), figures.region_average.score, "#7b61a8"),
                      (_("Network average"), figures.network_average.score, "#5f6368")]
        trend = charts.trend_chart(
            [charts.Point(v.visited_at, v.score) for v in figures.visits], start=start, end=end,
            references=references, date_format=lambda d: format_date(d, "d MMM"), number=f.score,
        )
        comparison = charts.comparison_chart(
            [(c.title, (c.location.score, c.region.score if c.region else None,
                        c.network.score if c.network else None)) for c in figures.sections],
            [(_("This location"), "#1a3d6d"), (_("Region"), "#7b61a8"), (_("Network"), "#9aa0a6")],
            number=f.score,
        )
        title = _("Location report") + f" · {location.name} · {f.date(period.start)} – {f.date(period.end)}"
        html = _page("reports/pdf/location.html", locale, title, r=report, trend=trend, comparison=comparison)
    return html, _name("location", location.code, filters.programme, period.start.isoformat(),
                       period.end.isoformat())


def summary_html(filters: Filters, *, region: Region | None = None, lang: str | None = None) -> tuple[str, str]:
    """Return (html, file name) of a region's summary, or of the network within the filter's scope."""
    if region is not None:
        filters = filters.replace(region_id=region.id)
    locale = report_locale(lang)
    with force_locale(locale):
        title = _("Region %(name)s", name=region.name) if region else _("Network")
        summary = network_summary(filters, trend_points=2)
        html = _page("reports/pdf/summary.html", locale, _("Summary report") + f" · {title}", r=summary,
                     title=title, region=region, previous=filters.period.previous())
    kind = ("region", region.code) if region else ("network",)
    return html, _name(*kind, filters.programme, filters.period.start.isoformat(), filters.period.end.isoformat())


def to_pdf(built: tuple[str, str], **render_options: Any) -> Document:
    """Render (html, file name) to a Document."""
    html, filename = built
    return Document(filename, render(html, **render_options))
