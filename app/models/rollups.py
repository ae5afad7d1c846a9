"""Rollups: the sums every figure is built from, per location x checklist version x visit state x day,
and again per month (grain "m", day = the 1st), so a period reads whole months where it can.

Maintained with the facts they sum, in the same transaction (app.analytics.rollups), and rebuilt
from the facts by `flask figures rebuild-rollups`; figures read these, so a page costs the same
for one year of history as for five.
"""
from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.checklists.bounds import ID_LENGTH
from app.extensions import Model
from app.models.types import UTCDateTime
from app.models.visits import VisitStatus, _enum


class RollupWhen:
    """When and for what the sums of a rollup row count (after where: the start of its primary key)."""

    #: "d": the row sums one day; "m": one calendar month, and `day` is its first day.
    grain: Mapped[str] = mapped_column(String(1), primary_key=True, sort_order=-1)
    day: Mapped[date] = mapped_column(Date, primary_key=True, sort_order=-1)
    checklist_version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id", ondelete="CASCADE"),
                                                      primary_key=True, sort_order=-1)
    status: Mapped[VisitStatus] = mapped_column(_enum(VisitStatus), primary_key=True, sort_order=-1)


class RollupKey(RollupWhen):
    """A location's rollup row (the location first in its primary key)."""

    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True,
                                             sort_order=-2)


class ScoreRollup(RollupKey, Model):
    """Count, sum and sum of squares of the visit scores (part "") and of each section's scores."""

    __tablename__ = "score_rollups"
    __table_args__ = (
        Index("ix_score_rollups_status_day", "status", "grain", "day", "part", "location_id",
              "checklist_version_id", "n", "total", "squares"),
    )

    #: "" for the visit score, else a section id.
    part: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    total: Mapped[float] = mapped_column(Float)
    squares: Mapped[float] = mapped_column(Float)


class QuestionSums:
    """How often a scored question was asked and lost points, and when it last did."""

    question_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    asked: Mapped[int] = mapped_column(Integer)
    failures: Mapped[int] = mapped_column(Integer)
    critical_failures: Mapped[int] = mapped_column(Integer)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class QuestionRollup(RollupKey, QuestionSums, Model):
    """A question's failures at a location."""

    __tablename__ = "question_rollups"
    __table_args__ = (
        Index("ix_question_rollups_status_day", "status", "grain", "day", "location_id", "checklist_version_id",
              "question_id", "asked", "failures", "critical_failures", "last_failed_at"),
    )


class RegionQuestionRollup(RollupWhen, QuestionSums, Model):
    """A question's failures over a region's locations: the question rollups summed per region.

    A network's most-failed questions would otherwise sum a row per location and question (as many
    rows as answers when locations are visited every few days); this sums one per region.
    """

    __tablename__ = "region_question_rollups"
    __table_args__ = (
        Index("ix_region_question_rollups_status_day", "status", "grain", "day", "region_id",
              "checklist_version_id", "question_id", "asked", "failures", "critical_failures", "last_failed_at"),
    )

    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True,
                                           sort_order=-2)
