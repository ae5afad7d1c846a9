"""/api/v1/figures: the figures of the manager pages as JSON, for the signed-in manager's scope.

Same Filters query string as the pages (period, start, end, region, checklist, channel), same JSON as
`flask figures ... --json`; an invalid filter is a 400 that says why, never a default.
"""
from flask import jsonify
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from app.access import get_location_or_404, get_region_or_404, roles_required
from app.analytics.summaries import location_json, location_summary, network_json, network_summary
from app.extensions import db
from app.models import Location, Region, Role
from app.web import request_filters

MANAGERS = (Role.manager, Role.admin)


def _id_of(model: type[Location] | type[Region], code: str) -> int:
    """Return the id of the location or region with this code (0 when none: the loader then answers 404)."""
    return db.session.scalar(select(model.id).where(model.code == code)) or 0


@roles_required(*MANAGERS)
def location_figures(code: str) -> ResponseReturnValue:
    """Return a location's figures: average with interval and change, ranks, sections, failures, surveys."""
    location = get_location_or_404(_id_of(Location, code), current_user)
    filters, _form = request_filters(location_id=location.id, strict=True)
    return jsonify(location_json(location_summary(filters, location)))


@roles_required(*MANAGERS)
def region_figures(code: str) -> ResponseReturnValue:
    """Return a region's league table and averages."""
    region = get_region_or_404(_id_of(Region, code), current_user)
    filters, _form = request_filters(strict=True)
    return jsonify(network_json(network_summary(filters.replace(region_id=region.id))))


@roles_required(*MANAGERS)
def network_figures() -> ResponseReturnValue:
    """Return the league table and averages of every location the user may see."""
    filters, _form = request_filters(strict=True)
    return jsonify(network_json(network_summary(filters)))
