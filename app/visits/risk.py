"""The risk of a visit: how likely it is not genuine, 0-100, with its reasons.

Agencies reject visits for reused photos, copied comments and check-ins far from the store. Each
signal below gives points and a reason, a code with parameters (worded for people by
`reason_text`); the score is the sum of the points of each signal that fired, at most 100.

    start_far, submit_far     the phone far from the location at start / at submission
    photo_before_start        a photo captured (or attached) before the visit started
    photo_far                 a photo taken far from the location
    photo_from_gallery        a photo chosen from the gallery with no capture time of its own
    photo_duplicate           the same or a near-identical photo in another visit, network-wide
    comment_copied            a comment identical (network-wide) or near-identical (the same shopper's and the
                              same location's recent visits) to another visit's
    too_fast                  too few seconds per answer
    outside_window            visited before or after the visit's window
    repeat_visits             the same shopper at the same location too often

`refresh(visit)` computes and stores the risk (no commit); it runs inside the submission and again
when a photo of a handed-in visit gets its hash. The other visits a reason points to are refreshed by
`refresh_related()` after the caller's commit, in transactions of their own: inside a submission, two
submissions sharing a photo would each lock the other's visit row and deadlock at month-end.
Thresholds and points are settings (app/config.py, docs/risk.md). Nothing here knows of requests.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_date
from flask import current_app
from flask_babel import format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.exc import OperationalError

from app.access import can_see_visit
from app.extensions import db
from app.localtime import days_outside, visit_day
from app.models import Answer, Photo, User, Visit
from app.models.types import utcnow
from app.visits import proof

#: Every reason code, in the order reasons are listed.
CODES = ("photo_duplicate", "comment_copied", "start_far", "submit_far", "photo_before_start", "photo_far",
         "photo_from_gallery", "too_fast", "outside_window", "repeat_visits")
#: Four 16-bit bands: two hashes within Hamming distance 3 share at least one band (pigeonhole).
BANDS, BAND_BITS = 4, 16
MAX_HAMMING = BANDS - 1
#: Bounds of the look-ups, so that a submission stays fast whatever the size of the network.
MAX_PHOTO_CANDIDATES = 500
MAX_COMMENTS_COMPARED = 500
REPEAT_DAYS = 90


@dataclass(frozen=True)
class RiskSettings:
    """Thresholds and points of the signals (the RISK_* settings of app/config.py)."""

    far_m: float
    photo_early_minutes: float
    photo_hamming: int
    comment_min_chars: int
    comment_similarity: float
    comment_days: int
    min_seconds_per_answer: float
    min_total_seconds: float
    repeat_visits_per_90_days: int
    points: Mapping[str, int]
    high: int
    medium: int

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> RiskSettings:
        """Return the settings of an app's config; None thresholds mean the proof-of-visit rule's own."""
        far = config.get("RISK_FAR_METRES")
        per_answer = config.get("RISK_MIN_SECONDS_PER_ANSWER")
        total = config.get("RISK_MIN_TOTAL_SECONDS")
        hamming = int(config["RISK_PHOTO_HAMMING"])
        if not 0 <= hamming <= MAX_HAMMING:
            raise ValueError(f"RISK_PHOTO_HAMMING must be 0..{MAX_HAMMING}: the band index finds no more")
        points = dict(config["RISK_POINTS"])
        missing = set(CODES) - set(points)
        if missing:
            raise ValueError(f"RISK_POINTS lacks {', '.join(sorted(missing))}")
        return cls(
            far_m=float(far if far is not None else proof.FAR_METRES),
            photo_early_minutes=float(config["RISK_PHOTO_EARLY_MINUTES"]), photo_hamming=hamming,
            comment_min_chars=int(config["RISK_COMMENT_MIN_CHARS"]),
            comment_similarity=float(config["RISK_COMMENT_SIMILARITY"]),
            comment_days=int(config["RISK_COMMENT_DAYS"]),
            min_seconds_per_answer=float(per_answer if per_answer is not None else proof.MIN_SECONDS_PER_ANSWER),
            min_total_seconds=float(total if total is not None else proof.MIN_TOTAL_SECONDS),
            repeat_visits_per_90_days=int(config["RISK_REPEAT_VISITS_PER_90_DAYS"]),
            points={code: int(points[code]) for code in CODES},
            high=int(config["RISK_HIGH"]), medium=int(config["RISK_MEDIUM"]),
        )

    @classmethod
    def current(cls) -> RiskSettings:
        """Return the settings of the running app."""
        return cls.of(current_app.config)


# -- photo hashes ---------------------------------------------------------------------------------


def signed64(value: int) -> int:
    """Return an unsigned 64-bit value as the signed integer a BIGINT column stores."""
    return value - (1 << 64) if value >= 1 << 63 else value


def bands(value: int) -> tuple[int, ...]:
    """Return the four 16-bit bands of a 64-bit hash (signed or not), lowest first."""
    unsigned = value & ((1 << 64) - 1)
    return tuple((unsigned >> (BAND_BITS * i)) & 0xFFFF for i in range(BANDS))


def hamming(a: int, b: int) -> int:
    """Return how many of the 64 bits differ between two hashes."""
    return ((a ^ b) & ((1 << 64) - 1)).bit_count()


def set_photo_hash(photo: Photo, value: int | None) -> None:
    """Store a photo's perceptual hash and its bands (None clears them)."""
    if value is None:
        photo.phash = photo.phash_band0 = photo.phash_band1 = photo.phash_band2 = photo.phash_band3 = None
        return
    photo.phash = signed64(value)
    photo.phash_band0, photo.phash_band1, photo.phash_band2, photo.phash_band3 = bands(value)


