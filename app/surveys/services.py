"""Customer survey rules: the active survey, parsing answers, recording them with abuse checks.

Abuse checks never turn a real customer away: a suspicious answer is stored, flagged with the
reasons and left out of the metrics by default (queries.survey_metrics(include_flagged=False)).
Rate limits (in routes.py) are the only refusal, and they answer with a friendly page.
"""
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.datastructures import LanguageAccept

from app.extensions import db
from app.models import Location, SurveyResponse
from app.models.types import utcnow
from app.surveydefs.schema import METRIC_RANGES, Survey

#: Flag reasons, stored comma-separated in SurveyResponse.flag_reason.
HONEYPOT, TOO_FAST, NO_START, DUPLICATE = "honeypot", "too_fast", "no_start_time", "duplicate"
DEVICE_COOKIE = "fa_device"
_START_SALT = "survey-start"

def location_for_token(token: str) -> Location | None:
    """Return the active location whose public survey link ends in `token`."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(Location).where(Location.survey_token == token, Location.active.is_(True)))


def pick_language(survey: Survey, asked: str | None, accept_languages: LanguageAccept) -> str:
    """Return ?lang= when the survey has it, else the browser's best match, else the survey's first."""
    if asked in survey.languages:
        return asked
    return accept_languages.best_match(survey.languages) or survey.default_language


# -- answers ---------------------------------------------------------------------------------

@dataclass
class SurveyAnswers:
    """What one customer answered."""

    nps: int | None = None
    csat: int | None = None
    ces: int | None = None
    comment: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def canonical(self) -> str:
        """Return the answers as stable text, to recognise the same answers sent twice."""
        return json.dumps([self.nps, self.csat, self.ces, (self.comment or "").strip().lower(), self.extra],
                          sort_keys=True, ensure_ascii=False)


def parse_answers(survey: Survey, form: Mapping[str, str]) -> tuple[SurveyAnswers, dict[str, str]]:
    """Return the answers in `form` (a mapping of strings) and {field: problem} for the bad ones."""
    answers = SurveyAnswers()
    problems: dict[str, str] = {}
    for name, metric in survey.metrics.items():
        low, high = METRIC_RANGES[name]
        raw = (form.get(name) or "").strip()
        if not raw:
            if metric.required:
                problems[name] = _("Please choose an answer.")
            continue
        if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
            problems[name] = _("Please choose a number from %(low)d to %(high)d.", low=low, high=high)
            continue
        setattr(answers, name, int(raw))
    if survey.why is not None:
        comment = (form.get("why") or "").strip()
        if len(comment) > survey.why.max_length:
            problems["why"] = _("Please keep it under %(n)d characters.", n=survey.why.max_length)
        answers.comment = comment or None
    for question in survey.questions:
        raw = (form.get(f"q_{question.id}") or "").strip()
        allowed = question.answer_values()
        if not raw:
            if question.required:
                problems[f"q_{question.id}"] = _("Please choose an answer.")
        elif allowed is not None and raw not in allowed:
            problems[f"q_{question.id}"] = _("Please choose one of the answers.")
        elif allowed is None and len(raw) > (question.max_length or 1000):
            problems[f"q_{question.id}"] = _("Please keep it under %(n)d characters.", n=question.max_length or 1000)
        else:
            answers.extra[question.id] = raw
    if not problems and answers.nps is None and answers.csat is None and answers.ces is None:
        first = survey.metrics.items()[0][0]
        problems[first] = _("Please answer at least one question.")
    return answers, problems


# -- abuse checks ----------------------------------------------------------------------------

def secret_hash(purpose: str, value: str | None) -> str | None:
    """Return an HMAC of `value` with the secret key, so raw IPs and device ids are never stored."""
    if not value:
        return None
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_START_SALT)


def start_stamp(location_id: int) -> str:
    """Return the signed "form shown at" value for the hidden field of the survey form."""
    return _serializer().dumps(location_id)


def fill_seconds(stamp: str | None, location_id: int, now: datetime | None = None) -> int | None:
    """Return the seconds since `stamp` was issued for this location, or None if it is missing or forged."""
    if not stamp:
        return None
    try:
        signed_for, issued = _serializer().loads(stamp, return_timestamp=True)
    except (BadSignature, ValueError, TypeError):
        return None
    if signed_for != location_id:
        return None
    return max(0, int(((now or utcnow()) - issued).total_seconds()))


@dataclass(frozen=True)
class Submission:
    """Where a web answer came from: signals for the abuse checks, none of them stored raw."""

    device_id: str | None
    ip: str | None
    started: str | None
    honeypot: str | None
    language: str | None


def record_response(survey: Survey, location: Location, answers: SurveyAnswers, submission: Submission,
                    now: datetime | None = None) -> SurveyResponse:
    """Store a customer's answers (not committed), flagged when they look automated or repeated."""
    now = now or utcnow()
    config = current_app.config
    reasons: list[str] = []
    if (submission.honeypot or "").strip():
        reasons.append(HONEYPOT)
    seconds = fill_seconds(submission.started, location.id, now)
    if seconds is None:
        reasons.append(NO_START)
    elif seconds < config.get("SURVEY_MIN_FILL_SECONDS", 3):
        reasons.append(TOO_FAST)
    device_hash = secret_hash("device", submission.device_id)
    ip_hash = secret_hash("ip", submission.ip)
    who = device_hash or ip_hash or "-"
    fingerprint = secret_hash("answers", f"{who}|{location.id}|{answers.canonical()}")
    window = timedelta(hours=config.get("SURVEY_DUPLICATE_HOURS", 24))
    repeated = db.session.scalar(
        select(SurveyResponse.id).where(
            SurveyResponse.fingerprint == fingerprint, SurveyResponse.submitted_at >= now - window,
        ).limit(1)
    )
    if repeated is not None:
        reasons.append(DUPLICATE)
    response = SurveyResponse(
        location_id=location.id,
        survey_id=survey.id,
        survey_version=survey.version,
        submitted_at=now,
        nps=answers.nps,
        csat=answers.csat,
        ces=answers.ces,
        comment=answers.comment,
        extra=answers.extra,
        language=submission.language,
        source="web",
        flagged=bool(reasons),
        flag_reason=", ".join(reasons) or None,
        fingerprint=fingerprint,
        device_hash=device_hash,
        ip_hash=ip_hash,
        fill_seconds=seconds,
    )
    db.session.add(response)
    return response
