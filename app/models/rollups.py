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


class RollupKey:
    """Where and when the sums of a rollup row belong (the start of its primary key, so first: sort_order)."""

    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True,
                                             sort_order=-1)
    #: "d": the row sums one day; "m": one calendar month, and `day` is its first day.
    grain: Mapped[str] = mapped_column(String(1), primary_key=True, sort_order=-1)
    day: Mapped[date] = mapped_column(Date, primary_key=True, sort_order=-1)
    checklist_version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id", ondelete="CASCADE"),
                                                      primary_key=True, sort_order=-1)
    status: Mapped[VisitStatus] = mapped_column(_enum(VisitStatus), primary_key=True, sort_order=-1)


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


class QuestionRollup(RollupKey, Model):
    """How often each scored question was asked and lost points, and when it last did."""

    __tablename__ = "question_rollups"
    __table_args__ = (
        Index("ix_question_rollups_status_day", "status", "grain", "day", "location_id", "checklist_version_id",
              "question_id", "asked", "failures", "critical_failures", "last_failed_at"),
    )

    question_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    asked: Mapped[int] = mapped_column(Integer)
    failures: Mapped[int] = mapped_column(Integer)
    critical_failures: Mapped[int] = mapped_column(Integer)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
