"""The dashboard blueprint and the template helpers shared with the review pages."""
from flask import Blueprint

bp = Blueprint(
    "dashboard", __name__, url_prefix="/dashboard",
    template_folder="templates", static_folder="static", static_url_path="/static",
)


@bp.app_template_global()
def url_with(**overrides) -> str:
    """Return the current page's URL with some query arguments replaced (None drops one)."""
    from flask import request, url_for

    args = request.args.to_dict()
    args.update(overrides)
    args = {k: v for k, v in args.items() if v is not None}
    return url_for(request.endpoint, **(request.view_args or {}), **args)


FILTER_KEYS = ("period", "start", "end", "region", "checklist", "channel")


@bp.app_template_global()
def filter_args(**overrides) -> dict:
    """Return the current request's dashboard filters updated with `overrides`, for drill-down links."""
    from flask import request

    args = {k: request.args[k] for k in FILTER_KEYS if request.args.get(k)}
    args.update(overrides)
    return args


@bp.app_template_global()
def link_prefixes() -> dict:
    """Return URL prefixes for big tables: '/dashboard/locations/' + id + query, without url_for per cell."""
    from urllib.parse import urlencode

    from flask import url_for

    query = urlencode(filter_args())
    visits = url_for("dashboard.visits") + "?" + (query + "&" if query else "")
    return {
        "location": url_for("dashboard.location", location_id=0)[:-1],
        "region": url_for("dashboard.region", region_id=0)[:-1],
        "query": "?" + query if query else "",
        "visits": visits,
    }
