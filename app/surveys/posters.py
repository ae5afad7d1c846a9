"""Printable QR posters (A4 for the wall, A6 for the till or a receipt insert)."""
import re

import qrcode
import qrcode.image.svg
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup

from app.models import Location
from app.pdf import render
from app.surveydefs.schema import Survey

SIZES = {"A4": "A4", "A6": "A6"}


def qr_svg(url: str) -> Markup:
    """Return the QR code of `url` as inline SVG that scales to its box (no file, no fetch)."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2,
                       image_factory=qrcode.image.svg.SvgPathImage)
    qr.add_data(url)
    qr.make(fit=True)
    svg = qr.make_image().to_string(encoding="unicode")
    svg = re.sub(r'^<\?xml[^>]*>\s*', "", svg)
    svg = re.sub(r'\s(width|height)="[^"]*"', "", svg, count=2)
    # qrcode's own SVG: rectangles only; the URL is encoded in the shapes, never written as text.
    return Markup(svg.replace("<svg ", '<svg class="qr" role="img" aria-label="QR" ', 1))  # noqa: S704


def poster_html(location: Location, survey: Survey, url: str, size: str) -> str:
    """Return the poster's HTML: the survey title in each of its languages, the QR code and the link."""
    titles, hints = [], []
    for language in survey.languages:
        text = survey.text(survey.title, language)
        if text not in titles:
            titles.append(text)
        with force_locale(language):
            hint = _("Scan the code with your phone's camera: it takes a minute and is anonymous.")
        if hint not in hints:
            hints.append(hint)
    return render_template("surveys/pdf/poster.html", location=location, survey=survey, url=url, size=size,
                           titles=titles, hints=hints, qr=qr_svg(url), company=current_app.config["COMPANY_NAME"])


def render_poster(location: Location, survey: Survey, url: str, size: str) -> bytes:
    """Return the poster PDF, rendered by the reports' fetcher that refuses every URL we did not give."""
    return render(poster_html(location, survey, url, size))
