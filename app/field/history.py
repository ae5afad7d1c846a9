"""A shopper's handed-in visits (submitted, approved): the history part of "My visits", searched and paged."""
from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import joinedload

from app.models import HANDED_IN_STATES, ChecklistVersion, Location, Visit


def _like(text: str) -> str:
    """Return a LIKE pattern matching `text` anywhere, its own % and _ taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def handed_in_visits(shopper_id: int, search: str | None = None) -> Select[Visit]:
    """Return a select of one shopper's handed-in visits, latest submission first.

    `search` matches the location's name or code or the checklist's title, case-insensitively (SQLite's
    lower() folds Cyrillic too, see app/__init__.py), so "тверская" finds "Тверская".
    """
    query = (
        select(Visit).join(Location, Visit.location_id == Location.id)
        .join(ChecklistVersion, Visit.checklist_version_id == ChecklistVersion.id)
        .options(joinedload(Visit.location), joinedload(Visit.checklist_version))
        .where(Visit.shopper_id == shopper_id, Visit.status.in_(HANDED_IN_STATES))
    )
    if search and search.strip():
        like = _like(search.strip())
        query = query.where(or_(*(func.lower(column).like(like, escape="\\") for column in (
            Location.name, Location.code, ChecklistVersion.title))))
    # A visit handed in before submitted_at was recorded has none: such visits go last, not first.
    return query.order_by(case((Visit.submitted_at.is_(None), 1), else_=0), Visit.submitted_at.desc(),
                          Visit.id.desc())

