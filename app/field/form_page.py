"""The phone form: the visit page a shopper fills in a store, and its offline service worker.

The server renders every question as HTML from the exact checklist version of the visit (first
paint without waiting for JavaScript or the network, and the page is a plain document the service
worker can cache); fill.js then restores the draft, saves as the shopper goes and syncs.
"""
import hashlib
import json
from pathlib import Path

from flask import current_app, make_response, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.access import get_visit_or_404, public, roles_required
from app.checklists.schema import BaseQuestion, Checklist
from app.field import API_PREFIX, PAGES_PREFIX
from app.models import Role, Visit
from app.models import VisitStatus as S

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: The form's own modules, in load order; the service worker precaches them.
FORM_MODULES = (
    "fill.js", "text.js", "state.js", "status.js", "answers.js", "nav.js", "geo.js",
    "form.js", "store.js", "sync.js", "photos.js", "stopwatch.js",
)
FORM_STYLES = ("fill.css",)


def asset_urls() -> list[str]:
    """Return the URLs of every static file the form needs offline."""
    urls = [
        url_for("static", filename="vendor/pico/pico.min.css"),
        url_for("static", filename="app.css"),
    ]
    urls += [url_for("field.static", filename=name) for name in FORM_STYLES + FORM_MODULES]
    return urls


def asset_version() -> str:
    """Return a short hash of the form's static files; a new version makes phones re-cache them."""
    digest = hashlib.sha256()
    app_static = Path(current_app.root_path) / "static"
    files = [app_static / "vendor/pico/pico.min.css", app_static / "app.css"]
    files += [STATIC_DIR / name for name in FORM_STYLES + FORM_MODULES]
    files.append(Path(current_app.root_path) / "field/templates/field/sw.js")
    for path in files:
        stat = path.stat()
        digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:12]


def marked_questions(visit: Visit, checklist: Checklist) -> list[BaseQuestion]:
    """Return the questions the reviewer marked on returning the visit, in the order they are asked.

    Only while the visit is returned: after it is handed in again the marks are history, not work to do.
    """
    marks = visit.review_marks or {} if visit.status == S.returned else {}
    return [q for q in checklist.questions if q.id in marks]


@roles_required(Role.shopper)
def fill(visit_id: int) -> ResponseReturnValue:
    """Render the phone form of the shopper's own visit.

    :raise 404: for someone else's visit; :raise 403: for managers and admins.
    """
    # Shoppers only (the decorator), and get_visit_or_404 lets a shopper see only their own visits.
    visit = get_visit_or_404(visit_id, current_user)
    checklist = visit.checklist
    back_url = url_for("field.my_visits")
    detail_url = url_for("field.detail", visit_id=visit.id)
    marked = marked_questions(visit, checklist)
    response = make_response(render_template(
        "field/fill.html",
        visit=visit,
        checklist=checklist,
        editable=visit.is_open,
        back_url=back_url,
        detail_url=detail_url,
        question_count=len(checklist.questions),
        preloaded=FORM_MODULES[1:],  # fill.js, the entry point, is loaded by its own script tag
        api_url=f"{API_PREFIX}/visits/{visit.id}",
        csrf_url=f"{API_PREFIX}/csrf",
        sw_scope=f"{PAGES_PREFIX}/",
        # The form opens at the first marked question's section (fill.js, once per return): that is the work.
        marked=marked,
        marks=visit.review_marks or {} if marked else {},
        first_step=checklist.section_of(marked[0].id).id if marked else "",
        return_key=visit.reviewed_at.isoformat() if visit.status == S.returned and visit.reviewed_at else "",
        section_numbers={section.id: n for n, section in enumerate(checklist.sections, 1)},
        section_of=checklist.section_of,
    ))
    # The service worker keeps its own copy for offline use; the browser must always ask again.
    response.headers["Cache-Control"] = "no-cache, private"
    return response


@public
def service_worker() -> ResponseReturnValue:
    """Serve the form's service worker (scope /visits/), never cached by the browser."""
    body = render_template(
        "field/sw.js",
        version=asset_version(),
        assets=json.dumps(asset_urls()),
        api_prefix=f"{API_PREFIX}/",
    )
    response = make_response(body)
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = f"{PAGES_PREFIX}/"
    return response
