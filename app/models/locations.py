"""Regions and the locations (branches, stores) that get audited, each in its own time zone."""
import secrets
import time
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model

#: Longest IANA zone name stored ("America/Argentina/ComodRivadavia" is 32 characters).
TIMEZONE_LENGTH = 64


def default_timezone() -> str:
    """Return the zone of a region created without one: config DEFAULT_TIMEZONE (UTC outside the app)."""
    return current_app.config["DEFAULT_TIMEZONE"] if has_app_context() else "UTC"


def new_figures_version() -> int:
    """Return a data version no row had before: the clock in microseconds (app.analytics.cache)."""
    return time.time_ns() // 1000


class Region(Model):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    #: IANA time zone of the region's locations ("Europe/Moscow"); a location may set its own.
    timezone: Mapped[str] = mapped_column(String(TIMEZONE_LENGTH), default=default_timezone)
    #: Changes in the same transaction as anything the region's figures are made of (its rollups, its
    #: locations' names, ...): the cache of figures keys on it, so it never serves a stale figure.
    figures_version: Mapped[int] = mapped_column(BigInteger, default=new_figures_version, server_default="0")

    locations: Mapped[list["Location"]] = relationship("Location", back_populates="region", order_by="Location.code")

    def __repr__(self) -> str:
        return f"<Region {self.code}>"


class Location(Model):
    __tablename__ = "locations"
    __table_args__ = (
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    address: Mapped[str] = mapped_column(String(300), default="")
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True, index=True)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    #: IANA time zone when it differs from the region's; None: the region's zone.
    timezone: Mapped[str | None] = mapped_column(String(TIMEZONE_LENGTH))
    #: Unguessable slug of the public customer-survey link.
    survey_token: Mapped[str] = mapped_column(
        String(32), unique=True, default=lambda: secrets.token_urlsafe(12)
    )

    region: Mapped[Region] = relationship("Region", back_populates="locations", lazy="joined")

    @property
    def timezone_name(self) -> str:
        """Return the IANA name of the zone the location keeps its clocks in (its own, else its region's)."""
        return self.timezone or self.region.timezone

    @property
    def zone(self) -> ZoneInfo:
        """Return the location's effective time zone: windows, "today" and every shown time use it."""
        return ZoneInfo(self.timezone_name)

    @property
    def point(self) -> tuple[float, float] | None:
        """Return (latitude, longitude), or None when the location has no coordinates."""
        if self.latitude is None or self.longitude is None:
            return None
        return self.latitude, self.longitude

    def __repr__(self) -> str:
        return f"<Location {self.code}>"
