"""Regions and the locations (branches, stores) that get audited."""
import secrets

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model


class Region(Model):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))

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
    #: Unguessable slug of the public customer-survey link.
    survey_token: Mapped[str] = mapped_column(
        String(32), unique=True, default=lambda: secrets.token_urlsafe(12)
    )

    region: Mapped[Region] = relationship("Region", back_populates="locations", lazy="joined")

    @property
    def point(self) -> tuple[float, float] | None:
        """Return (latitude, longitude), or None when the location has no coordinates."""
        if self.latitude is None or self.longitude is None:
            return None
        return self.latitude, self.longitude

    def __repr__(self) -> str:
        return f"<Location {self.code}>"
