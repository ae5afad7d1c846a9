"""Admin operations on users, regions and locations: change the data and log who did what (no commits)."""
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypedDict, Unpack

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import (
    AuditLog,
    Location,
    Region,
    Role,
    User,
    Visit,
    VisitStatus,
    WebhookDelivery,
    WebhookEndpoint,
    manager_regions,
)
from app.models.audit import record
from app.webhooks import delivery

OPEN_VISIT_STATES = (VisitStatus.planned, VisitStatus.in_progress, VisitStatus.returned)


class AdminRuleError(ValueError):
    """A change that would break an admin rule (e.g. removing the last active admin)."""


@dataclass(frozen=True)
class Overview:
    users_by_role: dict[str, int]
    inactive_users: int
    regions: int
    locations_active: int
    locations_inactive: int
    audit_entries: int


def overview() -> Overview:
    """Return the counts shown on the admin start page (three grouped queries)."""
    by_role = {r.value: 0 for r in Role}
    inactive = 0
    rows = db.session.execute(select(User.role, User.active, func.count()).group_by(User.role, User.active))
    for role, active, count in rows:
        if active:
            by_role[Role(role).value] += count
        else:
            inactive += count
    locations = dict(db.session.execute(select(Location.active, func.count()).group_by(Location.active)).all())
    return Overview(
        users_by_role=by_role,
        inactive_users=inactive,
        regions=db.session.scalar(select(func.count()).select_from(Region)) or 0,
        locations_active=locations.get(True, 0),
        locations_inactive=locations.get(False, 0),
        audit_entries=db.session.scalar(select(func.count()).select_from(AuditLog)) or 0,
    )


# --- users -----------------------------------------------------------------------------------

def user_query(*, role: Role | None = None, region_id: int | None = None, active: bool | None = None,
               search: str = "") -> Select[User]:
    """Return the select of users matching the list filters, ordered by name."""
    query = select(User).order_by(User.active.desc(), User.name, User.id)
    if role is not None:
        query = query.where(User.role == role)
    if region_id is not None:
        query = query.where(User.regions.any(Region.id == region_id))
    if active is not None:
        query = query.where(User.active.is_(active))
    if search:
        like = f"%{search.lower()}%"
        query = query.where(or_(
            func.lower(User.name).like(like), func.lower(User.email).like(like),
            func.lower(User.shopper_code).like(like),
        ))
    return query


def active_admin_count() -> int:
    """Return how many active administrators there are."""
    return db.session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.admin, User.active.is_(True))
    ) or 0