def near_photos(hashes: Iterable[int], max_distance: int, *, exclude_visit: int | None = None,
                limit: int = MAX_PHOTO_CANDIDATES) -> list[tuple[int, int, int, int]]:
    """Return (hash, photo id, visit id, distance) of handed-in visits' photos within `max_distance` of a hash.

    Four indexed equality look-ups per hash (one per band), then the exact distance in Python.
    """
    wanted = list(dict.fromkeys(hashes))
    if not wanted:
        return []
    split = [bands(h) for h in wanted]
    columns = (Photo.phash_band0, Photo.phash_band1, Photo.phash_band2, Photo.phash_band3)
    stmt = (select(Photo.id, Photo.visit_id, Photo.phash).join(Visit, Visit.id == Photo.visit_id)
            .where(or_(*(column.in_(sorted({b[i] for b in split})) for i, column in enumerate(columns))),
                   Visit.submitted_at.is_not(None))
            .limit(limit))
    if exclude_visit is not None:
        stmt = stmt.where(Photo.visit_id != exclude_visit)
    found: list[tuple[int, int, int, int]] = []
    for photo_id, visit_id, other in db.session.execute(stmt):
        if other is None:
            continue
        for value in wanted:
            distance = hamming(value, other)
            if distance <= max_distance:
                found.append((value, photo_id, visit_id, distance))
    return found


# -- comments -------------------------------------------------------------------------------------

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str | None) -> str:
    """Return a comment as compared: case, accents, ё/е, punctuation and spacing ignored."""
    folded = unicodedata.normalize("NFKD", (text or "").casefold().replace("ё", "е"))
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _NOT_WORD.sub(" ", folded).strip()


def comment_hash(text: str | None) -> int | None:
    """Return the 64-bit hash of a normalised comment (signed, for a BIGINT column), or None when empty."""
    norm = normalise(text)
    if not norm:
        return None
    return signed64(int.from_bytes(hashlib.sha256(norm.encode()).digest()[:8], "big"))


def trigrams(norm: str) -> frozenset[str]:
    """Return the character trigrams of a normalised text, its ends padded."""
    padded = f"  {norm} "
    return frozenset(padded[i:i + 3] for i in range(len(padded) - 2))


def jaccard(ta: frozenset[str], tb: frozenset[str]) -> float:
    """Return the Jaccard similarity of two sets, 0..1."""
    return len(ta & tb) / len(ta | tb) if ta and tb else 0.0


def similarity(a: str, b: str) -> float:
    """Return the Jaccard similarity of two normalised texts' trigrams, 0..1."""
    return jaccard(trigrams(a), trigrams(b))


# -- the rules --------------------------------------------------------------------------------------


