"""The Shoppers page: how lenient or severe each shopper scores against the others at the same locations."""
from collections.abc import Callable

from flask import render_template, request
from flask.typing import ResponseReturnValue

from app.access import roles_required
from app.analytics.calibration import ShopperRow
from app.analytics.summaries import shopper_summary
from app.models import Role
from app.web import request_filters

MANAGERS = (Role.manager, Role.admin)
#: Sort keys of the table; the first item is False for rows without a value (listed last whatever the order).
SORT_KEYS: dict[str, Callable[[ShopperRow], tuple[object, ...]]] = {
    "bias": lambda r: (r.bias.bias is not None, r.bias.bias or 0.0),
    "shopper": lambda r: ((r.code or r.name).lower(),),
    "visits": lambda r: (r.bias.visits,),
    "group": lambda r: (r.bias.group is not None, r.bias.group or 0, -(r.bias.bias or 0.0)),
}


def sort_rows(rows: list[ShopperRow], key: str, descending: bool) -> list[ShopperRow]:
    """Return the rows sorted by a column; shoppers without an estimate always go last."""
    value = SORT_KEYS.get(key, SORT_KEYS["bias"])
    present = [r for r in rows if value(r)[0] is not False]
    missing = [r for r in rows if value(r)[0] is False]
    return sorted(present, key=value, reverse=descending) + missing


@roles_required(*MANAGERS)
def shoppers() -> ResponseReturnValue:
    """Show each shopper's bias in score points with its interval, visits and a lenient/severe flag.

    Listed: shoppers with counted visits at the locations the user sees (and the chosen region).
    """
    filters, form = request_filters()
    summary = shopper_summary(filters)
    sort = request.args.get("sort", "bias")
    sort = sort if sort in SORT_KEYS else "bias"
    descending = request.args.get("dir", "asc" if sort in ("shopper", "group") else "desc") == "desc"
    return render_template("dashboard/shoppers.html", form=form, filters=filters, period=filters.period,
                           s=summary, rows=sort_rows(summary.rows, sort, descending), sort=sort,
                           descending=descending)
