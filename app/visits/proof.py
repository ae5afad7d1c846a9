"""Proof of visit: how far the phone was from the location, and whether the timings are plausible.

Pure functions over plain values; `proof_of_visit(visit)` gathers them from a stored visit for the
review page. Warnings are lazy translatable strings, rendered in the reader's language.
"""
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_babel.speaklater import LazyString

from app.checklists.questions import clock

if TYPE_CHECKING:
    from app.models import Visit

EARTH_RADIUS_M = 6_371_008.8
#: A phone further than this from the location's coordinates gets a warning.
FAR_METRES = 300
#: Answering faster than this per question is not a real visit.
MIN_SECONDS_PER_ANSWER = 5
#: Whatever the number of questions, a store visit filled in under this is suspicious.
MIN_TOTAL_SECONDS = 120
#: Positions less precise than this prove little.
POOR_ACCURACY_M = 1000

#: (latitude, longitude); a stored position may lack either.
Point = tuple[float | None, float | None]


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance in metres between two WGS84 points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def distance_m(point: Point | None, target: Point | None) -> float | None:
    """Return the distance between two (lat, lon) points, or None when either is missing."""
    if point is None or target is None:
        return None
    (lat1, lon1), (lat2, lon2) = point, target
    if lat1 is None or lon1 is None or lat2 is None or lon2 is None:
        return None
    return haversine_m(lat1, lon1, lat2, lon2)


@dataclass
class ProofReport:
    """What the manager sees about where and when a visit was filled in."""

    geolocation: str | None
    start_distance_m: float | None
    submit_distance_m: float | None
    start_accuracy_m: float | None
    submit_accuracy_m: float | None
    duration_s: float | None
    answered: int
    seconds_per_answer: float | None
    answering_span_s: float | None
    photo_distances_m: list[float] = field(default_factory=list)
    location_has_coordinates: bool = False
    warnings: list[LazyString] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return True when nothing looks wrong."""
        return not self.warnings


def is_far(distance: float | None, accuracy: float | None, limit: float) -> bool:
    """Return True when a position `distance` metres away (± `accuracy`) is beyond `limit` from the location."""
    # A fix of ±50 m that lands 320 m away is still plausibly at the door: allow the stated error.
    return distance is not None and distance - min(accuracy or 0, limit) > limit


def too_fast(duration: float | None, answered: int, min_seconds_per_answer: float = MIN_SECONDS_PER_ANSWER,
             min_total_s: float = MIN_TOTAL_SECONDS) -> bool:
    """Return True when `answered` answers in `duration` seconds are too fast for a real visit."""
    if duration is None or duration < 0 or not answered:
        return False
    return duration / answered < min_seconds_per_answer or duration < min_total_s


def assess(*, geolocation: str | None, location: Point | None,
           start: Point | None = None, start_accuracy: float | None = None,
           submit: Point | None = None, submit_accuracy: float | None = None,
           started_at: datetime | None = None, submitted_at: datetime | None = None,
           answer_times: list[datetime] | None = None, answered: int = 0,
           photo_positions: list[Point] | None = None,
           far_m: float = FAR_METRES, min_seconds_per_answer: float = MIN_SECONDS_PER_ANSWER,
           min_total_s: float = MIN_TOTAL_SECONDS) -> ProofReport:
    """Return the proof report of a visit from plain values (positions as (lat, lon))."""
    has_coordinates = location is not None and None not in location
    start_d, submit_d = distance_m(start, location), distance_m(submit, location)
    duration = (submitted_at - started_at).total_seconds() if started_at and submitted_at else None
    per_answer = duration / answered if duration is not None and answered else None
    times = sorted(answer_times or [])
    span = (times[-1] - times[0]).total_seconds() if len(times) >= 2 else None
    photo_d = [d for d in (distance_m(p, location) for p in photo_positions or []) if d is not None]
    warnings: list[LazyString] = []

    if geolocation != "granted" and start is None and submit is None:
        warnings.append(_l("The shopper did not share the phone's position: the visit cannot be placed."))
    elif not has_coordinates:
        warnings.append(_l("The location has no coordinates, so the distance cannot be checked."))
    # Whole sentences per moment: "start"/"submission" cannot be pasted into one sentence in every language.
    if is_far(start_d, start_accuracy, far_m):
        warnings.append(_l("At the start the phone was %(distance)s m from the location.",
                           distance=f"{start_d:,.0f}"))
    if start_accuracy is not None and start_accuracy > POOR_ACCURACY_M:
        warnings.append(_l("The start position is imprecise (± %(accuracy)s m).", accuracy=f"{start_accuracy:,.0f}"))
    if is_far(submit_d, submit_accuracy, far_m):
        warnings.append(_l("At submission the phone was %(distance)s m from the location.",
                           distance=f"{submit_d:,.0f}"))
    if submit_accuracy is not None and submit_accuracy > POOR_ACCURACY_M:
        warnings.append(_l("The submission position is imprecise (± %(accuracy)s m).",
                           accuracy=f"{submit_accuracy:,.0f}"))
    far_photos = len([d for d in photo_d if d > far_m])
    if far_photos:
        warnings.append(LazyString(lambda: ngettext(
            "%(num)d photo was taken more than %(limit)s m from the location.",
            "%(num)d photos were taken more than %(limit)s m from the location.", far_photos, limit=int(far_m))))
    if duration is not None and duration < 0:
        warnings.append(_l("The visit was submitted before it was started: the phone's clock is wrong."))
    elif duration is not None and too_fast(duration, answered, min_seconds_per_answer, min_total_s):
        warnings.append(LazyString(lambda: ngettext(
            "%(num)d question was answered in %(time)s: too fast for a real visit.",
            "%(num)d questions were answered in %(time)s: too fast for a real visit.", answered,
            time=clock(duration))))
    if span is not None and answered >= 10 and span < answered * min_seconds_per_answer / 2:
        warnings.append(_l("All answers were given within %(time)s.", time=clock(span)))
    if started_at and times and times[0] < started_at and (started_at - times[0]).total_seconds() > 60:
        warnings.append(_l("Some answers were given before the visit started."))

    return ProofReport(
        geolocation=geolocation, start_distance_m=start_d, submit_distance_m=submit_d,
        start_accuracy_m=start_accuracy, submit_accuracy_m=submit_accuracy, duration_s=duration,
        answered=answered, seconds_per_answer=per_answer, answering_span_s=span,
        photo_distances_m=photo_d, location_has_coordinates=has_coordinates, warnings=warnings,
    )


def proof_of_visit(visit: "Visit") -> ProofReport:
    """Return the proof report of a stored visit (uses its answers' first-answer times and photos)."""
    loc = visit.location
    answered = [a for a in visit.answers if a.status in ("answered", "na")]
    return assess(
        geolocation=visit.geolocation,
        location=(loc.latitude, loc.longitude) if loc.latitude is not None and loc.longitude is not None else None,
        start=(visit.start_latitude, visit.start_longitude) if visit.start_latitude is not None else None,
        start_accuracy=visit.start_accuracy,
        submit=(visit.submit_latitude, visit.submit_longitude) if visit.submit_latitude is not None else None,
        submit_accuracy=visit.submit_accuracy,
        started_at=visit.started_at, submitted_at=visit.submitted_at,
        answer_times=[a.first_answered_at for a in answered if a.first_answered_at],
        answered=len(answered),
        photo_positions=[(p.latitude, p.longitude) for p in visit.photos if p.latitude is not None],
    )
