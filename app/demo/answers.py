"""Believable answers to any checklist for a visit of a given quality (0 = awful, 1 = perfect).

Only the shape of the answers is made up here; the score always comes from app.scoring.
"""
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from app.checklists.questions import BaseQuestion, PhotoQuestion
from app.checklists.schema import Checklist
from app.demo.content import COMMENT_DETAILS, FAIL_COMMENTS, TEXTS
from app.scoring import visible_questions
from app.visits.risk import RiskSettings, normalise, similarity

#: Unscored questions that steer show_if: how often the answer is "yes".
YES_RATES = {"purchased": 0.75, "insurance_offered": 0.4, "put_on_hold": 0.35}
#: Plausible ranges of unscored numbers.
NUMBER_RANGES = {"staff_on_floor": (1, 5), "people_waiting": (0, 12), "options_count": (1, 4)}
NA_RATE = 0.08


def clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    """Return value limited to [low, high]."""
    return max(low, min(high, value))


def language_of(checklist: Checklist) -> str:
    """Return "ru" when the checklist is written in Cyrillic, else "en"."""
    text = checklist.title + "".join(q.text for q in checklist.questions[:5])
    return "ru" if any("а" <= ch.lower() <= "я" for ch in text) else "en"


@dataclass
class Draw:
    """The demo's odds for one question (see DemoDraw); the question type draws the value."""

    rng: random.Random
    good: float
    yes_rate: float
    number_range: tuple[int, int]
    text: Callable[[BaseQuestion], str]
    photos: Callable[[PhotoQuestion, int], list[str]]


class AnswerMaker:
    """Makes the answers of one checklist; `weak` questions fail more often at a location."""

    def __init__(self, checklist: Checklist, rng: random.Random) -> None:
        self.checklist = checklist
        self.rng = rng
        self.language = language_of(checklist)

    def pick(self, pool: dict[str, dict[str, list[str]]], key: str) -> str:
        """Return a text from pool[language][key], else from its "*" entry."""
        texts = pool[self.language]
        return self.rng.choice(texts.get(key) or texts["*"])

    def make(self, quality: float, weak: set[str],
             photos: Callable[[PhotoQuestion, int], list[str]]) -> dict[str, Any]:
        """Return raw answers (value or {"value", "comment"}) for the questions a visit would show.

        `photos(question, count)` returns the ids of that many stored photos for a photo question.
        """
        values = {q.id: self.value(q, quality, weak, photos) for q in self.checklist.questions}
        visible = visible_questions(self.checklist, values)
        answers: dict[str, Any] = {}
        for question in self.checklist.questions:
            value = values[question.id]
            if question.id not in visible or value is None:
                continue
            comment = self.comment(question, value)
            answers[question.id] = {"value": value, "comment": comment} if comment else value
        return answers

    def value(self, question: BaseQuestion, quality: float, weak: set[str],
              photos: Callable[[PhotoQuestion, int], list[str]] = lambda question, count: []) -> Any:
        """Return one answer value (None = left empty, "na" = not applicable)."""
        if question.allow_na and self.rng.random() < NA_RATE:
            return "na"
        good = clamp(quality - (0.3 if question.id in weak else 0.0), 0.03, 0.99)
        if question.critical:
            # Critical failures are rare, and rarer at good locations.
            good = 1 - (0.015 + 0.12 * (1 - quality) ** 2 + (0.08 if question.id in weak else 0.0))
        draw = Draw(self.rng, good, YES_RATES.get(question.id, 0.5), NUMBER_RANGES.get(question.id, (0, 5)),
                    lambda q: self.pick(TEXTS, q.id), photos)
        return question.demo_value(draw)

    def comment(self, question: BaseQuestion, value: Any) -> str | None:
        """Return the shopper's comment on an answer, when one is asked for or likely."""
        if question.comment == "none" or value == "na" or not question.is_scored:
            return None
        if question.needs_comment(value):
            return self.pick(FAIL_COMMENTS, question.id)
        fraction = question.fraction(value)
        if fraction is not None and fraction < 1 and self.rng.random() < 0.3:
            return self.pick(FAIL_COMMENTS, question.id)
        return None


class Comments:
    """Keeps the demo's comments each its own, as real shoppers' are: a comment that would repeat another
    visit's word for word, or nearly (the risk score's rules), gets details of its visit added."""

    def __init__(self, rng: random.Random, settings: RiskSettings) -> None:
        self.rng = rng
        self.settings = settings
        self.seen: set[str] = set()
        #: (day, shopper key, location key, normalised comment) of every comment so far.
        self.recent: list[tuple[date, str, str, str]] = []

    def _copied(self, norm: str, day: date, shopper: str, location: str) -> bool:
        if len(norm) < self.settings.comment_min_chars:
            return False
        if norm in self.seen:
            return True
        since = day - timedelta(days=self.settings.comment_days)
        return any(similarity(norm, other) >= self.settings.comment_similarity for when, s, loc, other in self.recent
                   if when >= since and (s == shopper or loc == location))

    def fresh(self, text: str, language: str, day: date, shopper: str, location: str) -> str:
        """Return `text`, with details added while it would copy another visit's comment."""
        details = list(COMMENT_DETAILS[language])
        self.rng.shuffle(details)
        while self._copied(normalise(text), day, shopper, location) and details:
            text = f"{text} {details.pop()}"
        norm = normalise(text)
        self.seen.add(norm)
        self.recent.append((day, shopper, location, norm))
        return text
