"""Visits: planned, filled on a phone, submitted, reviewed; with answers, photos and scores."""
import enum
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.checklists.bounds import GRADE_LENGTH, ID_LENGTH
from app.checklists.schema import Checklist
from app.extensions import Model
from app.models.types import JSONType, UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.checklists import ChecklistVersion
    from app.models.locations import Location
    from app.models.users import User


class VisitStatus(str, enum.Enum):
    planned = "planned"
    in_progress = "in_progress"
    submitted = "submitted"
    returned = "returned"  # sent back to the shopper for correction
    approved = "approved"
    voided = "voided"


#: The shopper may still change the visit. Every transition is in app/visits/lifecycle.py.
OPEN_STATES = frozenset({VisitStatus.planned, VisitStatus.in_progress, VisitStatus.returned})
#: Handed in by the shopper and not sent back: what review works on.
HANDED_IN_STATES = frozenset({VisitStatus.submitted, VisitStatus.approved})


def _enum(cls: type[enum.Enum], length: int = 16) -> Enum:
    return Enum(cls, native_enum=False, length=length, validate_strings=True)


class Visit(Model):
    __tablename__ = "visits"
    __table_args__ = (
        CheckConstraint("window_start <= window_end", name="window_order"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_range"),
        CheckConstraint("risk_score IS NULL OR (risk_score >= 0 AND risk_score <= 100)", name="risk_score_range"),
        Index("ix_visits_location_visited", "location_id", "visited_at"),
        # The review queue: submitted visits, riskiest first.
        Index("ix_visits_status_risk", "status", "risk_score"),
        # Repeat visits: one shopper's visits of one location in a period.
        Index("ix_visits_shopper_location_visited", "shopper_id", "location_id", "visited_at"),
        # Covers the dashboards' visit filters and figures, so period aggregates read only this index; the
        # shopper last for the shopper calibration's (location, shopper, score).
        Index("ix_visits_status_visited", "status", "visited_at", "location_id", "checklist_version_id", "score",
              "shopper_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    checklist_version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"), index=True)
    shopper_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[VisitStatus] = mapped_column(_enum(VisitStatus), default=VisitStatus.planned)
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date, index=True)
    #: The scenario: what to buy or ask, who to play.
    instructions: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the visit took place (start of the visit, else submission); dashboards filter on it.
    visited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    review_comment: Mapped[str | None] = mapped_column(Text)
    #: The manager who has taken the visit for review (None: anyone's); a manager of its region.
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: The questions the reviewer marked when returning the visit, {question id: what to correct}; like
    #: review_comment, the current return's only (each return's marks stay in its VisitEvent.snapshot). Read them
    #: in the checklist's order (form_page.marked_questions): PostgreSQL's JSONB keeps no key order.
    review_marks: Mapped[dict[str, str] | None] = mapped_column(JSONType)
    void_reason: Mapped[str | None] = mapped_column(Text)

    #: Work in progress saved from the phone: {"answers": {...}, "answer_times": {...}}.
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    draft_saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Generated on the phone for each submission; the unique constraint makes retries idempotent.
    client_submission_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: sha256 of the canonical submitted payload, to tell an identical retry from a conflict.
    submission_hash: Mapped[str | None] = mapped_column(String(64))

    score: Mapped[float | None] = mapped_column(index=True)
    grade: Mapped[str | None] = mapped_column(String(GRADE_LENGTH))
    critical_failed: Mapped[bool] = mapped_column(default=False)

    #: Proof of visit: the phone's position when the visit started and when it was submitted.
    start_latitude: Mapped[float | None]
    start_longitude: Mapped[float | None]
    start_accuracy: Mapped[float | None]
    submit_latitude: Mapped[float | None]
    submit_longitude: Mapped[float | None]
    submit_accuracy: Mapped[float | None]
    #: "granted", "denied" or "unavailable": what the phone said when asked for its position.
    geolocation: Mapped[str | None] = mapped_column(String(16))

    #: How likely the visit is not genuine, 0-100, from app/visits/risk.py; None until first submitted.
    risk_score: Mapped[int | None]
    #: Why: [{"code": ..., "points": ..., **params}], worded for people by app/labels.py.
    risk_reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    risk_computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    location: Mapped["Location"] = relationship("Location", lazy="joined")
    checklist_version: Mapped["ChecklistVersion"] = relationship("ChecklistVersion", lazy="joined")
    shopper: Mapped["User"] = relationship("User", foreign_keys=[shopper_id], lazy="joined")
    reviewed_by: Mapped["User | None"] = relationship("User", foreign_keys=[reviewed_by_id])
    reviewer: Mapped["User | None"] = relationship("User", foreign_keys=[reviewer_id])
    answers: Mapped[list["Answer"]] = relationship(
        "Answer", back_populates="visit", cascade="all, delete-orphan", order_by="Answer.id"
    )
    section_scores: Mapped[list["VisitSectionScore"]] = relationship(
        "VisitSectionScore", back_populates="visit", cascade="all, delete-orphan"
    )
    photos: Mapped[list["Photo"]] = relationship(
        "Photo", back_populates="visit", cascade="all, delete-orphan", order_by="Photo.id"
    )
    events: Mapped[list["VisitEvent"]] = relationship(
        "VisitEvent", back_populates="visit", cascade="all, delete-orphan", order_by="VisitEvent.at"
    )

    @property
    def checklist(self) -> Checklist:
        """Return the parsed checklist this visit is filled with."""
        return self.checklist_version.checklist

    @property
    def is_open(self) -> bool:
        """Return True while the shopper may still change the visit."""
        return self.status in OPEN_STATES

    def __repr__(self) -> str:
        return f"<Visit {self.id} {self.status.value}>"