def _reason(code: str, **params: Any) -> dict[str, Any]:
    return {"code": code, **params}


def _ordered_photos(visit: Visit) -> list[Photo]:
    """Return the visit's usable photos in checklist order, as the review page shows them."""
    order = {q.id: n for n, q in enumerate(visit.checklist.questions)}
    photos = [p for p in visit.photos if p.status != "rejected"]
    return sorted(photos, key=lambda p: (order.get(p.question_id, len(order)), p.slot, p.id))


def _position_reasons(visit: Visit, settings: RiskSettings) -> list[dict[str, Any]]:
    loc = visit.location.point
    reasons = []
    for code, lat, lon, accuracy in (
            ("start_far", visit.start_latitude, visit.start_longitude, visit.start_accuracy),
            ("submit_far", visit.submit_latitude, visit.submit_longitude, visit.submit_accuracy)):
        distance = proof.distance_m((lat, lon), loc)
        if proof.is_far(distance, accuracy, settings.far_m):
            reasons.append(_reason(code, distance_m=round(distance or 0)))
    return reasons


def _photo_reasons(visit: Visit, photos: list[Photo], settings: RiskSettings) -> list[dict[str, Any]]:
    loc = visit.location.point
    reasons = []
    early = timedelta(minutes=settings.photo_early_minutes)
    for number, photo in enumerate(photos, 1):
        if photo.taken_at is not None and visit.started_at is not None and photo.taken_at < visit.started_at - early:
            minutes = (visit.started_at - photo.taken_at).total_seconds() / 60
            reasons.append(_reason("photo_before_start", photo=number, question=photo.question_id,
                                   minutes=round(minutes), clock=photo.time_source or "device"))
        elif photo.source == "gallery" and photo.time_source != "exif":
            reasons.append(_reason("photo_from_gallery", photo=number, question=photo.question_id))
        distance = proof.distance_m((photo.latitude, photo.longitude), loc)
        if distance is not None and distance > settings.far_m:
            reasons.append(_reason("photo_far", photo=number, question=photo.question_id, distance_m=round(distance)))
    return reasons


def _duplicate_reasons(visit: Visit, photos: list[Photo], settings: RiskSettings) -> list[dict[str, Any]]:
    hashed = [(n, p) for n, p in enumerate(photos, 1) if p.phash is not None]
    if not hashed:
        return []
    matches = near_photos([p.phash for _n, p in hashed if p.phash is not None], settings.photo_hamming,
                          exclude_visit=visit.id)
    reasons = []
    for number, photo in hashed:
        best: dict[int, int] = {}  # other visit -> the smallest distance to one of its photos
        for value, _photo_id, other_visit, distance in matches:
            if value == photo.phash and distance < best.get(other_visit, 65):
                best[other_visit] = distance
        for other_visit, distance in sorted(best.items(), key=lambda item: (item[1], item[0]))[:3]:
            reasons.append(_reason("photo_duplicate", photo=number, question=photo.question_id,
                                   visit=other_visit, distance=distance))
    return reasons


@dataclass(frozen=True)
class AnswerFacts:
    """What the rules read of a stored answer."""

    question_id: str
    status: str
    comment: str | None


