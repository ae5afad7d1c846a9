"""Links that keep the dashboard's filters: the current page with some arguments changed, drill-downs."""
from urllib.parse import urlencode

from flask import request, url_for

FILTER_KEYS = ("period", "start", "end", "region", "checklist", "channel")


def filter_args(**overrides) -> dict:
    """Return the current request's dashboard filters updated with `overrides`, for drill-down links."""
    args = {k: request.args[k] for k in FILTER_KEYS if request.args.get(k)}
    args.update(overrides)
    return args


def link_prefixes() -> dict:
    """Return URL prefixes for big tables: '/dashboard/locations/' + id + query, without url_for per cell."""
    query = urlencode(filter_args())
    visits = url_for("dashboard.visits") + "?" + (query + "&" if query else "")
    return {
        "location": url_for("dashboard.location", location_id=0)[:-1],
        "region": url_for("dashboard.region", region_id=0)[:-1],
        "query": "?" + query if query else "",
        "visits": visits,
    }
