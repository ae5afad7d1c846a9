"""Locations from a CSV file: new codes are created, known codes updated; every row checked before any is saved.

Columns (header names in English or Russian, any order): code, name, region (its code), and optionally
address, latitude, longitude, timezone (an IANA name such as Asia/Vladivostok; empty: the region's).
"""
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import func, select

from app import csvfiles
from app.admin import services
from app.admin.forms import CODE_PATTERN
from app.admin.services import LocationFields
from app.extensions import db
from app.localtime import canonical_zone
from app.models import Location, Region, User

MAX_ROWS = 5000
#: Accepted header names of each column (lower case).
COLUMNS = {
    "code": ("code", "location_code", "location code", "код", "код точки"),
    "name": ("name", "название", "наименование"),
    "region": ("region", "region_code", "region code", "регион", "код региона"),
    "address": ("address", "адрес"),
    "latitude": ("latitude", "lat", "широта"),
    "longitude": ("longitude", "lon", "lng", "долгота"),
    "timezone": ("timezone", "time zone", "time_zone", "tz", "часовой пояс"),
}
REQUIRED = ("code", "name", "region")
#: Longest values, as the columns store them.
LENGTHS = {"code": 20, "name": 160, "address": 300}


@dataclass
class LocationRow:
    """One row of the file: what it asked for and, when refused, why."""

    line: int
    values: dict[str, str]
    reasons: list[LazyString] = field(default_factory=list)
    created: bool = False

    @property
    def accepted(self) -> bool:
        return not self.reasons


@dataclass
class LocationImport:
    """The result of an import: a whole-file problem, or its rows; nothing is saved unless every row is accepted."""

    error: LazyString | None = None
    rows: list[LocationRow] = field(default_factory=list)
    dry_run: bool = False

    @property
    def saved(self) -> bool:
        return not self.dry_run and self.error is None and all(r.accepted for r in self.rows)

    @property
    def refused(self) -> list[LocationRow]:
        return [r for r in self.rows if not r.accepted]


def read(text: str) -> tuple[list[tuple[int, dict[str, str]]], LazyString | None]:
    """Return (line, {column: value}) of each non-empty row after the header, or a whole-file problem."""
    rows = csvfiles.read_rows(text)
    if not rows:
        return [], _l("The file is empty.")
    header = [cell.strip().lower() for cell in rows[0][1]]
    mapping = {name: header.index(alias) for name, aliases in COLUMNS.items() for alias in aliases if alias in header}
    missing = [name for name in REQUIRED if name not in mapping]
    if missing:
        return [], _l("Columns missing from the header: %(names)s.", names=", ".join(missing))
    if len(rows) - 1 > MAX_ROWS:
        return [], _l("The file has %(n)s rows; import at most %(max)s at a time.", n=len(rows) - 1, max=MAX_ROWS)
    return [(line, {name: (row[i].strip() if i < len(row) else "") for name, i in mapping.items()})
            for line, row in rows[1:]], None


def _coordinate(text: str, low: float, high: float, row: LocationRow, message: LazyString) -> float | None:
    if not text:
        return None
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # NaN fails too
        row.reasons.append(message)
        return None
    return value


def _fields(row: LocationRow, regions: dict[str, Region]) -> LocationFields:
    """Return the location fields of a row, adding a reason for each value refused."""
    values = row.values
    for name in REQUIRED:
        if not values.get(name):
            row.reasons.append(_l("The %(column)s column is empty.", column=name))
    for name, length in LENGTHS.items():
        if len(values.get(name, "")) > length:
            row.reasons.append(_l("%(column)s is longer than %(n)s characters.", column=name, n=length))
    if values.get("code") and not CODE_PATTERN.match(values["code"]):
        row.reasons.append(_l("Use letters, digits, dots, dashes and underscores only, e.g. MSK-01."))
    region = regions.get(values.get("region", "").lower())
    if values.get("region") and region is None:
        row.reasons.append(_l("Unknown region code %(code)s.", code=values["region"]))
    zone = canonical_zone(values.get("timezone")) if values.get("timezone") else None
    if values.get("timezone") and zone is None:
        row.reasons.append(_l("Unknown time zone “%(name)s”: use an IANA name such as Europe/Moscow or "
                              "Asia/Vladivostok, or leave it empty for the region's.", name=values["timezone"]))
    lat = _coordinate(values.get("latitude", ""), -90, 90, row, _l("Latitude must be between -90 and 90."))
    lon = _coordinate(values.get("longitude", ""), -180, 180, row, _l("Longitude must be between -180 and 180."))
    if not row.reasons and (lat is None) != (lon is None):
        row.reasons.append(_l("Enter both latitude and longitude, or leave both empty."))
    return LocationFields(code=values.get("code", ""), name=values.get("name", ""),
                          address=values.get("address", ""), region_id=region.id if region else 0,
                          latitude=lat, longitude=lon, timezone=zone)


def import_locations(data: bytes, actor: User, *, dry_run: bool = False) -> LocationImport:
    """Create or update the locations of a CSV file (no commit); any refused row saves nothing."""
    rows, problem = read(csvfiles.decode(data))
    report = LocationImport(error=problem, dry_run=dry_run)
    if problem:
        return report
    regions = {r.code.lower(): r for r in db.session.scalars(select(Region))}
    codes = [v.get("code", "").lower() for _line, v in rows if v.get("code")]
    known = {loc.code.lower(): loc for loc in db.session.scalars(
        select(Location).where(func.lower(Location.code).in_(codes)))} if codes else {}
    seen: set[str] = set()
    planned: list[tuple[LocationRow, LocationFields]] = []
    for line, values in rows:
        row = LocationRow(line, values)
        report.rows.append(row)
        fields = _fields(row, regions)
        code = fields["code"].lower()
        if code and code in seen:
            row.reasons.append(_l("Code %(code)s appears twice in the file.", code=fields["code"]))
        seen.add(code)
        planned.append((row, fields))
    if dry_run or report.refused:
        return report
    for row, fields in planned:
        existing = known.get(fields["code"].lower())
        if existing is None:
            services.create_location(actor, **fields)
            row.created = True
        else:
            services.update_location(actor, existing, **fields)
    return report