def _comment_reasons(visit: Visit, answers: list[AnswerFacts], settings: RiskSettings) -> list[dict[str, Any]]:
    """Exact copies network-wide (hash index); near copies among the same shopper's and location's recent visits."""
    own = []
    for answer in answers:
        norm = normalise(answer.comment)
        if len(norm) >= settings.comment_min_chars:
            own.append((answer.question_id, norm, comment_hash(norm)))
    if not own:
        return []
    found: dict[str, tuple[int, int]] = {}  # question -> (other visit, similarity %)
    exact = db.session.execute(
        select(Answer.comment_hash, Answer.visit_id).where(
            Answer.comment_hash.in_(sorted({h for _q, _n, h in own if h is not None})), Answer.visit_id != visit.id)
        .order_by(Answer.visit_id).limit(MAX_COMMENTS_COMPARED))
    by_hash: dict[int, int] = {}
    for value, other in exact:
        if value is not None:
            by_hash.setdefault(value, other)
    for question, _norm, value in own:
        if value in by_hash:
            found[question] = (by_hash[value], 100)
    pending = [(q, n) for q, n, _h in own if q not in found]
    if pending and visit.visited_at is not None:
        since = visit.visited_at - timedelta(days=settings.comment_days)
        recent = db.session.execute(
            select(Answer.comment, Answer.visit_id).join(Visit, Visit.id == Answer.visit_id).where(
                or_(Visit.shopper_id == visit.shopper_id, Visit.location_id == visit.location_id),
                Visit.id != visit.id, Visit.visited_at >= since, Answer.comment.is_not(None))
            .order_by(Visit.visited_at.desc()).limit(MAX_COMMENTS_COMPARED))
        normalised = [(normalise(text), other) for text, other in recent]
        others = [(trigrams(n), v) for n, v in normalised if len(n) >= settings.comment_min_chars]
        for question, norm in pending:
            own_grams = trigrams(norm)
            best = max(((jaccard(own_grams, grams), v) for grams, v in others), default=(0.0, 0))
            if best[0] >= settings.comment_similarity:
                found[question] = (best[1], min(99, round(best[0] * 100)))
    return [_reason("comment_copied", question=q, visit=v, similarity=s) for q, (v, s) in found.items()]


def _speed_reasons(visit: Visit, answers: list[AnswerFacts], settings: RiskSettings) -> list[dict[str, Any]]:
    answered = len([a for a in answers if a.status in ("answered", "na")])
    if visit.started_at is None or visit.submitted_at is None:
        return []
    duration = (visit.submitted_at - visit.started_at).total_seconds()
    if proof.too_fast(duration, answered, settings.min_seconds_per_answer, settings.min_total_seconds):
        return [_reason("too_fast", answered=answered, seconds=round(duration),
                        per_answer=round(duration / answered, 1))]
    return []


def _window_reasons(visit: Visit) -> list[dict[str, Any]]:
    day = visit_day(visit)
    off = days_outside(day, visit.window_start, visit.window_end) if day else 0
    return [_reason("outside_window", days=off, day=day.isoformat())] if off and day else []


def _repeat_reasons(visit: Visit, settings: RiskSettings) -> list[dict[str, Any]]:
    if visit.visited_at is None:
        return []
    since = visit.visited_at - timedelta(days=REPEAT_DAYS)
    count = db.session.scalar(select(func.count()).select_from(Visit).where(
        Visit.shopper_id == visit.shopper_id, Visit.location_id == visit.location_id,
        Visit.visited_at > since, Visit.visited_at <= visit.visited_at, Visit.submitted_at.is_not(None))) or 0
    if count > settings.repeat_visits_per_90_days:
        return [_reason("repeat_visits", count=count, days=REPEAT_DAYS, limit=settings.repeat_visits_per_90_days)]
    return []


@dataclass(frozen=True)
class Risk:
    score: int
    reasons: list[dict[str, Any]]

    @property
    def related(self) -> set[int]:
        """Return the other visits the reasons point to."""
        return {r["visit"] for r in self.reasons if "visit" in r}


def assess(visit: Visit, settings: RiskSettings) -> Risk:
    """Return the risk of a stored (submitted) visit: the reasons in CODES order, each with its points.

    A signal's points count once however many of its reasons there are (three reused photos are
    one signal): the first reason of a code carries them, the others 0.
    """
    photos = _ordered_photos(visit)
    answers = [AnswerFacts(*row) for row in db.session.execute(
        select(Answer.question_id, Answer.status, Answer.comment).where(Answer.visit_id == visit.id))]
    found = [*_duplicate_reasons(visit, photos, settings), *_comment_reasons(visit, answers, settings),
             *_position_reasons(visit, settings), *_photo_reasons(visit, photos, settings),
             *_speed_reasons(visit, answers, settings), *_window_reasons(visit), *_repeat_reasons(visit, settings)]
    found.sort(key=lambda r: CODES.index(r["code"]))
    seen: set[str] = set()
    for reason in found:
        reason["points"] = 0 if reason["code"] in seen else settings.points[reason["code"]]
        seen.add(reason["code"])
    return Risk(min(100, sum(r["points"] for r in found)), found)


