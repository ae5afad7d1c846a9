"""Inline SVG charts for the PDF reports: vector, so WeasyPrint prints them crisply.

Plain string templates rather than a charting library: the charts are few and simple, and every
label passes through markupsafe.escape, so checklist or location text can never become markup.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

from app.labels import SCORE_BANDS, score_band

#: (colour, light tint) of each score band (app.labels.SCORE_BANDS).
BAND_COLOURS = {"excellent": ("#1b7f3b", "#e3f2e6"), "good": ("#6aa84f", "#eef6e8"),
                "fair": ("#e0a100", "#fdf5dc"), "poor": ("#c0392b", "#f9e3e0"), "none": ("#9aa0a6", "#f1f3f4")}
FONT = "DejaVu Sans, sans-serif"


def band_colour(score: float | None) -> str:
    """Return the band colour of a score (grey without one)."""
    return BAND_COLOURS[score_band(score)][0]


def band_tint(score: float | None) -> str:
    """Return the light background tint of a score's band."""
    return BAND_COLOURS[score_band(score)][1]


def band_class(score: float | None) -> str:
    """Return the CSS class of a score's band."""
    return f"band-{score_band(score)}"


def _num(value: float) -> str:
    return f"{value:.1f}"


def _day_month(moment: datetime) -> str:
    return moment.strftime("%d.%m")


@dataclass(frozen=True)
class Point:
    """One visit on the trend chart."""

    at: datetime
    score: float
    label: str = ""


def trend_chart(points: Sequence[Point], *, start: datetime, end: datetime,
                references: Sequence[tuple[str, float | None, str]] = (), width: int = 680,
                height: int = 230, date_format: Callable[[datetime], str] = _day_month,
                number: Callable[[float], str] = _num) -> Markup:
    """Return an SVG chart of visit scores over [start, end] on coloured score bands.

    `references` are horizontal dashed lines: (label, value, colour), e.g. the network average.
    """
    left, right, top, bottom = 34, 12, 10, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    span = max((end - start).total_seconds(), 1.0)

    def x(at: datetime) -> float:
        return left + plot_w * min(max((at - start).total_seconds() / span, 0.0), 1.0)

    def y(score: float) -> float:
        return top + plot_h * (1 - score / 100.0)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="9">']
    upper = 100.0
    for low, band in SCORE_BANDS:  # background bands, so a reader sees the grade at a glance
        tint = BAND_COLOURS[band][1]
        parts.append(f'<rect x="{left}" y="{y(upper):.1f}" width="{plot_w}" height="{y(low) - y(upper):.1f}" '
                     f'fill="{tint}"/>')
        upper = low
    for tick in (0, 25, 50, 75, 100):
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                     f'stroke="#d0d4d8" stroke-width="0.5"/>'
                     f'<text x="{left - 4}" y="{y(tick) + 3:.1f}" text-anchor="end" fill="#5f6368">{tick}</text>')
    for index, (label, value, colour) in enumerate(references):
        if value is None:
            continue
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                     f'stroke="{colour}" stroke-width="1.2" stroke-dasharray="5 3"/>')
        legend_x = left + 4 + index * 200
        parts.append(f'<line x1="{legend_x}" x2="{legend_x + 18}" y1="{height - 8}" y2="{height - 8}" '
                     f'stroke="{colour}" stroke-width="1.2" stroke-dasharray="5 3"/>'
                     f'<text x="{legend_x + 22}" y="{height - 5}" fill="#3c4043">{escape(label)} '
                     f'{escape(number(value))}</text>')
    ordered = sorted(points, key=lambda p: p.at)
    if len(ordered) > 1:
        path = " ".join(f"{x(p.at):.1f},{y(p.score):.1f}" for p in ordered)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1a3d6d" stroke-width="1.6"/>')
    for point in ordered:
        cx, cy = x(point.at), y(point.score)
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3.6" fill="{band_colour(point.score)}" '
                     f'stroke="#fff" stroke-width="1"/>')
        if len(ordered) <= 16:
            parts.append(f'<text x="{cx:.1f}" y="{cy - 6:.1f}" text-anchor="middle" fill="#202124" '
                         f'font-size="8">{escape(number(point.score))}</text>')
    # Date ticks: the period's ends and, when they fit, each visit's day.
    ticks = [start, end] + ([p.at for p in ordered] if len(ordered) <= 12 else [])
    used: list[float] = []
    for at in sorted(ticks):
        tx = x(at)
        if any(abs(tx - u) < 36 for u in used):
            continue
        used.append(tx)
        anchor = "start" if tx < left + 20 else "end" if tx > left + plot_w - 20 else "middle"
        parts.append(f'<text x="{tx:.1f}" y="{top + plot_h + 13}" text-anchor="{anchor}" fill="#5f6368">'
                     f'{escape(date_format(at))}</text>')
    parts.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#9aa0a6" '
                 'stroke-width="0.6"/></svg>')
    return Markup("".join(parts))  # noqa: S704 (every text in parts went through escape())


