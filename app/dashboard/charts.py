"""Inline SVG drawn in Python where a page draws hundreds of them (sparklines in the league table)."""
from markupsafe import Markup, escape


def sparkline_svg(values: list[float | None], width: int = 90, height: int = 24, label: str = "") -> Markup:
    """Return an SVG sparkline of scores 0..100; None breaks the line (a period without visits)."""
    n = len(values)
    step = (width - 4) / ((n - 1) if n > 1 else 1)
    inner = height - 4
    path, pen = [], "M"
    last = None
    for i, v in enumerate(values):
        if v is None:
            pen = "M"
            continue
        x, y = 2 + i * step, height - 2 - v / 100 * inner
        path.append(f"{pen}{x:.1f} {y:.1f}")
        pen, last = "L", (x, y) if i == n - 1 else None
    ref = height - 2 - 0.75 * inner
    words = ", ".join(f"{v:.0f}" if v is not None else "–" for v in values)
    parts = [f'<svg class="sparkline" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img"'
             f' aria-label="{escape(label)}: {words}">',
             f'<line x1="0" x2="{width}" y1="{ref:.1f}" y2="{ref:.1f}" class="spark-ref"/>']
    if path:
        parts.append(f'<path d="{" ".join(path)}" class="spark-line"/>')
    if last:
        parts.append(f'<circle cx="{last[0]:.1f}" cy="{last[1]:.1f}" r="2.5" class="spark-dot"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (numbers we formatted and an escaped label)
