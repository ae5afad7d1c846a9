"""Inline SVG chart: audit score against NPS across locations (no JavaScript, prints in PDFs)."""
import math
from dataclasses import dataclass
from typing import Protocol

from flask_babel import gettext as _
from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 400
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 48


@dataclass(frozen=True)
class Scatter:
    """The chart and what it says: how many locations it plots and their correlation."""

    svg: Markup
    points: int
    correlation: float | None


class Estimate(Protocol):
    """A metric's value with its number of answers and 95% margin of error (app.surveys.metrics.MetricResult)."""

    @property
    def value(self) -> float | None: ...

    @property
    def n(self) -> int: ...

    @property
    def margin_of_error(self) -> float | None: ...


def correlation(pairs: list[tuple[float, float]]) -> float | None:
    """Return Pearson's r of the pairs, or None with fewer than 3 pairs or no spread."""
    n = len(pairs)
    if n < 3:
        return None
    mean_x = sum(x for x, _ in pairs) / n
    mean_y = sum(y for _, y in pairs) / n
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in pairs)
    sxx = sum((x - mean_x) ** 2 for x, _ in pairs)
    syy = sum((y - mean_y) ** 2 for _, y in pairs)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def _x(score: float) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * max(0.0, min(score, 100.0)) / 100


def _y(nps: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (100 - max(-100.0, min(nps, 100.0))) / 200


def score_vs_nps(points: list[tuple[str, float | None, Estimate | None]]) -> Scatter | None:
    """Return the scatter of (label, audit score, NPS MetricResult); None when under 2 locations have both."""
    plotted = [(label, score, result.value, result.margin_of_error, result.n) for label, score, result in points
               if score is not None and result is not None and result.value is not None]
    if len(plotted) < 2:
        return None
    title = _("Audit score against NPS, one dot per location")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="scatter-title" class="scatter" font-family="DejaVu Sans, sans-serif" font-size="12">',
        f'<title id="scatter-title">{escape(title)}</title>',
    ]
    for tick in range(0, 101, 25):  # vertical grid: audit score
        x = _x(tick)
        parts.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{HEIGHT - BOTTOM}" stroke="#ddd"/>'
                     f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" fill="#555">{tick}</text>')
    for tick in range(-100, 101, 50):  # horizontal grid: NPS
        y = _y(tick)
        stroke = "#999" if tick == 0 else "#ddd"
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{stroke}"/>'
                     f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{tick}</text>')
    parts.append(f'<text x="{(LEFT + WIDTH - RIGHT) / 2:.0f}" y="{HEIGHT - 10}" text-anchor="middle" fill="#222">'
                 f'{escape(_("Audit score"))}</text>')
    parts.append(f'<text transform="translate(14 {(TOP + HEIGHT - BOTTOM) / 2:.0f}) rotate(-90)" '
                 f'text-anchor="middle" fill="#222">NPS</text>')
    for label, score, nps, margin, n in plotted:
        x, y = _x(score), _y(nps)
        if margin:  # the NPS's 95% margin of error as a whisker
            top, bottom = _y(nps + margin), _y(nps - margin)
            parts.append(f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" stroke="#7aa7d8"/>')
        tip = f"{label}: {_('audit')} {score:.1f}, NPS {nps:.1f} (n={n})"
        # Labels go left of dots near the right edge so they stay inside the chart.
        left = x > WIDTH - RIGHT - 70
        anchor = ' text-anchor="end"' if left else ""
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#1f5fa8"><title>{escape(tip)}</title></circle>'
                     f'<text x="{x - 7 if left else x + 7:.1f}" y="{y - 6:.1f}" fill="#222"'
                     f'{anchor}>{escape(label)}</text>')
    parts.append("</svg>")
    r = correlation([(score, nps) for _label, score, nps, _margin, _n in plotted])
    # Every text in `parts` was escaped above; the rest is our own numbers and tags.
    return Scatter(Markup("".join(parts)), len(plotted), r)  # noqa: S704