def comparison_chart(rows: Sequence[tuple[str, Sequence[float | None]]], series: Sequence[tuple[str, str]],
                     *, width: int = 680, label_width: int = 210, number: Callable[[float], str] = _num) -> Markup:
    """Return horizontal grouped bars: one group per row (a section), one bar per series.

    `rows` are (label, values) with one value per series; `series` are (name, colour).
    """
    bar_h, gap, group_gap, top = 9, 2, 10, 4
    group_h = len(series) * (bar_h + gap) + group_gap
    legend_h = 18
    height = top + len(rows) * group_h + legend_h
    plot_w = width - label_width - 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="9">']
    for tick in (0, 25, 50, 75, 100):
        tx = label_width + plot_w * tick / 100
        parts.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{top}" y2="{height - legend_h}" stroke="#e0e3e7" '
                     f'stroke-width="0.6"/>')
    for index, (label, values) in enumerate(rows):
        gy = top + index * group_h
        text = str(label)
        if len(text) > 38:
            text = text[:37] + "…"
        parts.append(f'<text x="{label_width - 6}" y="{gy + group_h / 2 - 2:.1f}" text-anchor="end" '
                     f'fill="#202124">{escape(text)}</text>')
        for s_index, ((_name, colour), value) in enumerate(zip(series, values, strict=True)):
            by = gy + s_index * (bar_h + gap)
            if value is None:
                parts.append(f'<text x="{label_width + 3}" y="{by + bar_h - 1}" fill="#9aa0a6">—</text>')
                continue
            bw = max(plot_w * value / 100, 0.8)
            parts.append(f'<rect x="{label_width}" y="{by}" width="{bw:.1f}" height="{bar_h}" fill="{colour}" '
                         f'rx="1.5"/><text x="{label_width + bw + 3:.1f}" y="{by + bar_h - 1.5}" fill="#202124" '
                         f'font-size="8">{escape(number(value))}</text>')
    lx: float = label_width
    for name, colour in series:
        parts.append(f'<rect x="{lx}" y="{height - 12}" width="10" height="8" fill="{colour}"/>'
                     f'<text x="{lx + 14}" y="{height - 5}" fill="#3c4043">{escape(name)}</text>')
        lx += 24 + 6.2 * len(str(name))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text in parts went through escape())


def score_bar(score: float | None, *, width: int = 220, height: int = 12) -> Markup:
    """Return a single horizontal bar of a percent score in its band colour."""
    filled = 0.0 if score is None else max(min(score, 100.0), 0.0) * width / 100
    return Markup(  # noqa: S704 (numbers and colours of our own only)
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bar" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><rect width="{width}" height="{height}" rx="3" fill="#eceff1"/>'
        f'<rect width="{filled:.1f}" height="{height}" rx="3" fill="{band_colour(score)}"/></svg>'
    )