def store(visit: Visit, risk: Risk, now: datetime | None = None) -> None:
    """Write the risk on the visit (no commit)."""
    visit.risk_score, visit.risk_reasons, visit.risk_computed_at = risk.score, risk.reasons, now or utcnow()


def refresh(visit: Visit, settings: RiskSettings | None = None, *, related: bool = True,
            now: datetime | None = None) -> Risk | None:
    """Compute and store the risk of a handed-in visit (no commit); None for a visit never submitted.

    With `related`, the other visits its reasons point to are remembered on the session, for
    `refresh_related()` to recompute (not further) once this transaction has committed, so that a reused
    photo or copied comment shows on both visits.
    """
    if visit.submitted_at is None:
        return None
    settings = settings or RiskSettings.current()
    db.session.flush()
    risk = assess(visit, settings)
    store(visit, risk, now)
    if related and risk.related:
        db.session.info.setdefault(_RELATED, set()).update(risk.related)
    return risk


_RELATED = "fieldaudit.risk_related"
#: Times a refresh of related visits is run again after PostgreSQL broke a deadlock by aborting it.
_ATTEMPTS = 3


def refresh_related(settings: RiskSettings | None = None) -> int:
    """Recompute the risk of the visits the last committed refreshes pointed to; return how many.

    One short transaction per visit, in id order, each committed: it locks one row at a time, so it
    never holds a row another one waits for while waiting itself. Call it after the commit.
    """
    ids = sorted(db.session.info.pop(_RELATED, set()))
    settings = settings or RiskSettings.current()
    for visit_id in ids:
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                visit = db.session.get(Visit, visit_id)
                if visit is not None:
                    refresh(visit, settings, related=False)
                db.session.commit()
                break
            except OperationalError as error:
                db.session.rollback()
                if getattr(error.orig, "sqlstate", None) not in ("40P01", "40001") or attempt == _ATTEMPTS:
                    raise
    return len(ids)


# -- for people -------------------------------------------------------------------------------------


def level(score: int | None, settings: RiskSettings) -> str | None:
    """Return "high", "medium", "low" (some points) or "none"; None when not computed."""
    if score is None:
        return None
    if score >= settings.high:
        return "high"
    if score >= settings.medium:
        return "medium"
    return "low" if score > 0 else "none"


#: The levels a list of visits can be filtered by. "low" is everything under the medium mark, visits with no signal
#: at all included: what a reviewer asks for is "not worth a second look", not "some points".
FILTER_LEVELS = ("high", "medium", "low")


def level_condition(level_name: str, settings: RiskSettings) -> ColumnElement[bool]:
    """Return the SQL condition on Visit.risk_score that keeps one of FILTER_LEVELS (never a visit not computed).

    :raise ValueError: for another level.
    """
    score = Visit.risk_score
    if level_name == "high":
        return score >= settings.high
    if level_name == "medium":
        return and_(score >= settings.medium, score < settings.high)
    if level_name == "low":
        return and_(score.is_not(None), score < settings.medium)
    raise ValueError(f"no risk level {level_name!r} to filter by")


@dataclass(frozen=True)
class ReasonView:
    """One reason as the reviewer reads it, with the other visit to link to when the reader may see it."""

    code: str
    text: str
    points: int
    link_visit_id: int | None = None


def _km(metres: float) -> str:
    if metres >= 1000:
        return _("%(km)s km", km=format_decimal(round(metres / 1000, 1)))
    return _("%(m)s m", m=format_decimal(round(metres)))


def _duration(minutes: float) -> str:
    if minutes >= 2 * 24 * 60:
        days = round(minutes / (24 * 60))
        return ngettext("%(num)d day", "%(num)d days", days)
    if minutes >= 120:
        hours = round(minutes / 60)
        return ngettext("%(num)d hour", "%(num)d hours", hours)
    return ngettext("%(num)d minute", "%(num)d minutes", round(minutes))


def _photo(reason: Mapping[str, Any], visit: Visit) -> str:
    checklist = visit.checklist
    qid = reason.get("question", "")
    title = checklist.question(qid).text if qid and checklist.has_question(qid) else ""
    if title:
        return _("Photo %(n)s (%(question)s)", n=reason.get("photo"), question=title)
    return _("Photo %(n)s", n=reason.get("photo"))