def next_shopper_code(prefix: str = "MS-") -> str:
    """Suggest the next free shopper code such as MS-006."""
    codes = db.session.scalars(select(User.shopper_code).where(User.shopper_code.like(f"{prefix}%")))
    numbers = [int(c[len(prefix):]) for c in codes if c and c[len(prefix):].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


def _regions(region_ids: Iterable[int]) -> list[Region]:
    if not region_ids:
        return []
    return list(db.session.scalars(select(Region).where(Region.id.in_(region_ids)).order_by(Region.name)))


def create_user(actor: User, *, email: str, name: str, role: Role, password: str,
                shopper_code: str | None = None, region_ids: Iterable[int] = ()) -> User:
    """Create an account; only shoppers keep a shopper code and only managers regions (none = whole network)."""
    user = User(
        email=email.strip().lower(), name=name, role=role,
        shopper_code=(shopper_code or None) if role == Role.shopper else None,
    )
    user.set_password(password)
    user.regions = _regions(region_ids) if role == Role.manager else []
    db.session.add(user)
    db.session.flush()
    record(actor, "user.create", user, email=user.email, role=role.value,
           shopper_code=user.shopper_code, regions=[r.code for r in user.regions])
    return user


def update_user(actor: User, user: User, *, email: str, name: str, role: Role,
                shopper_code: str | None = None, region_ids: Iterable[int] = ()) -> dict[str, list[object]]:
    """Change an account's details; return the changes as {field: [old, new]}.

    :raise AdminRuleError: when it would demote oneself or the last active admin.
    """
    if user.role == Role.admin and role != Role.admin:
        if user.id == actor.id:
            raise AdminRuleError("self_demote")
        if user.active and active_admin_count() <= 1:
            raise AdminRuleError("last_admin")
    new_regions = _regions(region_ids) if role == Role.manager else []
    before: dict[str, object] = {
        "email": user.email, "name": user.name, "role": user.role.value, "shopper_code": user.shopper_code,
        "regions": sorted(r.code for r in user.regions),
    }
    user.email = email.strip().lower()
    user.name = name
    user.role = role
    user.shopper_code = shopper_code or None
    user.regions = new_regions
    after = {
        "email": user.email, "name": user.name, "role": user.role.value, "shopper_code": user.shopper_code,
        "regions": sorted(r.code for r in new_regions),
    }
    changes = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
    if changes:
        record(actor, "user.update", user, changes=changes)
    return changes


def open_visit_count(user: User) -> int:
    """Return how many visits are still assigned to `user` and not yet submitted."""
    return db.session.scalar(
        select(func.count()).select_from(Visit)
        .where(Visit.shopper_id == user.id, Visit.status.in_(OPEN_VISIT_STATES))
    ) or 0


def deactivate_user(actor: User, user: User) -> None:
    """Block the account and end every session it has.

    :raise AdminRuleError: for oneself or the last active admin.
    """
    if user.id == actor.id:
        raise AdminRuleError("self_deactivate")
    if user.role == Role.admin and user.active and active_admin_count() <= 1:
        raise AdminRuleError("last_admin")
    if not user.active:
        return
    user.active = False
    user.revoke_sessions()
    record(actor, "user.deactivate", user, email=user.email)


def reactivate_user(actor: User, user: User) -> None:
    """Let a deactivated account sign in again (with its existing password)."""
    if user.active:
        return
    user.active = True
    record(actor, "user.reactivate", user, email=user.email)


def reset_password(actor: User, user: User, password: str) -> None:
    """Set a new password for `user`; their existing sessions end."""
    user.set_password(password)
    record(actor, "user.password_reset", user, email=user.email)


# --- regions ---------------------------------------------------------------------------------

def region_rows() -> list[tuple[Region, int, int, int]]:
    """Return (region, active locations, inactive locations, scoped managers) per region, by name."""
    loc_counts = (
        select(
            Location.region_id,
            func.count().filter(Location.active.is_(True)).label("active"),
            func.count().filter(Location.active.is_(False)).label("inactive"),
        ).group_by(Location.region_id).subquery()
    )
    mgr_counts = (
        select(manager_regions.c.region_id, func.count().label("managers"))
        .group_by(manager_regions.c.region_id).subquery()
    )
    rows = db.session.execute(
        select(
            Region,
            func.coalesce(loc_counts.c.active, 0),
            func.coalesce(loc_counts.c.inactive, 0),
            func.coalesce(mgr_counts.c.managers, 0),
        )
        .outerjoin(loc_counts, loc_counts.c.region_id == Region.id)
        .outerjoin(mgr_counts, mgr_counts.c.region_id == Region.id)
        .order_by(Region.name)
    )
    return [tuple(row) for row in rows]


def create_region(actor: User, *, code: str, name: str, timezone: str | None = None) -> Region:
    """Create a region (in DEFAULT_TIMEZONE unless `timezone`, an IANA name, is given)."""
    region = Region(code=code, name=name, timezone=timezone or None)
    db.session.add(region)
    db.session.flush()
    record(actor, "region.create", region, code=code, name=name, timezone=region.timezone)
    return region


def update_region(actor: User, region: Region, *, code: str, name: str, timezone: str) -> dict[str, list[str]]:
    """Rename, recode or move a region to another time zone; return the changes."""
    changes = {k: [getattr(region, k), v] for k, v in (("code", code), ("name", name), ("timezone", timezone))
               if getattr(region, k) != v}
    region.code, region.name, region.timezone = code, name, timezone
    if changes:
        record(actor, "region.update", region, changes=changes)
    return changes


# --- locations -------------------------------------------------------------------------------

class LocationFields(TypedDict, total=False):
    code: str
    name: str
    address: str
    region_id: int
    latitude: float | None
    longitude: float | None
    active: bool
    timezone: str | None


LOCATION_FIELDS = ("code", "name", "address", "region_id", "latitude", "longitude", "timezone", "active")


def location_query(*, region_id: int | None = None, active: bool | None = None, search: str = "") -> Select[Location]:
    """Return the select of locations matching the list filters, ordered by code."""
    query = select(Location).order_by(Location.code)
    if region_id is not None:
        query = query.where(Location.region_id == region_id)
    if active is not None:
        query = query.where(Location.active.is_(active))
    if search:
        like = f"%{search.lower()}%"
        query = query.where(or_(
            func.lower(Location.code).like(like), func.lower(Location.name).like(like),
            func.lower(Location.address).like(like),
        ))
    return query


def create_location(actor: User, **fields: Unpack[LocationFields]) -> Location:
    """Create a location from LOCATION_FIELDS."""
    location = Location(**fields)
    db.session.add(location)
    db.session.flush()
    record(actor, "location.create", location, code=location.code, name=location.name,
           region_id=location.region_id)
    return location


def update_location(actor: User, location: Location, **fields: Unpack[LocationFields]) -> dict[str, list[object]]:
    """Change a location; return the changes as {field: [old, new]}."""
    values: Mapping[str, object] = fields
    changes: dict[str, list[object]] = {}
    for key in LOCATION_FIELDS:
        if key in values and getattr(location, key) != values[key]:
            changes[key] = [getattr(location, key), values[key]]
            setattr(location, key, values[key])
    if "region_id" in changes:
        db.session.expire(location, ["region"])
    if changes:
        record(actor, "location.update", location, changes=changes)
    return changes


def set_location_active(actor: User, location: Location, active: bool) -> bool:
    """Deactivate or reactivate a location; return False when nothing changed."""
    if location.active == active:
        return False
    location.active = active
    record(actor, "location.reactivate" if active else "location.deactivate", location, code=location.code)
    return True


# --- audit log -------------------------------------------------------------------------------

def audit_query(*, action: str = "", user_id: int | None = None) -> Select[AuditLog]:
    """Return the select of audit entries, newest first, with their users loaded."""
    query = select(AuditLog).options(joinedload(AuditLog.user)).order_by(AuditLog.at.desc(), AuditLog.id.desc())
    if action:
        # "user." matches every user action; "user.create" only that one.
        query = query.where(AuditLog.action.startswith(action) if action.endswith(".") else AuditLog.action == action)
    if user_id is not None:
        query = query.where(AuditLog.user_id == user_id)
    return query


def audit_filter_choices() -> tuple[list[str], list[tuple[int, str]]]:
    """Return the actions and the (user id, name) pairs that occur in the audit log."""
    actions = list(db.session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)))
    users = db.session.execute(
        select(User.id, User.name).where(User.id.in_(select(AuditLog.user_id).distinct())).order_by(User.name)
    ).all()
    return actions, [(uid, name) for uid, name in users]


