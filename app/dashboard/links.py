"""Link prefixes for the dashboard's big tables: one url_for per table, not per cell."""
from urllib.parse import urlencode

from flask import url_for

from app.analytics.filters import Filters


def link_prefixes(filters: Filters) -> dict[str, str]:
    """Return URL prefixes that carry the filter: '/dashboard/locations/' + id + query, drill-downs + '&...'."""
    query = urlencode(filters.args())
    return {
        "location": url_for("dashboard.location", location_id=0)[:-1],
        "region": url_for("dashboard.region", region_id=0)[:-1],
        "query": "?" + query,
        "visits": url_for("dashboard.visits") + "?" + query + "&",
    }