def _other(reason: Mapping[str, Any], others: Mapping[int, Visit]) -> tuple[str, int | None]:
    """Return the other visit as words, and its id when the reader may see it."""
    other = others.get(reason.get("visit", 0))
    if other is None:
        return _("another visit outside your regions"), None
    when = format_date(visit_day(other), "d MMM yyyy", locale=get_locale()) if other.visited_at else "—"
    return _("visit #%(id)s (%(location)s, %(date)s)", id=other.id, location=other.location.name, date=when), other.id


def reason_text(reason: Mapping[str, Any], visit: Visit, others: Mapping[int, Visit]) -> tuple[str, int | None]:
    """Return a reason in the reader's language, and the id of the other visit to link to (when visible)."""
    code = reason.get("code")
    if code == "start_far":
        return _("Started %(distance)s from the location.", distance=_km(reason["distance_m"])), None
    if code == "submit_far":
        return _("Submitted %(distance)s from the location.", distance=_km(reason["distance_m"])), None
    if code == "photo_before_start":
        text = _("%(photo)s was taken %(time)s before the visit started.", photo=_photo(reason, visit),
                 time=_duration(reason["minutes"]))
        if reason.get("clock") != "exif":
            text = _("%(photo)s was attached %(time)s before the visit started.", photo=_photo(reason, visit),
                     time=_duration(reason["minutes"]))
        return text, None
    if code == "photo_far":
        return _("%(photo)s was taken %(distance)s from the location.", photo=_photo(reason, visit),
                 distance=_km(reason["distance_m"])), None
    if code == "photo_from_gallery":
        return _("%(photo)s was chosen from the gallery and records no capture time.",
                 photo=_photo(reason, visit)), None
    if code == "photo_duplicate":
        words, link = _other(reason, others)
        if reason.get("distance") == 0:
            return _("%(photo)s is the same picture as a photo of %(other)s.", photo=_photo(reason, visit),
                     other=words), link
        return _("%(photo)s is near-identical to a photo of %(other)s.", photo=_photo(reason, visit),
                 other=words), link
    if code == "comment_copied":
        words, link = _other(reason, others)
        checklist = visit.checklist
        qid = reason.get("question", "")
        question = checklist.question(qid).text if qid and checklist.has_question(qid) else qid
        if reason.get("similarity", 100) >= 100:
            return _("The comment on “%(question)s” is the same as one in %(other)s.", question=question,
                     other=words), link
        return _("The comment on “%(question)s” is %(similarity)s%% similar to one in %(other)s.",
                 question=question, similarity=reason.get("similarity"), other=words), link
    if code == "too_fast":
        return ngettext("%(num)d answer in %(seconds)s s: %(per)s s per answer.",
                        "%(num)d answers in %(seconds)s s: %(per)s s per answer.", reason["answered"],
                        seconds=reason["seconds"], per=format_decimal(reason["per_answer"])), None
    if code == "outside_window":
        days = int(reason["days"])
        if days < 0:
            return ngettext("Visited %(num)d day before its window opened.",
                            "Visited %(num)d days before its window opened.", -days), None
        return ngettext("Visited %(num)d day after its window closed.",
                        "Visited %(num)d days after its window closed.", days), None
    if code == "repeat_visits":
        return _("This shopper's visit no. %(count)s to this location in %(days)s days (the programme allows "
                 "%(limit)s).", count=reason["count"], days=reason["days"], limit=reason["limit"]), None
    return str(code), None


def explain(visit: Visit, viewer: User) -> list[ReasonView]:
    """Return the visit's reasons for `viewer`, with links only to the other visits the viewer may see."""
    reasons = visit.risk_reasons or []
    ids = sorted({r["visit"] for r in reasons if isinstance(r.get("visit"), int)})
    others = {}
    if ids:
        for other in db.session.scalars(select(Visit).where(Visit.id.in_(ids))):
            if can_see_visit(viewer, other):
                others[other.id] = other
    views = []
    for reason in reasons:
        text, link = reason_text(reason, visit, others)
        views.append(ReasonView(str(reason.get("code")), text, int(reason.get("points", 0)), link))
    return views