class VisitSectionScore(Model):
    """A section's score for one visit, stored at submission so dashboards aggregate in SQL."""

    __tablename__ = "visit_section_scores"
    __table_args__ = (
        UniqueConstraint("visit_id", "section_id", name="uq_visit_section_scores_visit_section"),
        # Covering index for period aggregates: a range scan on visited_at, no table reads.
        Index("ix_visit_section_scores_visited", "visited_at", "visit_id", "section_id", "score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    section_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    score: Mapped[float | None]
    points: Mapped[float] = mapped_column(default=0)
    max_points: Mapped[float] = mapped_column(default=0)
    weight: Mapped[float] = mapped_column(default=1)
    #: Copy of Visit.visited_at written by store_result, so period aggregates range-scan this table.
    visited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    visit: Mapped[Visit] = relationship("Visit", back_populates="section_scores")


class Answer(Model):
    """One question's answer in a submitted visit, with its share of the score."""

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("visit_id", "question_id", name="uq_answers_visit_question"),
        # Covering index for "most failed questions": a range scan on visited_at, no table reads.
        Index("ix_answers_visited", "visited_at", "visit_id", "question_id", "status", "max_points", "fraction",
              "critical_failed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    section_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    #: The answer as the contract defines it ("yes", 4, "opt", 95, "text", [photo ids], "na").
    value: Mapped[object | None] = mapped_column(JSONType)
    comment: Mapped[str | None] = mapped_column(Text)
    #: 64-bit hash of the normalised comment (app/visits/risk.py), to find a copied comment network-wide.
    comment_hash: Mapped[int | None] = mapped_column(BigInteger, index=True)
    #: answered | na | hidden | unanswered
    status: Mapped[str] = mapped_column(String(12))
    fraction: Mapped[float | None]
    points: Mapped[float] = mapped_column(default=0)
    max_points: Mapped[float] = mapped_column(default=0)
    critical_failed: Mapped[bool] = mapped_column(default=False)
    first_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Copy of Visit.visited_at written by store_result, so period aggregates range-scan this table.
    visited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    visit: Mapped[Visit] = relationship("Visit", back_populates="answers")


class Photo(Model):
    """Photo evidence, re-encoded without any metadata; the GPS position and time are kept here.

    An upload is stored as it came, "pending", until a job has decoded it; then it is "ready" (a
    clean JPEG and thumbnail, the original deleted) or "rejected" with a problem code.
    """

    __tablename__ = "photos"
    __table_args__ = (
        UniqueConstraint("visit_id", "client_photo_id", name="uq_photos_visit_client"),
        # Each photo of a question takes one of its max_photos places: two uploads at once cannot
        # both take the last one, so the database itself keeps a question within its limit.
        UniqueConstraint("visit_id", "question_id", "slot", name="uq_photos_visit_question_slot"),
        CheckConstraint("slot >= 0", name="slot_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public id used in answers and URLs.
    token: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    #: The photo's place among its question's photos, 0 .. max_photos - 1 (see __table_args__).
    slot: Mapped[int] = mapped_column(default=0)
    #: Generated on the phone, so that a retried upload does not store the photo twice.
    client_photo_id: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(40), default="image/jpeg")
    #: pending | ready | rejected
    status: Mapped[str] = mapped_column(String(10), default="ready", server_default="ready")
    #: Why a rejected photo was refused: a code of app.visits.photos.PROBLEMS.
    problem: Mapped[str | None] = mapped_column(String(20))
    #: Of the stored copy; unknown while pending.
    width: Mapped[int | None]
    height: Mapped[int | None]
    byte_size: Mapped[int | None]
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    #: Where latitude/longitude came from: "exif" (the camera) or "device" (the phone's position at upload).
    geo_source: Mapped[str | None] = mapped_column(String(10))
    #: Where taken_at came from: "exif" (the camera's clock) or "device" (the phone's clock when attached).
    time_source: Mapped[str | None] = mapped_column(String(10))
    #: The camera's UTC offset at capture as it recorded it ("+03:00"), so its local time can be shown.
    taken_offset: Mapped[str | None] = mapped_column(String(6))
    #: How the picture reached the form: "camera" (taken just then), "gallery" (an older file) or "unknown".
    source: Mapped[str] = mapped_column(String(10), default="unknown", server_default="unknown")
    #: Perceptual hash of the picture (64 bits, stored signed), known once the photo is ready.
    phash: Mapped[int | None] = mapped_column(BigInteger)
    #: The hash's four 16-bit bands, each indexed: a hash within Hamming distance 3 of another shares
    #: at least one band with it exactly, so near-duplicates are found by four index look-ups.
    phash_band0: Mapped[int | None] = mapped_column(index=True)
    phash_band1: Mapped[int | None] = mapped_column(index=True)
    phash_band2: Mapped[int | None] = mapped_column(index=True)
    phash_band3: Mapped[int | None] = mapped_column(index=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    visit: Mapped[Visit] = relationship("Visit", back_populates="photos")

    @property
    def ready(self) -> bool:
        return self.status == "ready"


class VisitEvent(Model):
    """The history of a visit: assigned, submitted, returned, resubmitted, approved, voided."""

    __tablename__ = "visit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)
    #: For submissions: the answers and score as they were, so corrections keep their history.
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    visit: Mapped[Visit] = relationship("Visit", back_populates="events")
    user: Mapped["User | None"] = relationship("User")


class ActionStatus(str, enum.Enum):
    open = "open"
    done = "done"
    verified = "verified"


class CorrectiveAction(Model):
    """What a location must fix after a failed question, who owns it and by when."""

    __tablename__ = "corrective_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    question_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    description: Mapped[str] = mapped_column(Text)
    owner_name: Mapped[str] = mapped_column(String(120))
    owner_email: Mapped[str] = mapped_column(String(254))
    due_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[ActionStatus] = mapped_column(_enum(ActionStatus), default=ActionStatus.open, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    visit: Mapped[Visit] = relationship("Visit")
    location: Mapped["Location"] = relationship("Location")


class ReviewComment(Model):
    """A reviewer's reusable comment text."""

    __tablename__ = "review_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