# --- webhooks --------------------------------------------------------------------------------

def webhook_query() -> Select[WebhookEndpoint]:
    """Return a select of every webhook endpoint, oldest first."""
    return select(WebhookEndpoint).order_by(WebhookEndpoint.id)


def last_deliveries(endpoint_ids: Iterable[int]) -> dict[int, WebhookDelivery]:
    """Return {endpoint id: its latest delivery attempt} in one query."""
    ids = sorted(endpoint_ids)
    if not ids:
        return {}
    latest = (select(func.max(WebhookDelivery.id)).where(WebhookDelivery.endpoint_id.in_(ids))
              .group_by(WebhookDelivery.endpoint_id))
    rows = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(latest)))
    return {row.endpoint_id: row for row in rows}


class WebhookValues(TypedDict):
    """What an admin sets of a webhook endpoint."""

    url: str
    description: str
    events: list[str]
    active: bool


def create_webhook(actor: User, **values: Unpack[WebhookValues]) -> WebhookEndpoint:
    """Register an endpoint with a new secret (not committed)."""
    url, description, events, active = values["url"], values["description"], values["events"], values["active"]
    endpoint = WebhookEndpoint(url=url, description=description, events=list(events), active=active,
                               secret=delivery.new_secret(), created_by_id=actor.id)
    db.session.add(endpoint)
    db.session.flush()
    record(actor, "webhook.create", endpoint, url=url, events=list(events), active=active)
    return endpoint


def update_webhook(actor: User, endpoint: WebhookEndpoint, **values: Unpack[WebhookValues]) -> dict[str, list[object]]:
    """Change an endpoint's address, description, events or state; return the changes (not committed)."""
    changes = {k: [getattr(endpoint, k), v] for k, v in values.items() if getattr(endpoint, k) != v}
    endpoint.url, endpoint.description = values["url"], values["description"]
    endpoint.events, endpoint.active = list(values["events"]), values["active"]
    if changes:
        record(actor, "webhook.update", endpoint, changes=changes)
    return changes


def replace_webhook_secret(actor: User, endpoint: WebhookEndpoint) -> None:
    """Give an endpoint a new secret: deliveries signed from now on use it (not committed)."""
    endpoint.secret = delivery.new_secret()
    record(actor, "webhook.secret", endpoint, url=endpoint.url)


def delete_webhook(actor: User, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint and its delivery log; the audit log keeps its address (not committed)."""
    record(actor, "webhook.delete", endpoint, url=endpoint.url, events=list(endpoint.events or []))
    # One statement for the log, however long (and SQLite may run without foreign keys' ON DELETE).
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    db.session.delete(endpoint)


def webhook_deliveries(endpoint: WebhookEndpoint) -> Select[WebhookDelivery]:
    """Return a select of an endpoint's delivery attempts, newest first."""
    return (select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
            .order_by(WebhookDelivery.id.desc()))
