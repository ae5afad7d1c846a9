"""Believable answers to any checklist for a visit of a given quality (0 = awful, 1 = perfect).

Only the shape of the answers is made up here; the score always comes from app.scoring.
"""
import random

from app.checklists.schema import Checklist
from app.demo.content import FAIL_COMMENTS, TEXTS
from app.scoring import visible_questions

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


class AnswerMaker:
    """Makes the answers of one checklist; `weak` questions fail more often at a location."""

    def __init__(self, checklist: Checklist, rng: random.Random):
        self.checklist = checklist
        self.rng = rng
        self.language = language_of(checklist)

    def pick(self, pool: dict, key: str) -> str:
        """Return a text from pool[language][key], else from its "*" entry."""
        texts = pool[self.language]
        return self.rng.choice(texts.get(key) or texts["*"])

    def make(self, quality: float, weak: set[str], photos) -> dict:
        """Return raw answers (value or {"value", "comment"}) for the questions a visit would show.

        `photos(question, count)` returns the ids of that many stored photos for a photo question.
        """
        values = {q.id: self.value(q, quality, weak) for q in self.checklist.questions}
        visible = visible_questions(self.checklist, values)
        answers = {}
        for question in self.checklist.questions:
            if question.id not in visible:
                continue
            value = values[question.id]
            if question.type == "photo":
                count = max(question.min_photos or 0, 1 if question.required or self.rng.random() < 0.5 else 0)
                if not count:
                    continue
                value = photos(question, min(count, question.max_photos))
            if value is None:
                continue
            comment = self.comment(question, value)
            answers[question.id] = {"value": value, "comment": comment} if comment else value
        return answers

    def value(self, question, quality: float, weak: set[str]):
        """Return one answer value (None = left empty, "na" = not applicable)."""
        rng = self.rng
        p = clamp(quality - (0.3 if question.id in weak else 0.0), 0.03, 0.99)
        if question.allow_na and rng.random() < NA_RATE:
            return "na"
        kind = question.type
        if kind == "yes_no":
            if not question.weight:
                return "yes" if rng.random() < YES_RATES.get(question.id, 0.5) else "no"
            if question.critical:
                # Critical failures are rare, and rarer at good locations.
                p = 1 - (0.015 + 0.12 * (1 - quality) ** 2 + (0.08 if question.id in weak else 0.0))
            good = rng.random() < p
            other = "no" if question.expected == "yes" else "yes"
            return question.expected if good else other
        if kind == "scale":
            u = clamp(rng.gauss(p, 0.18))
            return question.min + round(u * (question.max - question.min))
        if kind == "choice":
            u = clamp(rng.gauss(p, 0.2))
            return min(question.options, key=lambda o: abs(o.score - u) + rng.random() * 0.05).value
        if kind in ("duration", "number"):
            target, limit = getattr(question, "target", None), getattr(question, "limit", None)
            if target is None or limit is None:
                low, high = NUMBER_RANGES.get(question.id, (0, 5))
                return rng.randint(low, high)
            if rng.random() < p:
                value = target * rng.uniform(0.25, 1.0)
            else:
                value = target + (limit - target) * rng.uniform(0.05, 1.15)
            return max(0, round(value))
        if kind == "text":
            if question.required or rng.random() < 0.3:
                text = self.pick(TEXTS, question.id)
                max_length = getattr(question, "max_length", None)
                return text[:max_length] if max_length else text
            return None
        if kind == "photo":
            return []  # replaced by stored photo ids in make()
        return None

    def comment(self, question, value) -> str | None:
        """Return the shopper's comment on an answer, when one is asked for or likely."""
        if question.comment == "none" or value == "na" or question.type in ("text", "photo"):
            return None
        fraction = question.fraction(value) if question.is_scored else None
        failed = fraction is not None and fraction < 1
        if question.comment == "required" or (failed and question.comment == "required_on_fail"):
            return self.pick(FAIL_COMMENTS, question.id)
        if failed and self.rng.random() < 0.3:
            return self.pick(FAIL_COMMENTS, question.id)
        return None
