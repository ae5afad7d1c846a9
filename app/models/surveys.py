"""Customer survey answers (NPS, CSAT, CES) per location."""
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.checklists.bounds import ID_LENGTH
from app.extensions import Model
from app.models.types import JSONType, UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.locations import Location


class SurveyResponse(Model):
    __tablename__ = "survey_responses"
    __table_args__ = (
        CheckConstraint("nps IS NULL OR (nps BETWEEN 0 AND 10)", name="nps_range"),
        CheckConstraint("csat IS NULL OR (csat BETWEEN 1 AND 5)", name="csat_range"),
        CheckConstraint("ces IS NULL OR (ces BETWEEN 1 AND 7)", name="ces_range"),
        Index("ix_survey_responses_location_submitted", "location_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    survey_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    #: Version of the survey YAML the customer answered (None for imported answers).
    survey_version: Mapped[int | None]
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    nps: Mapped[int | None]
    csat: Mapped[int | None]
    ces: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)
    #: Answers to the survey's extra questions.
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    language: Mapped[str | None] = mapped_column(String(8))
    #: "web" or "import"
    source: Mapped[str] = mapped_column(String(10), default="web")
    #: Kept but left out of the metrics unless asked for.
    flagged: Mapped[bool] = mapped_column(default=False, index=True)
    flag_reason: Mapped[str | None] = mapped_column(String(200))
    #: Hash of device and answers, to recognise a repeated submission.
    fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)
    #: HMAC of the device cookie and of the IP address with the secret key: never the raw values.
    device_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    #: Seconds between showing the form and sending it (None when unknown or imported).
    fill_seconds: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    location: Mapped["Location"] = relationship("Location")
